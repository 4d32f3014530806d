#!/usr/bin/env bash
# Make this checkout ready to run and test, idempotently: Debian packages, PostgreSQL and Redis up,
# a virtual environment with the pinned requirements, the database, .env, the test checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# 1. Debian packages: ffmpeg (decoders for formats libsndfile lacks), espeak-ng (test speech),
#    chromium and its driver (browser tests), poppler-utils (report tests read PDFs back).
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v pg_isready >/dev/null || need+=(postgresql-client)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v chromium >/dev/null || need+=(chromium)          # browser tests
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v pdftoppm >/dev/null || need+=(poppler-utils)     # report tests: PDF to text and PNG
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. PostgreSQL and Redis (the machines run them; start them if they stopped).
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

# 3. Virtual environment. torch first, alone: the CPU build, not several GB of CUDA packages.
PY=${PYTHON:-python3.11}; command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || { log "creating .venv"; "$PY" -m venv .venv; }
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python packages (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# 4. Settings and database.
[ -f .env ] || { log "writing .env from .env.example"; cp .env.example .env; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='clinic'" | grep -q 1 \
  || { log "creating database clinic"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE clinic"; }

# 5. The small random-initialised checkpoint used by tests and the offline demo.
.venv/bin/python manage.py ser_make_test_model var/models/emotion2vec-test-tiny >/dev/null
.venv/bin/python manage.py migrate --noinput -v 0
log "ready"
