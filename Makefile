# autograd-lite: two commands set everything up on a fresh machine.
#   make demo   train a network, check every derivation, draw the graphs
#   make test   the whole test suite (what CI runs)
# Both create .venv when missing and install what they need.
#   make lab    open the lessons (notebooks/) in JupyterLab, installed into .venv on first use

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
OUT    ?= autograd-lite-out

.PHONY: demo test lint format bench docs dot browser tools torch-oracle notebooks lab clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[dev,bench,data,lab]"
	@touch $@

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[data]"
	@touch $@

$(VENV)/.installed-lab: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[lab]"
	@touch $@

# What the system must provide, as Debian packages: Graphviz's `dot` draws the graphs
# (demo, docs, notebooks, tests); headless Chromium and chromedriver run the player's tests in
# a real browser. $(call system_packages,NEEDS) checks each of NEEDS (dot, browser); when some
# are missing and we are root it says once, in one line, what it installs and why, then runs
# apt-get once; otherwise it prints the command to install them (what needs them then skips).
APT_GET ?= apt-get
define system_packages
missing=; why=; \
for need in $(1); do \
  case $$need in \
    dot) command -v dot >/dev/null 2>&1 || { \
      missing="$$missing graphviz"; why="$$why; graphviz: Graphviz's dot draws the computation graphs"; } ;; \
    browser) { command -v chromedriver >/dev/null 2>&1 && \
      { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }; } || { \
      missing="$$missing chromium chromium-driver"; \
      why="$$why; chromium chromium-driver: the player's tests run in a real headless browser"; } ;; \
  esac; \
done; \
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
  echo "Installing Debian packages with $(APT_GET) (as root):$$missing ($${why#; })"; \
  DEBIAN_FRONTEND=noninteractive $(APT_GET) update -qq && \
  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing >/dev/null; \
else \
  echo "Missing:$$missing ($${why#; }); what needs them will skip. Install them with:"; \
  echo "  sudo apt-get install$$missing   (Debian/Ubuntu)"; \
  case "$$missing" in *graphviz*) \
    echo "  brew install graphviz   or   conda install -c conda-forge graphviz   (dot only)";; \
  esac; \
fi
endef

dot:
	@$(call system_packages,dot)

browser:
	@$(call system_packages,browser)

# Everything `make test` needs from the system, checked (and installed) together.
tools:
	@$(call system_packages,dot browser)

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

test: $(VENV)/.installed-dev tools torch-oracle
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n auto --dist loadgroup -q

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-dev torch-oracle browser
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_import.py
	$(PY) benchmarks/bench_compile.py
	$(PY) benchmarks/bench_player.py
	$(PY) benchmarks/bench_playground.py
	$(PY) benchmarks/bench_network.py

# Regenerate the pictures the README shows.
docs: $(VENV)/.installed dot
	$(VENV)/bin/autograd-lite demo --out docs --no-check
	$(VENV)/bin/autograd-lite graph 'tanh(x1*w1 + x2*w2 + b)' x1=2 w1=-3 x2=0 w2=1 \
	  b=6.881373587019543 -o docs/tanh_neuron.svg

# Rebuild the teaching notebooks from notebooks/src/ (runs each one and stores its outputs).
notebooks: $(VENV)/.installed-dev dot
	$(PY) notebooks/build.py

# Open the lessons in JupyterLab (the `lab` extra, with jupytext so that saving a notebook
# also updates its source in notebooks/src/). Serves the repository (so the lessons' links
# to docs/ work) and opens notebooks/. First signs the lessons as trusted, so their stored
# graphs and players show before a cell is run; notebooks/jupyter_lab_config.py saves a
# lesson in the form `make notebooks` stores. Prints the URL to open, with a fresh login
# token; starts no browser on a machine without a display (a server: forward the port,
# ssh -L 8888:localhost:8888 host, or pass LAB_ARGS=--ip=0.0.0.0); --allow-root as root.
#   LAB_PORT=8888  LAB_ARGS=...  LAB_TOKEN=...
#   LAB_DRY_RUN=1  print the commands instead of running them
LAB_PORT ?= 8888
LAB_ARGS ?=
lab:
	@token=$${LAB_TOKEN:-$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}; \
	browser=; \
	if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$(uname -s)" != Darwin ]; then browser=" --no-browser"; fi; \
	if [ "$$(id -u)" = 0 ]; then browser="$$browser --allow-root"; fi; \
	install="$(MAKE) -s $(VENV)/.installed-lab"; \
	trust="$(PY) notebooks/build.py --trust"; \
	cmd="$(VENV)/bin/jupyter lab --config=notebooks/jupyter_lab_config.py --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks --ServerApp.port=$(LAB_PORT) --ServerApp.port_retries=0$$browser$(if $(LAB_ARGS), $(LAB_ARGS))"; \
	url="http://localhost:$(LAB_PORT)/lab/tree/notebooks?token=$$token"; \
	if [ -n "$(LAB_DRY_RUN)" ]; then \
	  echo "$$install"; echo "$$trust"; echo "JUPYTER_TOKEN=$$token $$cmd"; echo "JupyterLab: $$url"; exit 0; \
	fi; \
	$$install --no-print-directory || exit $$?; \
	$$trust || exit $$?; \
	echo "JupyterLab on notebooks/ at $$url  (Ctrl-C stops it)"; \
	JUPYTER_TOKEN=$$token exec $$cmd

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache .hypothesis
