#!/usr/bin/env bash
# Run the app: web on http://127.0.0.1:8000 and one Celery worker, until Ctrl-C. The demo login is
# printed last, once both are up, so it is not lost above the worker's banner.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python manage.py collectstatic --noinput -v 0
login=$(.venv/bin/python manage.py demo_account)
.venv/bin/python manage.py demo_data
read -r model broker queue < <(.venv/bin/python -c "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','clinic.settings');django.setup();from django.conf import settings as s;print(s.SER_MODEL, s.CELERY_BROKER_URL, s.CELERY_TASK_DEFAULT_QUEUE)" 2>/dev/null)
PORT=${PORT:-8000}
# -B: the one development worker also runs beat (the stale-pending sweeper). In production run
# one `celery beat` beside any number of workers (docker-compose.yml does).
.venv/bin/celery -A clinic worker -B -s var/celerybeat-schedule --loglevel INFO \
  --concurrency "${WORKER_CONCURRENCY:-1}" -Q "${CELERY_QUEUE:-clinic}" &
worker=$!
.venv/bin/python manage.py runserver "0.0.0.0:${PORT}" &
web=$!
trap 'kill $worker $web 2>/dev/null; wait $worker $web 2>/dev/null' EXIT INT TERM
for _ in $(seq 60); do
  curl -fs -o /dev/null "http://127.0.0.1:${PORT}/healthz" && break
  sleep 1
done
# Let the worker take what is queued (the demo's uploads queue tasks it has nothing left to do for)
# and finish printing, so the login below is the last thing on the screen.
for _ in $(seq 120); do
  [ "$(redis-cli -u "$broker" llen "$queue" 2>/dev/null || echo 0)" = "0" ] && break
  sleep 1
done
sleep 3
echo
echo "Emotion model (SER_MODEL): $model"
if [[ "$model" == *emotion2vec-test* ]]; then
  echo "  NOTE: this is the random-initialised TEST checkpoint: scores are meaningless and every page says so."
  echo "        For real results set SER_MODEL in .env to iic/emotion2vec_plus_large or a local model directory."
fi
echo "$login"
echo "Open http://127.0.0.1:${PORT}/ and log in with the demo therapist above. Ctrl-C stops web and worker."
wait $web
