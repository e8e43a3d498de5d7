# newsmon: `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,postgres,redis,apprise]"
	touch $(STAMP)

install: $(STAMP)

## Serve the bundled replay of the sources on 127.0.0.1, run two crawl cycles, show alerts received.
demo: install
	$(BIN)/python -m replay.demo

## Debian's chromium and chromium-driver (and a CJK font) for the web view's browser tests: installed as root
## with apt-get where they are missing; elsewhere a note, and those tests skip (under CI=true they fail).
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-zenhei
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get install -y -q $(BROWSER_PACKAGES) || { apt-get update -q && apt-get install -y -q $(BROWSER_PACKAGES); }; } \
	    >/tmp/newsmon-browser-install.log 2>&1 \
	  || echo "could not install $(BROWSER_PACKAGES) (see /tmp/newsmon-browser-install.log): the browser tests will skip"; \
	else echo "note: chromium and chromedriver are not installed (apt-get install $(BROWSER_PACKAGES) as root): the browser tests will skip"; fi

## The whole test suite. pytest exits 5 when it collects nothing: that is a failure here.
test: install browser
	@$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

## ruff (rules in pyproject.toml); .ci/run runs it before the tests.
lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/extraction.py

clean:
	rm -rf $(VENV) data/demo.sqlite3* build *.egg-info
