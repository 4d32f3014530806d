# One image for web and worker (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libsndfile1 postgresql-client \
    gettext fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
# The CPU build by default; the GPU worker (compose profile gpu) builds with a CUDA index.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir torch==2.13.0 --index-url ${TORCH_INDEX} \
    && pip install --no-cache-dir -r requirements.txt \
    && pip install --no-cache-dir --no-deps -r requirements-nodeps.txt
COPY . .
# Translations (.po checked in, .mo built) and the PDF's Chinese font (scripts/make_cjk_font.py).
RUN python manage.py compilemessages -v 0 --ignore var && python scripts/make_cjk_font.py var/fonts
RUN useradd --create-home --uid 1000 clinic && mkdir -p /data/media /app/var && chown -R clinic /data /app/var
USER clinic
ENV PYTHONUNBUFFERED=1 MEDIA_ROOT=/data/media
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
