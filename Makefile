# swfeed: two commands on a fresh machine with Python 3.11+ and make.
#   make run    set up, then run the main job on the bundled sample site
#   make test   set up with the test tools, then run the whole test suite
#   (make test-fast leaves out the slow daemon and delivery tests while you work)
#   make bench  run every benchmark (under three minutes on two cores)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
CONFIG ?= config/swfeed.yaml
# The sample's stories run from 2018 to 8 January 2026, so `make run` shows the digest of
# their last week, 2026-W02 (the stories of 5 and 8 January), filled in from the archive
# (a week before the first issue takes the stories published in it; older ones are left
# out as too old). A named period is sent however late.
SAMPLE_WEEK = 2026-W02

.PHONY: run serve test test-fast bench lint typecheck check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The sample config reads its unsubscribe-link secret from SWFEED_UNSUBSCRIBE_SECRET. When it
# is unset, make uses a random secret made once for this checkout and kept in the local state
# folder (var/unsubscribe-secret, readable by you alone), never a value anyone else knows.
SECRET_FILE = var/unsubscribe-secret
SWFEED  = SWFEED_UNSUBSCRIBE_SECRET="$${SWFEED_UNSUBSCRIBE_SECRET:-$$(cat $(SECRET_FILE))}" \
          $(BIN)/swfeed --config $(CONFIG)

$(SECRET_FILE):
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@.tmp
	@mv $@.tmp $@
	@echo "made a random unsubscribe-link secret in $@ (kept for later runs;" \
	      "set SWFEED_UNSUBSCRIBE_SECRET to use your own)"

run: $(VENV)/.installed $(SECRET_FILE)
	@echo "+ swfeed publish"
	@$(SWFEED) publish
	@echo "+ swfeed subscribers import config/subscribers.csv"
	@$(SWFEED) subscribers import config/subscribers.csv
	@echo "+ swfeed digest send --period $(SAMPLE_WEEK)"
	@$(SWFEED) digest send --period $(SAMPLE_WEEK)
	@echo "feeds: public/feeds/  digest archive: public/digest/  mail: var/outbox/new/"
	@[ -n "$${SWFEED_UNSUBSCRIBE_SECRET:-}" ] || \
	    echo "unsubscribe links are signed with the random secret in $(SECRET_FILE)"
	@echo "swfeed itself: SWFEED_UNSUBSCRIBE_SECRET=\$$(cat $(SECRET_FILE)) .venv/bin/swfeed status" \
	      "(README: Quick start)"

serve: $(VENV)/.installed $(SECRET_FILE)
	@$(SWFEED) serve

test: $(VENV)/.installed
	$(BIN)/python -m pytest

# While you work: everything but the slow daemon and delivery tests (real processes,
# signals, timed sends). `make test` runs them all.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow"

# Every benchmark, each printing its sides' medians and min-max (they take turns) and its
# targets. The two send benchmarks mail fewer recipients here than by default, so the whole
# set stays under ten minutes on two cores.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/fetch_nochange.py
	$(BIN)/python benchmarks/build_feeds.py
	$(BIN)/python benchmarks/serialize_feeds.py
	$(BIN)/python benchmarks/daemon_idle.py
	$(BIN)/python benchmarks/feeds_directory.py
	$(BIN)/python benchmarks/digest_render.py
	$(BIN)/python benchmarks/fetch_remote.py
	$(BIN)/python benchmarks/nesting_bomb.py
	$(BIN)/python benchmarks/stalled_clients.py
	$(BIN)/python benchmarks/send_smtp.py --recipients 1000
	$(BIN)/python benchmarks/send_dkim.py --recipients 200 --rounds 3

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) var public tests/artifacts .mypy_cache .ruff_cache .pytest_cache
