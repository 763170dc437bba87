#!/usr/bin/env bash
# What `make compose-test` runs where a Docker engine exists: bring the stack up on
# Apache Kafka, check every service is ready, send claims through the containerised
# services and compare their answers with the offline engine, then run the pipeline's
# equivalence checks (the example scenario and the integration tests) on that Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."
compose="docker compose -p xsettle -f deploy/docker-compose.yml"
trap '$compose down -v' EXIT
$compose up -d --build --wait
for port in 6066 6067 6068; do
  curl -fsS "http://localhost:$port/ready" > /dev/null || { echo "service on $port not ready"; exit 1; }
done
XSETTLE_COMPOSE_STACK=localhost:29092 .venv/bin/pytest tests/integration/test_compose_stack.py -q
export KAFKA_BOOTSTRAP_SERVERS=localhost:29092
.venv/bin/xsettle settle --scenario tests/data/contract/example-scenario.yaml > /tmp/xsettle-offline.jsonl
.venv/bin/xsettle settle --scenario tests/data/contract/example-scenario.yaml --via-kafka \
  > /tmp/xsettle-kafka.jsonl
diff /tmp/xsettle-offline.jsonl /tmp/xsettle-kafka.jsonl
.venv/bin/pytest tests/integration -q
echo "compose-test: the pipeline on Apache Kafka equals the offline engine"
