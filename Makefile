# newsmon: `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,postgres,redis,apprise]"
	touch $(STAMP)

install: $(STAMP)

## Serve the bundled replay of the sources on 127.0.0.1, run two crawl cycles, show alerts received.
demo: install
	$(BIN)/python -m replay.demo

## The whole test suite. pytest exits 5 when it collects nothing: that is a failure here.
test: install
	@$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

## ruff (rules in pyproject.toml); .ci/run runs it before the tests.
lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/extraction.py

clean:
	rm -rf $(VENV) data/demo.sqlite3* build *.egg-info
