# Hookline: `make run` and `make test` work from a fresh clone.
# The distribution's Python 3.11 when it can make a venv: Debian's binary has
# libpython linked in and optimised builds, where pyenv's default build goes
# through a shared libpython; the same server spends ~20 % less CPU per
# webhook on it (README, "Hot paths"). Any python3 >= 3.11 otherwise.
PYTHON ?= $(firstword $(foreach p,/usr/bin/python3.11 python3,$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import ensurepip, sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $(p))))
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
SECRET_FILE := .secret_key

.PHONY: run test install install-test services browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# One random key per checkout: signing secrets are encrypted with it, so it
# must survive restarts of `make run`.
$(SECRET_FILE):
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

run: install $(SECRET_FILE)
	@export DEBUG=$${DEBUG:-1} SECRET_KEY=$${SECRET_KEY:-$$(cat $(SECRET_FILE))} \
	  ALLOW_PRIVATE_DESTINATIONS=$${ALLOW_PRIVATE_DESTINATIONS:-1} PORT=$(PORT); \
	$(BIN)/python manage.py migrate --noinput -v 0 && exec $(BIN)/python -m config.run

# PostgreSQL and Redis are started by the machine; start them if they are down.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "PostgreSQL or Redis did not start" >&2; exit 1

# Debian's Chromium for the browser tests; a no-op when it is there.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install-test services browser
	@$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

bench: install-test services
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) staticfiles db.sqlite3*
