# WGEC Report. `make` builds the report; `make test` runs the tests. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := uv==0.13.9
STAMP  := $(VENV)/.installed
SYSTEM := $(VENV)/.system-packages
NODE   := node_modules/.installed
DATA   ?= data
OUT    ?= _build
SITE   ?= $(OUT)/site
# Debian packages: Liberation/Noto fonts for the PDF engine (Typst, from PyPI; its PDF/UA-1 output
# refuses a character no font has, so emoji need Noto Color Emoji), poppler and qpdf to read
# PDFs in the tests, Chromium for the browser tests. Java and Node run the pinned HTML checker
# (vnu-jar) and axe-core from package-lock.json; they are asked for only when their commands are
# missing (a Node from elsewhere ships its own npm).
APT_PACKAGES := fonts-liberation fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
                poppler-utils qpdf chromium
APT_COMMANDS := java:default-jre-headless npm:npm
# TeX Live for the LaTeX edition only (`make pdf-latex`, and the tests): never for `make` or `make pdf`.
# texlive-xetex brings texlive-latex-extra; no texlive-fonts-extra (wgec/latex.py avoids it).
LATEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-fonts-recommended latexmk
LATEX := $(VENV)/.latex-packages

.DEFAULT_GOAL := report
.PHONY: help report html pdf pdf-latex docx refresh check publish lint test test-fast bench lock clean distclean \
        deps deps-latex lab preview

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements.lock pyproject.toml jupyter/overrides.json jupyter/jupyter_server_config.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(UV)
	@# --compile-bytecode: the libraries' bytecode written once, here. Without it each process of
	@# each build compiled Sphinx, pandas and the rest again wherever Python may not write it
	@# (PYTHONDONTWRITEBYTECODE, a read-only install): about 6 s of every build.
	$(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@# The package's own bytecode too (0.1-0.2 s of each process of a build: the build, its
	@# workers and kernels); a module edited later is compiled again as Python sees fit.
	@$(BIN)/python -m compileall -q wgec
	@# Kernels warn on every start that they use TCP on localhost: noise in build logs.
	@mkdir -p $(VENV)/etc/ipython
	@echo '{"IPKernelApp": {"log_level": "ERROR"}}' > $(VENV)/etc/ipython/ipython_kernel_config.json
	@# JupyterLab: the project's kernel under the name the notebooks ask for, and the settings in jupyter/.
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	@install -D -m 644 jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@install -D -m 644 jupyter/jupyter_server_config.json $(VENV)/etc/jupyter/jupyter_server_config.d/wgec-report.json
	@touch $@

$(SYSTEM): Makefile
	@missing=""; \
	if command -v dpkg >/dev/null; then \
	  for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages. Run:  sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi
	@mkdir -p $(VENV) && touch $@

$(LATEX): Makefile
	@missing=""; \
	if command -v dpkg >/dev/null; then \
	  for p in $(LATEX_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	elif ! command -v xelatex >/dev/null || ! command -v latexmk >/dev/null; then \
	  echo "The LaTeX edition needs TeX Live with xelatex and latexmk"; exit 1; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages for the LaTeX edition (about 110 MB to download, 350 MB installed):$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages for the LaTeX edition. Run:  sudo apt-get install --no-install-recommends$$missing"; exit 1; \
	  fi; \
	fi
	@mkdir -p $(VENV) && touch $@

# The validators the tests run (vnu-jar, axe-core), exact versions from package-lock.json. Their
# install scripts are not run: vnu-jar's would download a Java runtime, and the jar is in the package.
$(NODE): package.json package-lock.json $(SYSTEM)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(STAMP) $(SYSTEM) $(NODE)  ## create .venv and install the pinned dependencies and Debian packages

deps-latex: $(LATEX)  ## install TeX Live for the LaTeX edition (Debian packages; asked for by pdf-latex and test only)

report: deps  ## build the report: HTML book, PDF and archival PDF (the default)
	$(BIN)/wgec build --data $(DATA) --out $(OUT)

html: deps  ## build the HTML book only, into _build/html
	$(BIN)/wgec html --data $(DATA) --out $(OUT)

pdf: deps  ## build the PDF only, into _build/pdf/wgec-report.pdf
	$(BIN)/wgec pdf --data $(DATA) --out $(OUT)

pdf-latex: deps $(LATEX)  ## build the LaTeX edition of the PDF (xelatex), into _build/pdf/wgec-report-latex.pdf
	$(BIN)/wgec pdf --engine latex --data $(DATA) --out $(OUT)

docx: deps  ## build the Word edition, into _build/docx/wgec-report.docx
	$(BIN)/wgec docx --data $(DATA) --out $(OUT)

# JupyterLab on 127.0.0.1 (jupyter/jupyter_server_config.json), opened in the browser at notebooks/;
# LAB_OPTIONS passes more options, e.g. make lab LAB_OPTIONS="--port=8890 --no-browser"; LAB_ROOT
# another folder to show. Jupyter refuses to run as root unless told to: the user is root in CI.
LAB_OPTIONS ?=
LAB_ROOT ?= $(CURDIR)
lab: deps  ## open the notebooks in JupyterLab (127.0.0.1 only, the project's kernel)
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --ServerApp.root_dir="$(LAB_ROOT)" \
	  --LabApp.default_url=/lab/tree/notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_OPTIONS)

# The live preview (wgec/pipeline/preview.py); PORT=N for another port than 8000.
preview: deps  ## build, serve the book on 127.0.0.1:8000, rebuild and reload on every save (Ctrl-C stops)
	$(BIN)/wgec preview --data $(DATA) --out $(OUT) $(if $(PORT),--port $(PORT))

refresh: deps  ## re-execute exactly the notebooks whose inputs changed
	$(BIN)/wgec refresh --data $(DATA) --out $(OUT)

check: deps  ## validate the data tables and say whether the outputs are stale
	$(BIN)/wgec check --data $(DATA) --out $(OUT)

publish: report  ## build, then assemble the static site in _build/site (for any web server or GitHub Pages)
	$(BIN)/wgec publish --data $(DATA) --out $(OUT) --site $(SITE)

lint: deps  ## ruff (lint and format check) and the import-linter contract: the stages import downward only
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: deps $(LATEX) lint  ## run every test (lint, the layers contract, the book end to end, the LaTeX edition)
	$(BIN)/python -m pytest

test-fast: deps  ## run the unit tests only
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: deps  ## benchmark against stock Jupyter Book (prints figures and ratios; takes minutes)
	$(BIN)/python bench/bench.py

lock: $(STAMP)  ## re-pin requirements.lock from pyproject.toml and regenerate environment.yml
	$(BIN)/python tools/lock.py

clean:  ## remove the build outputs
	rm -rf $(OUT)

distclean: clean  ## also remove the virtual environment
	rm -rf $(VENV)
