# newsmon: `make demo` and `make test` each set up .venv (Python 3.11+, pip) on their own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint clean bench bench-archive fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsmon demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data/demo .pytest_cache build *.egg-info

# Every benchmark of bench/README.md, then the throughput issue's targets checked (about 15 minutes
# on 2 cores; the peers are installed in bench/.peers-venv from PyPI on first use).
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# The storage benchmark at a million articles (about 25 minutes on 2 cores).
bench-archive: $(STAMP)
	$(BIN)/python bench/archive_scale.py --articles 1000000 --bulk --no-dbstat

# The property tests with many more random examples (tests/_profiles.py; bench/FUZZ.md).
# NEWSMON_FUZZ_EXAMPLES=N sets the examples of a cheap test (default 10000).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_properties.py tests/test_urls.py tests/test_config.py \
		-k "property or never_raises" -p no:cacheprovider -p no:randomly -q --hypothesis-show-statistics
