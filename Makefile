# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make demo   -> .venv, install, write the demo briefing to out/demo/
#   make test   -> .venv, install, system tools for PDF and browser checks, the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: demo test install system-deps clean

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
# the PDF checks, and chromium, which Playwright drives for the HTML checks.
# As root they are installed here; otherwise run: sudo apt-get install poppler-utils chromium
SYSTEM_PACKAGES = $(if $(shell command -v pdftotext && command -v pdffonts),,poppler-utils) \
                  $(if $(shell command -v chromium),,chromium)
system-deps:
	@if [ -z "$(strip $(SYSTEM_PACKAGES))" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "missing: $(strip $(SYSTEM_PACKAGES)); run 'sudo apt-get install $(strip $(SYSTEM_PACKAGES))', then 'make test' again" >&2; exit 1; \
	fi

test: install system-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
