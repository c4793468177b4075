# Two commands for a new user: `make run` (dashboard) and `make test` (every test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
WORKERS ?= 2

.PHONY: run serve test lint data bench clean

run: $(VENV)/.installed
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

# A lab's own server: WORKERS Streamlit processes behind nginx (sticky by cookie) on PORT; Ctrl+C stops all.
serve: $(VENV)/.installed
	$(PY) deploy/serve.py --workers $(WORKERS) --port $(PORT) $(SERVE_ARGS)

test: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

data: $(VENV)/.installed
	$(PY) -m rankl_atlas.build

bench: $(VENV)/.installed-test
	$(PY) benchmarks/run.py
	for t in "benchmarks/floor_app.py / floor" "app.py / overview" "app.py /evidence-map evidence-map"; do set -- $$t; $(PY) benchmarks/loadgen.py --app $$1 --page $$2 --label "quick $$3" --viewers 1,10,25,50,100 --reruns 5 --think 0.5 --quiet-wait 4 --budget 240 --markdown docs/load.md || exit 1; done

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "RANKL Atlas needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
