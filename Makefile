# Quickstart targets: `make demo` and `make test` each create .venv if it is
# missing and install the package into it first. `make test` also builds
# .venv-no-tensorflow (keras, keras-hub and JAX, without TensorFlow) and runs
# the core tests there on JAX.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
NO_TF_VENV := .venv-no-tensorflow
NO_TF_STAMP := $(NO_TF_VENV)/.installed
# The tests that must pass without TensorFlow installed, on JAX.
CORE_TESTS := tests/layers tests/models tests/test_without_tensorflow.py tests/test_fingerprint.py tests/training/test_multi_process.py
NO_TF_WORKERS ?= 2

.PHONY: install test test-tensorflow test-no-tensorflow demo benchmark clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python setup.py
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

# keras-hub declares tensorflow-text as a requirement: installed without
# its dependencies, the others listed in requirements/no_tensorflow.txt.
$(NO_TF_STAMP): requirements/no_tensorflow.txt
	$(PYTHON) -m venv $(NO_TF_VENV)
	$(NO_TF_VENV)/bin/pip install --quiet --upgrade pip
	$(NO_TF_VENV)/bin/pip install --quiet -r requirements/no_tensorflow.txt
	$(NO_TF_VENV)/bin/pip install --quiet --no-deps keras-hub==0.32.0
	touch $(NO_TF_STAMP)

install: $(STAMP)

# One after the other (run at once on 2 cores they took longer: 17 min).
test: test-tensorflow test-no-tensorflow

# Everything on TensorFlow (and JAX subprocesses: backend agreement, JAX
# pretraining with data_parallel).
test-tensorflow: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadgroup --durations=20 tests

# The core on JAX, TensorFlow absent (the package is imported from here).
test-no-tensorflow: $(NO_TF_STAMP)
	KERAS_BACKEND=jax TOKDROP_EXPECT_NO_TENSORFLOW=1 \
		$(NO_TF_VENV)/bin/python -m pytest -q -n $(NO_TF_WORKERS) --dist loadgroup --durations=20 -p no:cacheprovider $(CORE_TESTS)

demo: $(STAMP)
	$(VENV)/bin/python experiments/demo.py

benchmark: $(STAMP)
	$(VENV)/bin/python benchmarks/step_time.py

clean:
	rm -rf $(VENV) $(NO_TF_VENV) *.egg-info .pytest_cache
