# oidc-core: two commands do all the set-up.
#   make serve   virtualenv + install + SQLite database with a key, demo user and client,
#                then the provider on http://127.0.0.1:8000 under gunicorn
#                (BIND=127.0.0.1:8001: another port, and the issuer follows it)
#   make test    virtualenv + test dependencies, then the test suite (SQLite by default;
#                OIDC_TEST_DATABASE_URL=postgresql://... for PostgreSQL,
#                mysql://... for MySQL or MariaDB)
#   make screenshots  the pages at desktop and phone width into docs/images (Chromium)
#   make messages  re-extract the pages' messages into the translation catalogs
#                  (oidc_core/ui/locale, docs/translations.md)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DATABASE_URL ?= sqlite:///var/oidc-core.db
BIND ?= 127.0.0.1:8000

LOCALE_DIR := oidc_core/ui/locale
# Besides _(), gettext() and N_(): the messages of PageError and error_page are shown on pages
# (tests/core/test_catalogs.py extracts with the same keywords).
MESSAGE_KEYWORDS := -k PageError -k error_page

.PHONY: serve test lint bench clean messages screenshots

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,postgresql,test,lint]'
	touch $@

serve: $(BIN)/.installed
	mkdir -p var
	OIDC_DATABASE_URL=$(DEMO_DATABASE_URL) exec $(BIN)/oidc-core serve --bind $(BIND) --demo

# The Node.js relying-party libraries (tests/interop/node) and axe-core, the accessibility
# rules of the browser tests (tests/browser/node), as their package-lock.json pins them;
# without npm their tests are skipped (CI requires them).
NODE_DEPS := tests/interop/node/node_modules/.package-lock.json \
	tests/browser/node/node_modules/.package-lock.json

%/node_modules/.package-lock.json: %/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $* --prefer-offline --no-audit --no-fund >/dev/null; \
	else echo "npm not found: the tests that need $* will be skipped"; fi

test: $(BIN)/.installed $(NODE_DEPS)
	$(BIN)/pytest $(PYTEST_ARGS)

# Every page at desktop and phone width, into docs/images (the walk of
# tests/browser/test_every_page.py, which also checks each page's accessibility).
screenshots: $(BIN)/.installed $(NODE_DEPS)
	OIDC_TEST_SCREENSHOTS=docs/images $(BIN)/pytest tests/browser/test_every_page.py \
		tests/browser/test_branding.py -q -p no:randomly

lint: $(BIN)/.installed
	$(BIN)/ruff check oidc_core adapters tests bench examples
	$(BIN)/ruff format --check oidc_core adapters tests bench examples
	$(BIN)/mypy

messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(MESSAGE_KEYWORDS) --add-location=file --sort-by-file \
		--no-wrap --project=oidc-core --copyright-holder="oidc-core contributors" \
		-o $(LOCALE_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) --no-wrap

# The benchmark (bench/README.md): wrk from the OS packages, matplotlib for the plot, the peer
# (node-oidc-provider) when npm is there.  BENCH_POSTGRESQL_URL=postgresql://... adds PostgreSQL.
bench: $(BIN)/.installed
	@command -v wrk >/dev/null || { [ "$$(id -u)" -eq 0 ] && S= || S=sudo; \
		$$S apt-get install -y -qq wrk; }
	$(BIN)/pip install --quiet 'matplotlib>=3.8'
	@if command -v npm >/dev/null; then cd bench/peers && npm ci --no-audit --no-fund --silent; \
		else echo "npm is missing: the peer (bench/peers/) is skipped"; fi
	@for peer in dot authlib; do \
		test -x bench/peers_python/.venv-$$peer/bin/gunicorn || python3 -m venv bench/peers_python/.venv-$$peer; \
		bench/peers_python/.venv-$$peer/bin/pip install --quiet -r bench/peers_python/$$peer/requirements.txt; \
	done
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/login_mfa.py

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .mypy_cache .ruff_cache tests/interop/node/node_modules \
		tests/browser/node/node_modules
