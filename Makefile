# favsite: `make run` starts everything, `make test` passes the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL for the second test run; skipped when it does not answer.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

# Debian packages the tests and `make run` use: an XMPP server, a real chat
# client, a browser for the end-to-end tests (and a Chinese font, so its
# screenshots show Chinese), and msgfmt for the catalogs.
SYSTEM_PACKAGES ?= prosody go-sendxmpp chromium fonts-wqy-microhei gettext

.PHONY: install system-packages run test test-sqlite test-postgres lint migrate clean compilemessages makemessages

install: system-packages $(STAMP) compilemessages

# Installs the missing ones when we may (root with apt-get); otherwise says what is missing.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "== installing Debian packages:$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null \
				|| { echo "apt-get could not install:$$missing"; exit 1; }; \
		else \
			echo "== missing Debian packages:$$missing (install them with: sudo apt-get install$$missing)"; \
		fi; \
	fi

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -r requirements-dev.txt
	@touch $@

# Translations: locale/*/LC_MESSAGES/django.po are the sources; the .mo files are built here, not committed.
compilemessages: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=staticfiles -v0

# After changing user-visible strings: refresh the catalogs, then translate the new entries.
makemessages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles --no-obsolete
	$(BIN)/python manage.py makemessages -d djangojs -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles --no-obsolete

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python -m devstack

lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

test: lint test-sqlite test-postgres

test-sqlite: install
	env -u DATABASE_URL $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(TEST_POSTGRES_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== PostgreSQL run ($(TEST_POSTGRES_URL))"; \
		DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL does not answer at $(TEST_POSTGRES_URL): PostgreSQL run skipped"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
