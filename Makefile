# The README's two commands: `make test` and `make book`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

# Data: chapters fetch what they miss into $GG_DATA_ROOT (default ~/.cache/geometry-generalization/data), from the
# official sources or from $GG_DATA_MIRROR when set (see README, "Data"); both variables pass through unchanged.

.PHONY: install lock test book run clean student chromium paper

# The environment is installed from requirements.lock: the exact versions pip-compile resolved from the loose
# requirements.txt (and that CI tested). After editing requirements.txt, run `make lock` and commit both files.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.lock
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

## regenerate requirements.lock from requirements.txt (pip-tools; keeps the current pins where they still fit)
lock: install
	$(PY) -m pip install "pip-tools>=7.4"
	$(PY) -m piptools compile --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock requirements.txt

## unit tests of lib + every chapter at the smoke profile (papermill) + the strict book build
test: install
	$(PY) -m pytest

## every chapter at the book profile (each first fetches the data it is missing), then the HTML book in _build/html
book: install
	$(PY) -m lib run all --profile book
	$(PY) -m lib build

## one chapter at the paper profile: make paper CH=5 [YES=1] [ARGS="-p workers=2"]; its results and tables go to
## book/results/chNN/paper/ for commit (a GPU is expected: without one it stops and says the cost, unless YES=1)
paper: install
	@test -n "$(CH)" || { echo "usage: make paper CH=<chapter number> [YES=1] [ARGS='-p name=value']"; exit 2; }
	$(PY) -m lib run $(CH) --profile paper $(if $(YES),--yes) $(ARGS)

## the student edition of the executed book: every exercise, no solution (in _build/student/_build/html)
student: install
	$(PY) -m lib build --student

clean:
	rm -rf _build book/chapters .cache/results
