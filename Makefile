# The two commands of the README: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= .local
# comfy-cli pins versions that clash with ours, so the end-to-end test runs it from its own venv.
COMFY_CLI_VENV := $(DATA_DIR)/tools/comfy-cli
COMFY_CLI_VERSION := 1.23.0
# checkov (the IaC security scan in tests/deploy) pins its own dependencies, so it has its own venv too.
CHECKOV_VENV := $(DATA_DIR)/tools/checkov
CHECKOV_VERSION := 3.3.30
# gcloud-tasks-emulator needs protobuf<5, which google-cloud-tasks cannot share: tests/billing runs it from its own venv.
TASKS_EMULATOR_VENV := $(DATA_DIR)/tools/tasks-emulator
TASKS_EMULATOR_VERSION := 0.6.2
# One pytest worker per core (each with its own throwaway PostgreSQL), and the slowest tests named at the end.
PYTEST_ARGS ?= -n auto --durations=20

.PHONY: run test venv run-venv migrate lint typecheck unit comfy-cli checkov tasks-emulator package clean

FUNCTION_REQUIREMENTS := $(wildcard functions/*/requirements.txt)

# `make run` needs only what the functions run on (requirements-local.txt); `make test` adds the test toolchain.
$(VENV)/.run-installed: requirements-local.txt $(FUNCTION_REQUIREMENTS)
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> installing what the functions run on (requirements-local.txt); on a fresh clone this takes a minute or two"
	$(PY) -m pip install --progress-bar off -r requirements-local.txt
	touch $@

$(VENV)/.installed: $(VENV)/.run-installed requirements-dev.txt
	@echo "==> installing the test toolchain (requirements-dev.txt)"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run-venv: $(VENV)/.run-installed

venv: $(VENV)/.installed

migrate: run-venv
	@echo "==> migrating the database in $(DATA_DIR)/"
	APP_ENV=local DATA_DIR=$(DATA_DIR) $(PY) -m shared.db.migrate upgrade

run: migrate
	@echo "==> serving every function (Ctrl-C stops it)"
	APP_ENV=local DATA_DIR=$(DATA_DIR) $(PY) -m local serve

$(COMFY_CLI_VENV)/.installed:
	$(PYTHON) -m venv $(COMFY_CLI_VENV)
	$(COMFY_CLI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COMFY_CLI_VENV)/bin/python -m pip install --quiet comfy-cli==$(COMFY_CLI_VERSION)
	touch $@

comfy-cli: $(COMFY_CLI_VENV)/.installed

$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

checkov: $(CHECKOV_VENV)/.installed

$(TASKS_EMULATOR_VENV)/.installed:
	$(PYTHON) -m venv $(TASKS_EMULATOR_VENV)
	$(TASKS_EMULATOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TASKS_EMULATOR_VENV)/bin/python -m pip install --quiet gcloud-tasks-emulator==$(TASKS_EMULATOR_VERSION)
	touch $@

tasks-emulator: $(TASKS_EMULATOR_VENV)/.installed

# build/<folder>/ for each function folder: what cloudbuild.yaml deploys and terraform zips for the first apply.
package: venv
	$(PY) -m tools.package

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy shared functions local tools tests bench

unit: venv comfy-cli checkov tasks-emulator
	COMFY_CLI=$(abspath $(COMFY_CLI_VENV))/bin/comfy CHECKOV=$(abspath $(CHECKOV_VENV))/bin/checkov \
		TASKS_EMULATOR=$(abspath $(TASKS_EMULATOR_VENV))/bin/gcloud-tasks-emulator \
		$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build
