# The README's two commands: `make test` and `make book`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

# Data: chapters fetch what they miss into $GG_DATA_ROOT (default ~/.cache/geometry-generalization/data), from the
# official sources or from $GG_DATA_MIRROR when set (see README, "Data"); both variables pass through unchanged.

.PHONY: install test book run clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	touch $@

install: $(VENV)/.installed

## unit tests of lib + every chapter at the smoke profile (papermill) + the strict book build
test: install
	$(PY) -m pytest

## every chapter at the book profile (each first fetches the data it is missing), then the HTML book in _build/html
book: install
	$(PY) -m lib.pipeline.cli run all --profile book
	$(PY) -m lib.pipeline.cli build

clean:
	rm -rf _build book/chapters .cache/results
