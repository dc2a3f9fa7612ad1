# Guanxi — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test lint bench serve clean messages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP) $@

demo: $(STAMP)
	$(BIN)/guanxi demo

serve: $(STAMP)
	$(BIN)/guanxi serve

test: $(DEVSTAMP)
	GUANXI_DATABASE_URL="$${GUANXI_TEST_DATABASE_URL:-$${GUANXI_DATABASE_URL:-}}" $(BIN)/python -m pytest --durations=15

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench docs

bench: $(DEVSTAMP)
	$(BIN)/python -m bench.run

# The README's screenshots from the demo data (needs Debian's chromium and fonts-noto-cjk).
screenshots: $(DEVSTAMP)
	$(BIN)/python docs/screenshots/take.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

# Refresh the translation catalogues from the source, then compile them (needs GNU gettext).
messages: $(DEVSTAMP)
	cd src/guanxi && ../../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete --settings=guanxi.settings --ignore='*/migrations/*'
	cd src/guanxi && ../../$(BIN)/django-admin compilemessages --settings=guanxi.settings
