# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.cellsort-installed
RUN    ?= runs/demo

.PHONY: demo test install notebooks clean

install: $(STAMP)

# Re-install whenever the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cellsort demo --out $(RUN)

test: $(STAMP)
	$(PY) -m pytest

notebooks: $(STAMP)
	$(PY) notebooks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache
