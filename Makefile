# Quickstart targets: `make demo` and `make test` each create .venv if it is
# missing and install the package into it first.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install test demo benchmark clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python setup.py
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 tests

demo: $(STAMP)
	$(VENV)/bin/python experiments/demo.py

benchmark: $(STAMP)
	$(VENV)/bin/python benchmarks/step_time.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
