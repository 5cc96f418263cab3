# One virtualenv, made once; `make run` and `make test` both start from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := logistics
# Two workers: one per core of the machines this runs on.
TEST_WORKERS ?= 2

.PHONY: run test lint format bench setup clean translations

# The browser suite (tests/browser) drives Debian's Chromium through Playwright and checks each
# page with axe-core from npm; Playwright's own browser download is never used.
CHROMIUM := /usr/bin/chromium
AXE := node_modules/axe-core/axe.min.js
# Workbox (npm) for the service worker: its builds are served from static/vendor (not committed).
WORKBOX_MODULES := core routing strategies background-sync
WORKBOX := $(patsubst %,static/vendor/workbox/workbox-%.prod.js,$(WORKBOX_MODULES))

# The French (and any other) catalogue is compiled by setup; the .mo files are not committed.
TRANSLATIONS := logistics/translations
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

setup: $(STAMP) $(CATALOGUES) $(CHROMIUM) $(AXE) $(WORKBOX)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@


# After marking new strings: gather them into the template and each catalogue, then translate.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
	  --no-location --no-wrap --sort-output --project aid-logistics -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap \
	  --no-fuzzy-matching --ignore-obsolete

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# Installing a system package needs root (as on CI); elsewhere say so and carry on: the
# browser tests then skip, naming what is missing. The package lists are refreshed only when
# the install fails, so a machine whose lists are current does not wait for them. Liberation
# fonts (recommended by chromium) give text the widths the tap-target sizes were measured with.
CHROMIUM_PACKAGES := chromium fonts-liberation
$(CHROMIUM):
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "$(CHROMIUM) missing: run 'apt-get install $(CHROMIUM_PACKAGES)' as root for the browser tests"; \
	else \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends $(CHROMIUM_PACKAGES) \
	  || { apt-get update && apt-get install -y --no-install-recommends $(CHROMIUM_PACKAGES); }; \
	fi

$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else \
	  echo "npm missing: install Node.js and npm for axe-core, or the browser tests skip"; \
	fi

static/vendor/workbox/%.prod.js: $(AXE)
	@mkdir -p static/vendor/workbox
	@if [ -f node_modules/$*/build/$*.prod.js ]; then cp node_modules/$*/build/$*.prod.js $@; \
	else echo "npm missing: pages work, but not offline"; fi

run: $(STAMP) $(CATALOGUES) $(WORKBOX)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	LOGISTICS_SCHEDULER=$${LOGISTICS_SCHEDULER:-inprocess} $(BIN)/flask run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The HTTP benchmark drives gunicorn with wrk (Debian package), installed as Chromium is.
WRK := /usr/bin/wrk
$(WRK):
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "$(WRK) missing: run 'apt-get install wrk' as root for the HTTP benchmark"; \
	else \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends wrk \
	  || { apt-get update && apt-get install -y --no-install-recommends wrk; }; \
	fi

bench: $(STAMP) $(WRK)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
