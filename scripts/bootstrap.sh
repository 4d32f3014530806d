#!/usr/bin/env bash
# Make this checkout ready to run and test, idempotently: Debian packages, PostgreSQL and Redis up,
# a virtual environment with the pinned requirements, the database, .env, the test checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# 1. Debian packages: ffmpeg (decoders for formats libsndfile lacks), espeak-ng (test speech),
#    chromium and its driver (browser tests), poppler-utils (report tests read PDFs back),
#    gettext (compiles the translation catalogues), fonts-noto-cjk (Chinese in plots and PDFs).
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v pg_isready >/dev/null || need+=(postgresql-client)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v chromium >/dev/null || need+=(chromium)          # browser tests
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v pdftoppm >/dev/null || need+=(poppler-utils)     # report tests: PDF to text and PNG
command -v msgfmt >/dev/null || need+=(gettext)             # compilemessages
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] && [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc ] \
  || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. PostgreSQL and Redis, where the settings say they are: DATABASE_URL, CELERY_BROKER_URL and
#    CACHE_URL from the environment, else from .env, else the defaults in clinic/settings.py. Local
#    servers that are down are started; on a machine without them they are installed from Debian.
[ -f .env ] || { log "writing .env from .env.example"; cp .env.example .env; }
setting() {  # $1 name, $2 default: the environment's value, else .env's, else the default
  local v="${!1:-}"
  [ -n "$v" ] || v=$(sed -n "s/^[[:space:]]*$1=//p" .env | tail -1 | sed 's/^["'\'']//; s/["'\'']$//')
  echo "${v:-$2}"
}
DB_URL=$(setting DATABASE_URL postgres://postgres@127.0.0.1:5432/clinic)
BROKER_URL=$(setting CELERY_BROKER_URL redis://127.0.0.1:6379/0)
CACHE=$(setting CACHE_URL redis://127.0.0.1:6379/1)
read -r PGHOST_ PGPORT_ PGUSER_ PGDB_ < <(python3 -c 'import sys,urllib.parse as u;p=u.urlparse(sys.argv[1]);print(p.hostname or "127.0.0.1",p.port or 5432,p.username or "postgres",p.path.lstrip("/") or "clinic")' "$DB_URL")
redis_hosts=$(python3 -c 'import sys, urllib.parse as u
hosts = {"%s:%s" % (p.hostname or "127.0.0.1", p.port or 6379) for p in map(u.urlparse, sys.argv[1:]) if p.scheme == "redis"}
print(" ".join(sorted(hosts)))' "$BROKER_URL" "$CACHE")
local_host() { [[ "$1" == 127.0.0.1 || "$1" == localhost || "$1" == ::1 ]]; }

if ! pg_isready -h "$PGHOST_" -p "$PGPORT_" -q && local_host "$PGHOST_"; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing the PostgreSQL server (Debian)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    conf=$(ls -d /etc/postgresql/*/main | head -1)
    # Local development and tests: trust on loopback, as the machines this project runs on have.
    $SUDO sed -i 's/^\(host.*127.0.0.1\/32[[:space:]]*\).*/\1trust/; s/^\(host.*::1\/128[[:space:]]*\).*/\1trust/; s/^\(local[[:space:]]*all[[:space:]]*all[[:space:]]*\).*/\1trust/' "$conf/pg_hba.conf"
  fi
  log "starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 30); do pg_isready -h "$PGHOST_" -p "$PGPORT_" -q && break; sleep 1; done
fi
for hp in $redis_hosts; do
  host=${hp%:*}; port=${hp##*:}
  if ! redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && local_host "$host"; then
    if ! command -v redis-server >/dev/null; then
      log "installing the Redis server (Debian)"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    fi
    log "starting Redis on port $port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no >/dev/null
    for _ in $(seq 30); do redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 || { echo "Redis is not reachable on $host:$port" >&2; exit 1; }
done
pg_isready -h "$PGHOST_" -p "$PGPORT_" -q || { echo "PostgreSQL is not reachable on $PGHOST_:$PGPORT_" >&2; exit 1; }

# 3. Virtual environment. torch first, alone: the CPU build, not several GB of CUDA packages.
PY=${PYTHON:-python3.11}; command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || { log "creating .venv"; "$PY" -m venv .venv; }
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python packages (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -r requirements.txt
  .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt  # weights only (see file)
  echo "$want" > "$stamp"
fi

# 4. The database DATABASE_URL names.
psql -h "$PGHOST_" -p "$PGPORT_" -U "$PGUSER_" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PGDB_'" | grep -q 1 \
  || { log "creating database $PGDB_"; psql -h "$PGHOST_" -p "$PGPORT_" -U "$PGUSER_" -d postgres -qc "CREATE DATABASE \"$PGDB_\""; }

# 5. Translations (locale/*.po are checked in, the .mo files are built here) and the Chinese font
#    the PDF embeds: Noto Sans CJK SC as TrueType (scripts/make_cjk_font.py, once, both weights at
#    once on two cores).
.venv/bin/python manage.py compilemessages -v 0 --ignore .venv --ignore var
pids=()
for weight in Regular Bold; do
  [ -f "var/fonts/NotoSansCJKsc-$weight.ttf" ] && continue
  log "making the $weight CJK font for PDFs (about half a minute)"
  .venv/bin/python scripts/make_cjk_font.py var/fonts "$weight" >/dev/null & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

# 6. The small random-initialised checkpoint used by tests and the offline demo.
.venv/bin/python manage.py ser_make_test_model var/models/emotion2vec-test-tiny >/dev/null
.venv/bin/python manage.py migrate --noinput -v 0
log "ready"
