# Latent Markets: `make book` builds the site, `make test` runs every test; both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BUILD_FLAGS := -W -n --keep-going
SMOKE := _build/smoke
# The browser stage drives Debian's Chromium; CHROMIUM=/path/to/chromium uses another build.
export CHROMIUM ?= /usr/bin/chromium

# The stages that run many kernels or tests at once: a pytest-xdist worker per core, each pinned to
# one thread of torch, BLAS, joblib and numba (helpers/threads.py) so that the workers do not fight over the cores.
PARALLEL := -n auto
ONE_THREAD := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 LOKY_MAX_CPU_COUNT=1 NUMBA_NUM_THREADS=1

# Progress bars are for people at a notebook, not for logs and built pages.
export TQDM_DISABLE := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test lint unit notebooks site browser rerun sweep bench numbers clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable ".[book,test]"
	touch $@

# Jupyter Book keys a chapter's execution by its own text and Sphinx re-reads only changed pages:
# book/_ext/fresh_chapters.py also executes again each chapter whose helpers changed or whose
# last execution failed, and only those. helpers.execute runs those chapters first, in parallel
# (BOOK_WORKERS, a worker per core by default), and the build reads them from the cache.
BOOK_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
book: $(INSTALLED)  ## execute every chapter and build the site into _build/html
	$(BIN)/python -m helpers.execute . --workers $(BOOK_WORKERS)
	$(BIN)/jupyter-book build . --builder html $(BUILD_FLAGS)

STAGES := lint unit notebooks book browser
test: $(CHROMIUM) $(INSTALLED)  ## the whole suite, stage by stage, failing on the first failure; prints each stage's time
	@started=$$(date +%s); for stage in $(STAGES); do \
		begun=$$(date +%s); $(MAKE) --no-print-directory $$stage || exit 1; \
		echo "make test: stage $$stage took $$(( $$(date +%s) - begun )) s"; \
	done; echo "make test: all stages took $$(( $$(date +%s) - started )) s"

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
	$(ONE_THREAD) $(BIN)/python -m pytest $(PARALLEL) --dist loadscope tests -m "not browser and not documented and not built and not smoke"

# Every chapter on every source; yfinance answers from the test suite's stand-in, never the
# network, and its downloads and stages are cached apart (helpers.cache).
SMOKE_SOURCES := bundled synthetic yfinance csv
STANDIN := LATENT_MARKETS_YFINANCE_DOWNLOAD=tests.yfinance_standin:download PYTHONPATH=$(CURDIR)

# The chapters run in parallel, a notebook's cells in order in one kernel (--dist loadfile); on the
# synthetic source each chapter ends with its injected result (tests/injections.py).
notebooks: $(INSTALLED)  ## every chapter on every source at smoke sizes, checked by nbval; every documented rerun; injected results
	rm -rf $(SMOKE)
	for source in $(SMOKE_SOURCES); do \
		$(STANDIN) $(BIN)/python -m tests.prepare_smoke $(SMOKE)/$$source --source $$source || exit 1; \
	done
	$(STANDIN) $(ONE_THREAD) $(BIN)/python -m pytest $(PARALLEL) --dist loadfile --nbval-lax --nbval-current-env \
		-p no:cacheprovider $(SMOKE)
	$(STANDIN) $(ONE_THREAD) $(BIN)/python -m pytest $(PARALLEL) --dist loadgroup tests -m "documented or smoke"

browser: $(INSTALLED)  ## headless Chromium over every page of _build/html, and checks of the executed chapters
	$(BIN)/python -m pytest tests -m "browser or built"

RERUNS ?= _build/reruns
rerun: $(INSTALLED)  ## make rerun NB=notebooks/01_data.md ARGS="-p source synthetic -p seed 7" [RERUNS=folder]
	@test -n "$(NB)" || { echo 'usage: make rerun NB=notebooks/01_data.md ARGS="-p seed 7"'; exit 2; }
	@$(BIN)/python -m helpers.rerun $(NB) $(ARGS)
	@mkdir -p $(RERUNS)
	$(BIN)/jupytext --quiet --to ipynb --output $(RERUNS)/$(notdir $(basename $(NB))).input.ipynb $(NB)
	$(BIN)/papermill --cwd notebooks $(RERUNS)/$(notdir $(basename $(NB))).input.ipynb \
		$(RERUNS)/$(notdir $(basename $(NB))).ipynb $(ARGS)
	@echo "executed notebook: $(RERUNS)/$(notdir $(basename $(NB))).ipynb"

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
