# Steward: `make demo` serves the demo on the embedded default, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deps-stamp
# Everything the build and the tests need on a bare Debian/Ubuntu machine: a compiler and the
# Python headers (python-ldap builds from source), the venv module, the PostgreSQL client tools
# (the backup/restore test calls pg_dump), and what the tests start or drive themselves (nginx
# and openssl: the example site in deploy/nginx/ is run in front of gunicorn).
SYSTEM_PACKAGES := build-essential python3-dev python3-venv postgresql-client \
	graphviz chromium libldap2-dev libsasl2-dev slapd ldap-utils \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils redis-server \
	nginx openssl xmlsec1 rabbitmq-server
PG_URL ?= postgres://postgres@127.0.0.1:5432/steward
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo serve test system-deps deps lint test-postgres test-sqlite bench-lineage bench-ingest bench-scale bench-registry clean

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[demo,test]'
	$(PY) -m pip install -q -e ./client
	touch $(STAMP)

deps: system-deps $(STAMP)

demo: deps
	STEWARD_DEMO=true $(PY) manage.py migrate --noinput
	STEWARD_DEMO=true $(PY) manage.py collectstatic --noinput -v0
	STEWARD_DEMO=true $(PY) manage.py seed_demo
	@echo
	@echo "Steward demo: http://$(HOST):$(PORT)/  (admin console: /admin/, API: /api/docs/)"
	@echo "Demo users: admin, contributor, validator, validator2, manager, auditor, outsider, gateway"
	@echo "Password for every demo user: steward-demo (exists only in demo mode)"
	@echo "Python client (steward_client, the steward command), pointed at the demo:"
	@echo "  export STEWARD_URL=http://$(HOST):$(PORT)"
	@echo "  $(VENV)/bin/steward login --username contributor   # password steward-demo"
	@echo
	STEWARD_DEMO=true $(PY) manage.py runserver $(HOST):$(PORT)

# Production on this machine, in the foreground (scripts/serve.py): migrations and static files,
# then gunicorn (deploy/gunicorn.conf.py), a Celery worker and Celery beat; Ctrl-C stops all three.
# Needs DATABASE_URL, REDIS_URL, STEWARD_SECRET_KEY and STEWARD_AUDIT_KEY (docs/deployment.md).
serve: deps
	HOST=$(HOST) PORT=$(PORT) $(PY) scripts/serve.py

# ruff, then bandit (fails on HIGH severity) and the dependency vulnerability audit (skips with
# its reason when the vulnerability service is unreachable): scripts/security_checks.sh.
lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	VENV=$(VENV) bash scripts/security_checks.sh

# The whole suite on PostgreSQL, then everything but the browser tests again on SQLite (the
# embedded default the demo runs on), so raw SQL is proven on both.
test: deps lint
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(VENV)/bin/pytest -p no:cacheprovider
	DATABASE_URL= $(VENV)/bin/pytest -p no:cacheprovider -m "not browser and not postgres" -q

bench-lineage: deps
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) bench/lineage.py

bench-ingest: deps
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) bench/ingest.py

# 20 million predictions over 12 months, partitioned log against a plain copy (ROWS=2000000 to
# scale down).
bench-scale: deps
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) bench/scale.py $${ROWS:+--rows $$ROWS}

# Steward under gunicorn against MLflow's server (installed in var/bench-mlflow-venv on first use).
bench-registry: deps
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) bench/registry.py

clean:
	rm -rf var test-artifacts .pytest_cache
