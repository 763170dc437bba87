"""The clearing service (清算, SETTLEMENT_RULES §6) and the reconciliation (对账)."""
