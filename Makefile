# The two commands a fresh machine needs: `make run` and `make test`.
# Both create .venv at the repo root and install the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench bench-engine demo clean browser stunnel prometheus compose-up compose-down compose-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/xsettle run

demo: $(STAMP)
	$(BIN)/xsettle run --keep-serving

test: $(STAMP) browser stunnel prometheus
	$(BIN)/ruff check .
	$(BIN)/pytest

# The dashboard's browser test uses Debian's Chromium (and CJK fonts for the region
# names); installed when missing and possible, else that one test skips with its reason.
browser:
	@{ command -v chromium && fc-list :lang=zh | grep -q .; } >/dev/null 2>&1 || \
		{ command -v apt-get >/dev/null 2>&1 && \
		[ "$$(id -u)" = 0 ] && apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1; } || \
		echo "make: Chromium is not installed; the dashboard browser test will skip"

# The TLS test puts Debian's stunnel4 in front of the embedded broker; installed when
# missing and possible, else that one test skips with its reason.
stunnel:
	@command -v stunnel4 >/dev/null 2>&1 || \
		{ command -v apt-get >/dev/null 2>&1 && \
		[ "$$(id -u)" = 0 ] && apt-get install -y -q stunnel4 >/dev/null 2>&1; } || \
		echo "make: stunnel4 is not installed; the TLS proxy test will skip"

# The monitoring test runs Debian's Prometheus against a live dashboard; installed when
# missing and possible, else that one test skips with its reason.
prometheus:
	@command -v prometheus >/dev/null 2>&1 || \
		{ command -v apt-get >/dev/null 2>&1 && \
		[ "$$(id -u)" = 0 ] && apt-get install -y -q prometheus >/dev/null 2>&1; } || \
		echo "make: prometheus is not installed; the monitoring test will skip"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-engine: $(STAMP)
	$(BIN)/xsettle bench --engine-only

bench: $(STAMP)
	$(BIN)/xsettle bench

# Apache Kafka and the services in Docker (needs a Docker engine; see README).
COMPOSE := docker compose -p xsettle -f deploy/docker-compose.yml

compose-up:
	$(COMPOSE) up -d --build --wait

compose-down:
	$(COMPOSE) down -v

compose-test: $(STAMP)
	deploy/compose-test.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis artifacts
