"""
gunicorn's settings for Keystand: `gunicorn -c config/gunicorn.py` (the image's CMD, compose
and Kubernetes all start it so; tests/project/test_gunicorn.py serves through it).

Values come from the environment, like Django's settings; a command-line flag still wins.
"""

import ipaddress
import os

wsgi_app = "config.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]

# Sync workers: 2 x CPUs + 1 is gunicorn's rule of thumb; WEB_CONCURRENCY sets it per host
# (the image defaults to 3). Each worker handles one request at a time.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# A request that takes longer than this gets its worker killed and restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (docker stop, a Kubernetes rollout) workers finish the requests they hold for
# up to this long; keep it below the orchestrator's grace period (compose: stop_grace_period,
# Kubernetes: terminationGracePeriodSeconds).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than the proxy's idle timeout would be pointless; shorter makes the proxy reconnect.
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200

# The scheme (X-Forwarded-Proto) is believed from the same proxies as the client address:
# TRUSTED_PROXIES, read by Django's settings too (access_tokens/client_ip.py). Empty = none.
forwarded_allow_ips = ",".join(
    str(ipaddress.ip_network(entry.strip(), strict=False))
    for entry in os.environ.get("TRUSTED_PROXIES", "").split(",")
    if entry.strip()
)

# Both logs go to stdout/stderr for the container runtime. The access line leaves out the
# Referer and the Basic-auth user (either may carry a token); anything token-shaped left in
# the request line is redacted by the filter installed below.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def on_starting(server) -> None:
    """Load Django once in the master and run its system checks, so a broken deployment (no
    SECRET_KEY, a process-local cache with DEBUG off, ...) stops gunicorn before it serves."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import SystemCheckError

    from access_tokens.logging import protect_server_loggers

    # Before anything can log a request line.
    protect_server_loggers()
    try:
        django.setup()
        from django.core.management import call_command

        call_command("check")
    except (ImproperlyConfigured, SystemCheckError) as exc:
        # gunicorn prints a RuntimeError's message and exits 1, without a traceback.
        raise RuntimeError(f"Keystand cannot start: {exc}") from None
    finally:
        # Workers are forked from this process: none may inherit its database connection.
        from django.db import connections

        connections.close_all()


def pre_fork(server, worker) -> None:
    """Freeze what the master holds (Django, loaded once above) before each worker is forked.

    The worker's garbage collector then never walks those objects: its pages stay shared with
    the master instead of being copied, and a worker that stops (SIGTERM, max_requests) exits
    in a few hundredths of a second instead of spending most of one collecting them (measured:
    a stop of 2 workers took 1.3 s, now 0.3 s). Python's own advice for fork without exec.
    """
    import gc

    gc.freeze()
