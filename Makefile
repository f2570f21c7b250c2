# autograd-lite: two commands set everything up on a fresh machine.
#   make demo   train a network, check every derivation, draw the graphs
#   make test   the whole test suite (what CI runs)
# Both create .venv when missing and install what they need.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
OUT    ?= autograd-lite-out

.PHONY: demo test lint format bench docs dot browser torch-oracle notebooks clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[dev,bench]"
	@touch $@

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	@touch $@

# Graphviz's `dot` renders the computation graphs. Installed when missing and we are root.
dot:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Graphviz (Debian package graphviz)..."; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	else \
	  echo "Graphviz 'dot' is missing; graph rendering will be skipped. Install it with:"; \
	  echo "  sudo apt-get install graphviz     (Debian/Ubuntu)"; \
	  echo "  brew install graphviz             (macOS)"; \
	  echo "  conda install -c conda-forge graphviz"; \
	fi

# Headless Chromium and its driver run the player's tests in a real browser.
# Installed when missing and we are root; otherwise those tests skip and say so.
browser:
	@if command -v chromedriver >/dev/null 2>&1 && \
	  { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Chromium (Debian packages chromium chromium-driver)..."; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
	  echo "Chromium or chromedriver is missing; the player's browser tests will skip. Install them with:"; \
	  echo "  sudo apt-get install chromium chromium-driver   (Debian/Ubuntu)"; \
	fi

# PyTorch is an optional second oracle. Install it only from a local CPU wheel
# (a plain `pip install torch` pulls gigabytes of CUDA); without it those tests skip.
torch-oracle: $(VENV)/.installed-dev
	@if $(PY) -c "import torch" 2>/dev/null; then :; \
	else wheel=$$(ls $${PIP_FIND_LINKS:-/opt/wheels}/torch-*+cpu-*.whl 2>/dev/null | head -n 1); \
	  if [ -n "$$wheel" ]; then echo "Installing PyTorch oracle from $$wheel"; $(PIP) install -q "$$wheel"; \
	  else echo "No local PyTorch CPU wheel: the PyTorch oracle tests will skip."; fi; \
	fi

demo: $(VENV)/.installed dot
	$(VENV)/bin/autograd-lite demo --out $(OUT)

test: $(VENV)/.installed-dev dot browser torch-oracle
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n auto -q

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_player.py

# Regenerate the pictures the README shows.
docs: $(VENV)/.installed dot
	$(VENV)/bin/autograd-lite demo --out docs --no-check

# Rebuild the teaching notebooks from notebooks/src/ (runs each one and stores its outputs).
notebooks: $(VENV)/.installed-dev dot
	$(PY) notebooks/build.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache .hypothesis
