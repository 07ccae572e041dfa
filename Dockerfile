# Keystand's production image: gunicorn serving config.wsgi, static files through WhiteNoise.
# docker-compose.yml runs it next to PostgreSQL 16 and Redis, deploy/kubernetes/ on a cluster;
# see README.md. One image for every role: web (the CMD), migrate, worker and scheduler.
FROM python:3.11-slim

# gunicorn reads its worker count from WEB_CONCURRENCY: 3 = 2 x CPUs + 1 for one CPU.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

# The app runs as an unprivileged user that cannot write its own code.
RUN groupadd --system --gid 10001 keystand \
    && useradd --system --uid 10001 --gid keystand --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin keystand

WORKDIR /app

COPY . .
# The project and its exact dependency versions, without the dev extras.
RUN pip install -c constraints.txt . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/staticfiles \
    && chown keystand:keystand /app/staticfiles

USER keystand

# Collect static files into the image. The key exists only for this command: settings refuse to
# load without one when DEBUG is false, and collectstatic signs nothing with it.
RUN DEBUG=false KEYSTAND_ENV_FILE= SECRET_KEY=build-only-not-secret-collectstatic-needs-settings \
    python manage.py collectstatic --no-input

EXPOSE 8000

# Healthy = this container's gunicorn answers /readyz (it reaches the database). The probe
# sends a Host from ALLOWED_HOSTS and needs no curl (config/healthcheck.py).
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python", "-m", "config.healthcheck", "/readyz"]

# Exec form, so gunicorn is PID 1 and gets the stop signal (SIGTERM: a graceful shutdown).
# config/gunicorn.py: workers from WEB_CONCURRENCY, timeouts, TRUSTED_PROXIES, token-safe logs,
# and Django's system checks before the first request.
CMD ["gunicorn", "-c", "config/gunicorn.py"]
