# The common things, one command each. The README's quick start names `make run` and `make test`.
.PHONY: run test lint bench setup

setup:
	scripts/bootstrap.sh

run:
	scripts/run.sh

test:
	scripts/test.sh

# Formatting, lint rules, types over the whole project (django-stubs) and the import layers.
lint:
	scripts/bootstrap.sh
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/mypy .
	.venv/bin/lint-imports

bench:
	.venv/bin/python bench/engine_bench.py
	.venv/bin/python bench/dashboard_bench.py
	.venv/bin/python bench/report_bench.py
