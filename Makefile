# The README's two commands: `make test` and `make book`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

# Data: chapters fetch what they miss into $GG_DATA_ROOT (default ~/.cache/geometry-generalization/data), from the
# official sources or from $GG_DATA_MIRROR when set (see README, "Data"); both variables pass through unchanged.

.PHONY: install lock test book run clean

# The environment is installed from requirements.lock: the exact versions pip-compile resolved from the loose
# requirements.txt (and that CI tested). After editing requirements.txt, run `make lock` and commit both files.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.lock
	$(PY) -m pip install --no-deps -e .
	touch $@

install: $(VENV)/.installed

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
	$(PY) -m lib.pipeline.cli run all --profile book
	$(PY) -m lib.pipeline.cli build

clean:
	rm -rf _build book/chapters .cache/results
