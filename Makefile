# The README's commands are the contract: `make run` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
SYSTEM_TOOLS := tesseract:tesseract-ocr pdftoppm:poppler-utils chromium:chromium pkg-config:pkg-config g++:g++
# Debian packages checked by name: ICU's headers (PyICU compiles against them: word breaks for Thai and Chinese),
# and fonts for the Thai, Bengali and CJK glyphs the browser test renders.
SYSTEM_PACKAGES := libicu-dev fonts-thai-tlwg fonts-noto-cjk fonts-beng-extra

.PHONY: install system-deps run ingest serve test bench clean

install: system-deps $(STAMP)

# Debian packages: tesseract (OCR of scanned PDFs), pdftoppm (page images for OCR), chromium (browser tests),
# pkg-config and g++ (PyICU's build), then SYSTEM_PACKAGES.
system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages:$$missing -- install them with: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi

# torch first, pinned to the CPU build on this machine's disk: any other torch pulls gigabytes of CUDA.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

ingest: install
	$(BIN)/kb ingest

serve: install
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

run: install
	$(BIN)/kb ingest
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/kb bench

clean:
	rm -rf var test-artifacts
