# The two commands of the README. Both run the idempotent setup first.
SHELL := /bin/bash
VENV := .venv/bin
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(VENV):$(PATH)

.PHONY: setup run test unit integration lint format

setup:
	@scripts/setup.sh

# The main job: a full rehearsal of a merger on its lab twin, with the report.
MERGER ?= quangngai-kontum
REHEARSE_ARGS ?=
run: setup
	@cutover rehearse $(MERGER) $(REHEARSE_ARGS)

test: setup lint
	@$(VENV)/pytest tests

unit: setup
	@$(VENV)/pytest tests/unit

integration: setup
	@$(VENV)/pytest tests/integration

lint: setup
	@$(VENV)/ruff check cutover stacks tests bench
	@$(VENV)/ruff format --check cutover stacks tests bench
	@$(VENV)/mypy cutover stacks bench
	@$(VENV)/lint-imports --no-cache
	@$(VENV)/yamllint -s $$(ls -d playbooks inventories stacks Pulumi.yaml .yamllint 2>/dev/null)
	@if [ -n "$$(find playbooks -name '*.yml' -print -quit)" ]; then \
		$(VENV)/ansible-lint -q --profile production playbooks; fi

format: setup
	@$(VENV)/ruff format cutover stacks tests
	@$(VENV)/ruff check --fix cutover stacks tests
