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
	$(PY) benchmarks/load_pages.py --stress-viewers 10,50,100 --markdown docs/load.md
	PYTHONPATH=src:. $(PY) benchmarks/browser_bench.py --runs 7 --changes 5
	PYTHONPATH=src:. $(PY) benchmarks/opens.py --viewers 1,20,50 --compare "--server.fileWatcherType auto"
	$(PY) benchmarks/serve_bench.py --configs "1 direct,2 nginx" --rounds 2

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
