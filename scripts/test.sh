#!/usr/bin/env bash
# Run the whole test suite against the real PostgreSQL, Redis and a Celery worker process.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
