# The README's two commands: `make test` and `make book`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

# Developers and CI keep the offline data pack beside the checkout; anyone else sets GG_DATA_ROOT (see README).
ifeq ($(GG_DATA_ROOT),)
ifneq ($(wildcard ../shared/data/MANIFEST.md),)
export GG_DATA_ROOT := $(abspath ../shared/data)
endif
endif

.PHONY: install test book run clean student chromium

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	touch $@

# The scripts the HTML book loads (MathJax, RequireJS, the ipywidgets HTML manager), pinned in package-lock.json and
# copied with their licences into book/_static/ (ignored by git), so that the book renders with no network.
ASSETS  := book/_static
WIDGETS := node_modules/@jupyter-widgets/html-manager
$(ASSETS)/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(ASSETS)/mathjax $(ASSETS)/widgets
	mkdir -p $(ASSETS)/widgets
	cp -r node_modules/mathjax/es5 $(ASSETS)/mathjax
	cp node_modules/mathjax/LICENSE $(ASSETS)/mathjax/LICENSE
	cp node_modules/requirejs/require.js $(ASSETS)/widgets/
	cp $(WIDGETS)/LICENSE $(WIDGETS)/dist/embed-amd.js $(WIDGETS)/dist/*.woff* $(WIDGETS)/dist/*.ttf \
	   $(WIDGETS)/dist/*.eot $(WIDGETS)/dist/*.svg $(ASSETS)/widgets/
	touch $@

install: $(VENV)/.installed $(ASSETS)/.installed

## Debian's Chromium for tests/test_browser.py (needs apt-get and root; elsewhere install Chromium yourself)
chromium:
	@if command -v chromium >/dev/null; then echo "chromium: $$(command -v chromium)"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "*** cannot install Chromium here (no apt-get or not root): tests/test_browser.py will be SKIPPED ***"; fi

## unit tests of lib + every chapter at the smoke profile (papermill) + the strict book build
test: install
	$(PY) -m pytest

## every chapter at the book profile, then the HTML book in _build/html
book: install
	$(PY) -m lib run all --profile book
	$(PY) -m lib build

## the student edition of the executed book: every exercise, no solution (in _build/student/_build/html)
student: install
	$(PY) -m lib build --student

clean:
	rm -rf _build book/chapters .cache/results
