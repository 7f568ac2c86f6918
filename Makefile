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

## every chapter at the book profile, then the HTML book in _build/html
book: install
	$(PY) -m lib.pipeline.cli run all --profile book
	$(PY) -m lib.pipeline.cli build

clean:
	rm -rf _build book/chapters .cache/results
