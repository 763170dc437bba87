"""``xsettle clearing close PERIOD``: ask the clearing service to close a period.

The command is an event on the control topic, keyed by period; the service closes the
period when it reaches the event among the results (see :mod:`xsettle.clearing.app`)
and publishes the statement lines on the statement topic.
"""

import sys

from kafka import KafkaProducer

from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.records import utc_now
from ..exchange.contract.registry import registry_from_env
from ..exchange.contract.topics import Topics
from ..exchange.processes.security import client_options
from ..settings import Settings
from .location import check_period


def close_period(settings: Settings, period: str) -> int:
    check_period(period)
    topics = Topics(settings.namespace)
    producer = KafkaProducer(
        **client_options(settings),
        bootstrap_servers=settings.require_bootstrap("xsettle clearing close"),
        acks="all",
    )
    try:
        codec = AvroCodec("clearing_control", registry_from_env(settings))
        command = {"action": "CLOSE", "period": period, "requested_at": utc_now()}
        producer.send(topics.clearing_control, key=period.encode(), value=codec.encode(command))
        producer.flush()
    finally:
        producer.close()
    print(
        f"xsettle: asked the clearing service to close {period}; its statement lines go to "
        f"{topics.clearing_statements}",
        file=sys.stderr,
    )
    return 0
