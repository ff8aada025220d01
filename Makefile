# Two commands for a fresh machine: `make run` and `make test`. Everything they need is
# installed here, once; the second run reuses the venv (its stamp tracks pyproject.toml).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch is pinned to the CPU build; set TORCH_INDEX to PyTorch's CPU wheel index where pip
# cannot find torch==2.13.0+cpu on its own (this machine kind ships it on disk).
TORCH_INDEX ?=
TORCH_ARGS := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)

.PHONY: install browser postgres redis nginx run ingest test unit evals evals-corpora check audit lock bench screenshot demo train clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0" $(TORCH_ARGS)
	$(PY) -m pip install --quiet -e ".[dev,llm,postgres,openai,ollama]"
	touch $(STAMP)

# Headless Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Debian's PostgreSQL server for the question log's integration tests (they start their own
# throwaway cluster with initdb; nothing is configured system-wide).
PG_BIN ?= $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
postgres:
	@if [ -z "$(PG_BIN)" ] || [ ! -x "$(PG_BIN)/initdb" ]; then \
		echo "Installing Debian's postgresql for the question log's tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

# Debian's redis-server for the shared limits' integration tests (FAQBOT_REDIS_URL: each
# test run starts its own throwaway server on a loopback port, keeping nothing on disk).
redis:
	@if ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ]; then \
		echo "Installing Debian's redis-server for the shared limits' tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; \
	fi

# Debian's nginx for the replica topology tests (tests/topology/: nginx in front of two app
# processes); each test run writes its own config and starts its own processes on loopback
# ports, nothing is configured system-wide.
NGINX ?= $(shell command -v nginx || echo /usr/sbin/nginx)
nginx:
	@if [ ! -x "$(NGINX)" ]; then \
		echo "Installing Debian's nginx for the topology tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx >/dev/null; \
	fi

ingest: install
	$(PY) -m bot.ingest

run: install ingest
	$(PY) app.py

unit: install browser postgres redis nginx
	@set +e; FAQBOT_CHROMIUM=$(CHROMIUM) $(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

# Every suite of evals/suites.toml in one process (the model loaded once): the CPT guide and
# other institutions' pages (../shared/corpora, beside the checkout in CI; a suite whose
# corpus is absent is skipped with a message). Each suite's check half gates on its own
# thresholds; its tune half only reports. Reports: evals/reports/<suite>.{check,tune}.json,
# summary.json and junit.xml.
evals: install ingest
	$(PY) -m evals --suites evals/suites.toml --junit evals/reports/junit.xml

# Only the other institutions' suites (no `ingest` needed: each has an index of its own).
evals-corpora: install
	$(PY) -m evals --suites evals/suites.toml --only lbcc_ill cornell_cam cmu_15440 cedar_ridge \
		--junit evals/reports/junit-corpora.xml

test: unit evals

check: install audit
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check bot evals tests benchmarks tools app.py ingest.py
	$(VENV)/bin/mypy bot evals benchmarks tools app.py ingest.py
	$(VENV)/bin/lint-imports

# Known vulnerabilities in the locked dependency set (requirements.lock, from `make lock`).
audit: install
	$(PY) tools/audit.py --lock requirements.lock

lock: install
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

bench: install ingest
	$(PY) -m benchmarks

# Retrain the reader from ../shared/train/pages into bot/answer/models/reader (about 25
# minutes on 2 cores; make test never retrains it).
train: install
	$(PY) -m bot.train

screenshot: install browser ingest
	FAQBOT_CHROMIUM=$(CHROMIUM) $(PY) -m benchmarks.screenshot

# The assistant on :7860 and a demo college page on :8080 that embeds it (a second origin).
demo: install ingest
	$(PY) examples/college-site/serve.py --port 8080 --assistant http://127.0.0.1:7860 & \
	trap 'kill %1' EXIT; $(PY) app.py

clean:
	rm -rf .faqbot evals/reports/*.json evals/reports/*.xml
