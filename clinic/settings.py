"""All settings, read from the environment (django-environ). Safe development defaults; DEBUG is off
unless set. See .env.example and the README's settings table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env beside manage.py is read when present; real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-" + "x" * 20)
# A key anyone can read in this repository (.env.example, the default above) signs sessions, password
# reset links and CSRF tokens; with it, a production server could be logged into by anyone. Refusing
# at import stops gunicorn, celery and every manage.py command alike (a system check would only stop
# runserver and `check`). DEBUG=1 (development, .env.example) keeps working with it.
KNOWN_DEVELOPMENT_SECRET_KEYS = frozenset(
    {"dev-only-change-me-for-any-real-deployment-0123456789", "dev-only-insecure-key-change-me-" + "x" * 20}
)
if not DEBUG and (
    not SECRET_KEY
    or SECRET_KEY in KNOWN_DEVELOPMENT_SECRET_KEYS
    or SECRET_KEY.startswith(("dev-only", "django-insecure-"))
):
    raise ImproperlyConfigured(
        "SECRET_KEY is a development key (or empty) and DEBUG is off: refusing to start. Generate a key "
        'with  python -c "import secrets; print(secrets.token_urlsafe(50))"  and set SECRET_KEY in '
        "the environment or in .env (or set DEBUG=1 for local development only)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "accounts",
    "patients",
    "sessions.apps.TherapySessionsConfig",
    "ser",
    "reports",
    "axes",
    "clinic.apps.ClinicConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the language cookie (the header switcher), else Accept-Language; a
    # logged-in therapist's own choice wins below (UserLanguageMiddleware).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The therapist's time zone (or the clinic's) for everything below: pages, forms, exports.
    "clinic.middleware.TimeZoneMiddleware",
    # The therapist's language from their profile, when they chose one.
    "clinic.middleware.UserLanguageMiddleware",
    # Before any body is read (CSRF reads POST bodies in process_view, after every __call__).
    "clinic.limits.RequestBodyLimitMiddleware",
    # Who is acting and from where, for the audit trail of everything below.
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (it leaves a "log in again" message); static files never reach these two.
    "clinic.middleware.AbsoluteSessionLifetimeMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout flagged during authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.notices_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/clinic"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DB_SSLMODE = env.str("DB_SSLMODE", default="")
if DB_SSLMODE:
    DATABASES["default"].setdefault("OPTIONS", {})["sslmode"] = DB_SSLMODE
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The product speaks English and Simplified Chinese. A therapist's language is their profile's
# choice (the header switcher saves it), else the language cookie, else the browser's
# Accept-Language, else LANGUAGE_CODE. Catalogues: locale/<lang>/LC_MESSAGES/django.po and
# djangojs.po (checked in; compiled by scripts/bootstrap.sh; scripts/messages.sh refreshes them).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "clinic_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# Dates and times per language (clinic/formats/<lang>/formats.py): day-month-year English, 年月日
# Chinese. Templates use the named formats ("DATE_FORMAT", "SHORT_DATETIME_FORMAT"), not patterns.
FORMAT_MODULE_PATH = ["clinic.formats"]
# The clinic's time zone: pages show times in it (or in a therapist's own zone, chosen on their
# "Your time zone" page; clinic.middleware.TimeZoneMiddleware activates it per request). Stored
# times are UTC whatever this says. TIME_ZONE is read as a fallback for earlier .env files.
CLINIC_TIME_ZONE = env.str("CLINIC_TIME_ZONE", default=env.str("TIME_ZONE", default="UTC"))
try:
    ZoneInfo(CLINIC_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"CLINIC_TIME_ZONE={CLINIC_TIME_ZONE!r} is not a time zone name; use one like Europe/London."
    ) from exc
TIME_ZONE = CLINIC_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# Recordings are private: stored under MEDIA_ROOT, never served by URL; only the
# permission-checked download view streams them.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# No URL pattern serves it (tests check that this prefix is a 404); the value only has to exist.
MEDIA_URL = "/private-media-is-never-served/"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No "location": the storage follows MEDIA_ROOT (tests point it at a temp dir).
        "OPTIONS": {"base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Recordings and analysis files go through Django's storage API only, so object storage is this
# setting: "filesystem" (above, under MEDIA_ROOT) or "s3", any S3-compatible store (AWS S3, MinIO,
# Ceph, …) through django-storages. Objects are private (no ACL, signed URLs only; none is ever
# handed out: downloads stream through the permission-checked views). See README "Object storage".
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="filesystem")
if MEDIA_STORAGE == "s3":
    if not env.str("AWS_STORAGE_BUCKET_NAME", default=""):
        raise ImproperlyConfigured(
            "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME: the bucket that holds the recordings."
        )
    _sse = env.str("AWS_S3_SERVER_SIDE_ENCRYPTION", default="")  # e.g. AES256 or aws:kms
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,  # MinIO, Ceph, …
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,  # path|virtual
            # Unset: boto3's default credential chain (instance role, ~/.aws, …).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),  # a key prefix inside the bucket
            "default_acl": None,  # private: the bucket's policy decides, never public-read
            "querystring_auth": True,
            "file_overwrite": False,  # a taken name gets a suffix, as on the file system
            "object_parameters": {"ServerSideEncryption": _sse} if _sse else {},
            # Opening an object downloads it whole into a spooled temp file: past this size it
            # spools to disk (TMPDIR) instead of memory (django-storages' default 0 = all in memory).
            "max_memory_size": 16 * 1024 * 1024,
        },
    }
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"MEDIA_STORAGE={MEDIA_STORAGE!r}: use filesystem or s3.")
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "login"

# Sessions: idle logoff after 30 minutes (the cookie's age is renewed on every request).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
# ...and an absolute limit from login, which a page polling every few seconds cannot extend
# (clinic.middleware.AbsoluteSessionLifetimeMiddleware).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
# API tokens end this long after they were issued (clinic.auth.ExpiringTokenAuthentication); they are
# also deleted at logout and whenever the user's password changes (clinic.security).
API_TOKEN_TTL_SECONDS = env.int("API_TOKEN_TTL_SECONDS", default=30 * 24 * 60 * 60)

# Login throttling (django-axes) on the login page and the API token endpoint: after
# AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is locked out
# for the cool-off, right password or not. Attempts made while locked out are refused without
# being counted, so the retry time shown stays true and a user who tries again does not extend it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "clinic.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "clinic.security.client_ip"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Behind exactly one TLS proxy that sets X-Forwarded-Proto and appends to X-Forwarded-For; the
# client address in login throttling and the security log is then the proxy's last XFF entry.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# The container health check calls http://127.0.0.1:8000/healthz from inside, without the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinic.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "clinic.api_errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "clinic.api_schema.ClinicAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["clinic.throttling.ClinicUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_RATE_PER_USER", default="1200/min")},
}

# OpenAPI 3 (drf-spectacular): the schema at /api/v1/schema/, Swagger UI at /api/v1/docs/, both for
# logged-in users; Swagger UI's files come from drf-spectacular-sidecar (no CDN: clinics run offline).
SPECTACULAR_SETTINGS = {
    "TITLE": "Speech-emotion session tracker API",
    "DESCRIPTION": (
        "Patients, therapy sessions, recordings and their emotion2vec+ analyses; trends, drift from "
        "baseline, flags and trend reports (PDF, CSV, FHIR R4). Decision support, not a diagnosis. "
        "Authenticate with `Authorization: Token <key>` (POST /api/v1/auth/token/) or a logged-in "
        "browser session. Every error has the same body: status, code, detail, errors."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RecordingStatusEnum": "ser.models.AnalysisJob.Status",
        "AnalysisStageEnum": "ser.models.AnalysisJob.Stage",
        "ExportStatusEnum": "reports.models.ReportExport.Status",
        "ExportFormatEnum": "reports.models.ReportExport.Format",
        "ChannelEnum": "sessions.models.Recording.Channel",
        "SpeakerVoiceEnum": "ser.engine.speakers.VOICES",
        "GranularityEnum": "sessions.models.Recording.Granularity",
        "EmotionEnum": "ser.engine.labels.EMOTIONS",
        "VoiceBeyondBandEnum": "reports.voice_panel.SIDES",
        "RestrictionEnum": "reports.restrictions.RESTRICTIONS",
    },
}

# Celery: ids only in messages; a task is acknowledged after it finishes, so a worker that dies
# mid-task gives it back; one message at a time per process (analyses are long).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="clinic")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("SER_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TASK_TIME_LIMIT = env.int("SER_TASK_TIME_LIMIT", default=60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed the hard time limit, or Redis hands a running task to a second worker.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending a task must fail fast when Redis is down (the upload is stored; the sweeper re-sends it).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
SER_REQUEUE_AFTER_S = env.int("SER_REQUEUE_AFTER_S", default=10 * 60)
# A job still RUNNING after duration × this RTF (at least the minimum, at most the hard limit) lost
# its worker process; the sweeper re-queues it. Plain FunASR fp32 measured RTF 0.37 here.
SER_RUNNING_DEADLINE_RTF = env.float("SER_RUNNING_DEADLINE_RTF", default=1.0)
SER_RUNNING_DEADLINE_MIN_S = env.float("SER_RUNNING_DEADLINE_MIN_S", default=10 * 60)
# Processing seconds per second of audio that queue estimates assume until analyses on this host
# have measured it (the bf16 fast path measured 0.066 on 2 cores; int8/fp32 are slower).
SER_ESTIMATE_RTF = env.float("SER_ESTIMATE_RTF", default=0.1)
# Runs of one recording that may end without a result before it is failed with a reason.
SER_MAX_ATTEMPTS = env.int("SER_MAX_ATTEMPTS", default=3)
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-recordings": {
        "task": "ser.tasks.requeue_stale_recordings",
        "schedule": env.float("SER_SWEEP_EVERY_S", default=300.0),
    },
}
CELERY_TASK_ALWAYS_EAGER = False

# Speech-emotion recognition.
SER_MODEL = env.str("SER_MODEL", default="iic/emotion2vec_plus_large")
SER_MODEL_HUB = env.str("SER_MODEL_HUB", default="ms")  # "ms" (ModelScope) or "hf"
SER_DEVICE = env.str("SER_DEVICE", default="cpu")
# torch threads per worker process; 0 = the host's cores // the worker's concurrency (at least 1).
SER_THREADS = env.int("SER_THREADS", default=0)
# The GPU queue: recordings go there while a worker consuming it is alive (it announces itself in
# the cache every SER_GPU_HEARTBEAT_S), else to the CPU queue (CELERY_QUEUE).
SER_GPU_QUEUE = env.str("SER_GPU_QUEUE", default="gpu")
SER_GPU_HEARTBEAT_S = env.int("SER_GPU_HEARTBEAT_S", default=30)
# GPU memory the emotion model's batches may use (activations, beyond the weights): the worker
# measures what a second of audio costs on its GPU at load and batches up to this.
SER_GPU_MEMORY_BUDGET_MB = env.int("SER_GPU_MEMORY_BUDGET_MB", default=4096)
SER_MAX_UPLOAD_BYTES = env.int("SER_MAX_UPLOAD_BYTES", default=1024 * 1024 * 1024)
SER_MAX_DURATION_S = env.float("SER_MAX_DURATION_S", default=4 * 60 * 60)
SER_PRECISION = env.str("SER_PRECISION", default="auto")  # auto | fp32 | bf16 | int8
# Audio per model call. On CPU, batching segments measured no faster than one at a time (bench/),
# so the default batches only short segments; raise it for GPU workers.
SER_BATCH_SECONDS = env.float("SER_BATCH_SECONDS", default=10.0)
SER_MIN_SEGMENT_S = env.float("SER_MIN_SEGMENT_S", default=1.0)
SER_MAX_SEGMENT_S = env.float("SER_MAX_SEGMENT_S", default=10.0)
SER_MERGE_GAP_S = env.float("SER_MERGE_GAP_S", default=0.5)
# Voice measures (pitch, loudness, rate, pauses, voice quality; ser/engine/voice.py) on the same
# segments as the emotion model; off saves their cost (a few % of the analysis time).
SER_VOICE = env.bool("SER_VOICE", default=True)
# A silence longer than this is a break in the talk (on the patient's channel, mostly the
# therapist's turn), not a pause: left out of the pause measures and of the rates' time. 0: no limit.
SER_VOICE_MAX_PAUSE_S = env.float("SER_VOICE_MAX_PAUSE_S", default=3.0)
# Django keeps uploads larger than this in a temp file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Review flags (decision support, not diagnosis). Shown with their thresholds on the dashboard.
FLAG_TREND_SESSIONS = env.int("FLAG_TREND_SESSIONS", default=4)  # K: look at the last K sessions
FLAG_TREND_MIN_RISE = env.float("FLAG_TREND_MIN_RISE", default=0.10)  # rise of sad + fearful share
FLAG_MIN_SPEECH_S = env.float("FLAG_MIN_SPEECH_S", default=60.0)  # less speech → less reliable
# Voice flags: a measure outside the patient's baseline band (baseline mean ± VOICE_BAND_SD × SD,
# at least ± VOICE_BAND_MIN_REL × the mean) in each of the last VOICE_FLAG_SESSIONS sessions, on
# the same side. VOICE_FLAG_MEASURES: which measures may raise a flag (all are plotted).
VOICE_FLAG_SESSIONS = env.int("VOICE_FLAG_SESSIONS", default=2)
VOICE_BAND_SD = env.float("VOICE_BAND_SD", default=2.0)
VOICE_BAND_MIN_REL = env.float("VOICE_BAND_MIN_REL", default=0.05)
VOICE_FLAG_MEASURES = env.list(
    "VOICE_FLAG_MEASURES",
    default=[
        "f0_median_hz",
        "f0_sd_st",
        "intensity_median_db",
        "intensity_sd_db",
        "speech_rate",
        "articulation_rate",
        "pause_ratio",
        "pause_mean_s",
        "pauses_per_min",
        "jitter_local",
        "shimmer_local",
        "hnr_db",
    ],
)
# "Moments to review" on the session page: this many segments per criterion (highest sad + fearful
# + angry share; furthest from the patient's baseline profile), each at least 1 s long.
MOMENTS_TO_REVIEW = env.int("MOMENTS_TO_REVIEW", default=5)

# Trend reports to the clinical record. The product's own CodeSystem for speech-emotion measures
# (no LOINC or SNOMED CT code exists for them): set its URL to one your organisation controls.
FHIR_CODESYSTEM_URL = env.str(
    "FHIR_CODESYSTEM_URL", default="https://speech-emotion-tracker.example.org/fhir/CodeSystem/ser"
)
# Identifier systems for the patient's record id (MRN) and the therapist's professional id.
FHIR_PATIENT_IDENTIFIER_SYSTEM = env.str(
    "FHIR_PATIENT_IDENTIFIER_SYSTEM", default="https://speech-emotion-tracker.example.org/fhir/mrn"
)
FHIR_PRACTITIONER_IDENTIFIER_SYSTEM = env.str(
    "FHIR_PRACTITIONER_IDENTIFIER_SYSTEM",
    default="https://speech-emotion-tracker.example.org/fhir/practitioner-id",
)
# Optional push: with a base URL (and a bearer token) set, reports can be sent to the clinic's FHIR
# server as a transaction Bundle. Empty: push is off and only downloads are offered.
FHIR_BASE_URL = env.str("FHIR_BASE_URL", default="")
FHIR_TOKEN = env.str("FHIR_TOKEN", default="")
FHIR_TIMEOUT_S = env.float("FHIR_TIMEOUT_S", default=30.0)
FHIR_PUSH_MAX_ATTEMPTS = env.int("FHIR_PUSH_MAX_ATTEMPTS", default=5)
# Seconds before retrying a push that failed for a passing reason (no connection, 5xx, 408, 429);
# doubled after each failure (at most 30 minutes).
FHIR_PUSH_RETRY_S = env.float("FHIR_PUSH_RETRY_S", default=30.0)

# Cache for rendered plots: Redis, shared by every web process (no per-process state).
# PLOT_PRERENDER: the worker draws a patient's dashboard plots into it after each analysis.
PLOT_PRERENDER = env.bool("PLOT_PRERENDER", default=True)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default="redis://127.0.0.1:6379/1"),
        "TIMEOUT": 24 * 3600,
        "KEY_PREFIX": env.str("CACHE_PREFIX", default="clinic"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Logins, failures, lockouts, logouts, token revocations: kept whatever LOG_LEVEL says.
        "clinic.security": {"level": "INFO"},
    },
}
