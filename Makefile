# Latent Markets: `make book` builds the site, `make test` runs every test; both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BUILD_FLAGS := -W -n --keep-going
SMOKE := _build/smoke
# The browser stage drives Debian's Chromium; CHROMIUM=/path/to/chromium uses another build.
export CHROMIUM ?= /usr/bin/chromium

# Progress bars are for people at a notebook, not for logs and built pages.
export TQDM_DISABLE := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test lint unit notebooks site browser rerun sweep bench numbers clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable ".[book,test]"
	touch $@

# Jupyter Book keys a chapter's execution by its own text and Sphinx re-reads only changed pages:
# helpers.cache empties both caches when the helpers changed, so no chapter shows stale outputs.
book: $(INSTALLED)  ## execute every chapter and build the site into _build/html
	$(BIN)/python -m helpers.cache _build/.jupyter_cache _build/.doctrees
	$(BIN)/jupyter-book build . --builder html $(BUILD_FLAGS)

test: $(CHROMIUM) lint unit notebooks book browser  ## the whole suite, in order, failing on the first failure

# What pip cannot install: Debian's Chromium, with apt when running as root, else one clear line.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	else \
		echo "make test needs Chromium at $(CHROMIUM) for its browser stage: install Debian's package" \
			"(sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium"; \
		exit 2; \
	fi

lint: $(INSTALLED)  ## ruff over the helpers, tests, benchmarks and the book's Sphinx extensions (rules in pyproject.toml)
	$(BIN)/ruff check helpers tests bench book/_ext

unit: $(INSTALLED)
	$(BIN)/python -m pytest tests -m "not browser and not documented and not built and not smoke"

# Every chapter on every source; yfinance answers from the test suite's stand-in, never the
# network, and its downloads and stages are cached apart (helpers.cache).
SMOKE_SOURCES := bundled synthetic yfinance csv
STANDIN := LATENT_MARKETS_YFINANCE_DOWNLOAD=tests.yfinance_standin:download PYTHONPATH=$(CURDIR)

notebooks: $(INSTALLED)  ## every chapter on every source at smoke sizes, checked by nbval; every documented rerun; injected results
	rm -rf $(SMOKE)
	for source in $(SMOKE_SOURCES); do \
		$(STANDIN) $(BIN)/python -m tests.prepare_smoke $(SMOKE)/$$source --source $$source || exit 1; \
	done
	$(STANDIN) $(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider $(SMOKE)
	$(STANDIN) $(BIN)/python -m pytest tests -m "documented or smoke"

browser: $(INSTALLED)  ## headless Chromium over every page of _build/html, and checks of the executed chapters
	$(BIN)/python -m pytest tests -m "browser or built"

rerun: $(INSTALLED)  ## make rerun NB=notebooks/01_data.md ARGS="-p source synthetic -p seed 7"
	@test -n "$(NB)" || { echo 'usage: make rerun NB=notebooks/01_data.md ARGS="-p seed 7"'; exit 2; }
	@$(BIN)/python -m helpers.rerun $(NB) $(ARGS)
	@mkdir -p _build/reruns
	$(BIN)/jupytext --quiet --to ipynb --output _build/reruns/$(notdir $(basename $(NB))).input.ipynb $(NB)
	$(BIN)/papermill --cwd notebooks _build/reruns/$(notdir $(basename $(NB))).input.ipynb \
		_build/reruns/$(notdir $(basename $(NB))).ipynb $(ARGS)
	@echo "executed notebook: _build/reruns/$(notdir $(basename $(NB))).ipynb"

sweep: $(INSTALLED)  ## make sweep NB=notebooks/07_anomalies.md GRID=grid.yml [WORKERS=2] [SCHEDULER=tcp://host:8786]
	@test -n "$(NB)" -a -n "$(GRID)" || { echo 'usage: make sweep NB=notebooks/07_anomalies.md GRID=grid.yml [WORKERS=n] [SCHEDULER=address]'; exit 2; }
	$(BIN)/python -m helpers.sweep $(NB) $(GRID) $(if $(WORKERS),--workers $(WORKERS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

bench: $(INSTALLED)  ## training speed against a reference loop, the dial's time, and cold/warm book build times
	$(BIN)/python -m bench.train_speed
	$(BIN)/python -m bench.dial
	$(BIN)/python -m bench.sweep_scaling
	$(BIN)/python -m bench.book_build

numbers: $(INSTALLED)  ## every glued value of the built book in _build/numbers.csv (chapter, name, value)
	$(BIN)/python -m helpers.glued _build/jupyter_execute/notebooks _build/numbers.csv

clean:
	rm -rf _build .cache
