# The common things, one command each. The README's quick start names `make run` and `make test`.
.PHONY: run test lint bench setup

setup:
	scripts/bootstrap.sh

run:
	scripts/run.sh

test:
	scripts/test.sh

lint:
	.venv/bin/ruff format --check . && .venv/bin/ruff check . && .venv/bin/mypy ser/engine

bench:
	.venv/bin/python bench/engine_bench.py
	.venv/bin/python bench/dashboard_bench.py
