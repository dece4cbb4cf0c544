# Two commands: `make run` serves the platform at http://127.0.0.1:8000, `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint bench messages clean gallery

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo "Mitmachen runs at http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) deliberation.asgi:application

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every suite; one or several: make bench BENCH_ARGS="--suite connect" (fanout, fanout-redis,
# connect, page, page-machina), a small version of each: BENCH_ARGS=--quick. docs/PERFORMANCE.md has the rest.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Every page (visitor, member, moderator; de and en; 360 and 1280 px) to var/gallery/*.png and
# var/gallery/index.html, from a fresh demo database (tests/e2e/gallery.py).
gallery: install
	$(BIN)/python -m tests.e2e.gallery

messages: install
	$(BIN)/python manage.py makemessages -l de --no-obsolete --ignore=.venv --ignore=var
	$(BIN)/python manage.py makemessages -d djangojs -l de --no-obsolete --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
