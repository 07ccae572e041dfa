"""The container setup, checked by reading it: there is no Docker engine in CI.

What runs for real elsewhere: the image's CMD is what test_gunicorn.py serves through, the
scheduler's command is tests/operators/test_run_schedule.py, the health check script is
exercised below against a live gunicorn (test_gunicorn.py).
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from .env_reads import names_read

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "scheduler")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Return the Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [ln.strip() for ln in joined.splitlines() if ln.strip()]


def _instructions(dockerfile: list[str], name: str) -> list[str]:
    return [ln.split(None, 1)[1] for ln in dockerfile if ln.split(None, 1)[0].upper() == name]


def _exec_form(instruction: str) -> list[str]:
    """Return the JSON array of a CMD or HEALTHCHECK ... CMD instruction."""
    return json.loads(instruction[instruction.index("[") :])


def _depends(service: dict) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service.get("depends_on", {}).items()}


def test_it_names_every_service(services):
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "scheduler"}


def test_it_runs_postgres_16_on_a_named_volume(compose, services):
    db = services["db"]
    assert db["image"] == "postgres:16"
    volume, target = db["volumes"][0].split(":")[:2]
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]
    test = db["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    assert f"pg_isready -U {db['environment']['POSTGRES_USER']}" in test[1]


def test_it_runs_redis_with_a_health_check(services):
    redis = services["redis"]
    assert redis["image"].startswith("redis:")
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_it_runs_every_keystand_role_from_one_image(services):
    for name in APP_SERVICES:
        assert services[name]["image"] == "keystand:latest", name
        assert services[name]["build"] == "."


def test_it_points_every_role_at_the_db_and_at_redis(services):
    db_env = services["db"]["environment"]
    user, password, name = (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    for service in APP_SERVICES:
        env = services[service]["environment"]
        assert env["DATABASE_URL"] == f"postgres://{user}:{password}@db:5432/{name}"
        assert env["CACHE_URL"] == "redis://redis:6379/0"


def test_it_migrates_once_before_anything_serves(services):
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert migrate["restart"] == "no"  # one-shot: a finished migration is not restarted
    assert _depends(migrate) == {"db": "service_healthy"}
    for name in ("web", "worker", "scheduler"):
        assert _depends(services[name])["migrate"] == "service_completed_successfully", name
        assert "migrate" not in json.dumps(services[name].get("command", "")), name


def test_it_starts_web_once_redis_answers(services):
    assert _depends(services["web"]) == {
        "migrate": "service_completed_successfully",
        "db": "service_healthy",
        "redis": "service_healthy",
    }


def test_it_serves_web_with_the_images_command(services, dockerfile):
    # No command: compose runs the image's CMD, the one test_gunicorn.py serves with.
    assert "command" not in services["web"]
    assert _exec_form(_instructions(dockerfile, "CMD")[-1]) == [
        "gunicorn",
        "-c",
        "config/gunicorn.py",
    ]


def test_it_runs_the_task_worker_and_the_scheduler(services):
    assert services["worker"]["command"] == ["python", "manage.py", "db_worker"]
    assert services["scheduler"]["command"] == ["python", "manage.py", "run_schedule"]
    # Both are commands this project has (db_worker: django-tasks-db's queue worker).
    assert {"db_worker", "run_schedule"} <= set(get_commands())


def test_it_requires_a_secret_key_from_the_environment(services):
    for name in APP_SERVICES:
        env = services[name]["environment"]
        # Compose refuses to start when SECRET_KEY is unset or empty.
        assert env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
        assert env["DEBUG"] == "false"


def test_it_passes_the_trusted_proxies(services):
    for name in APP_SERVICES:
        assert services[name]["environment"]["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-}"


def test_it_sets_only_variables_that_keystand_reads(services):
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - names_read()
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_it_publishes_port_8000_on_loopback(services):
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_it_health_checks_web_with_the_images_probe(services, dockerfile):
    test = services["web"]["healthcheck"]["test"]
    assert test == ["CMD", "python", "-m", "config.healthcheck", "/readyz"]
    image_check = _instructions(dockerfile, "HEALTHCHECK")
    assert len(image_check) == 1
    assert _exec_form(image_check[0]) == test[1:]


def test_it_gives_gunicorn_time_to_finish_requests_on_stop(services):
    from config import gunicorn

    grace = int(services["web"]["stop_grace_period"].rstrip("s"))
    assert grace > gunicorn.graceful_timeout


def test_it_builds_from_python_311_slim(dockerfile):
    assert _instructions(dockerfile, "FROM") == ["python:3.11-slim"]


def test_it_runs_as_a_user_that_is_not_root(dockerfile):
    users = _instructions(dockerfile, "USER")
    assert users, "the Dockerfile never switches user"
    assert users[-1] not in ("root", "0", "0:0")
    # The user exists: it is created in a RUN before the switch.
    assert any("useradd" in run and users[-1] in run for run in _instructions(dockerfile, "RUN"))


def test_it_installs_the_project_without_dev_extras(dockerfile):
    runs = " ".join(_instructions(dockerfile, "RUN"))
    assert "pip install -c constraints.txt ." in runs
    assert "[dev" not in runs


def test_it_collects_static_at_build_time_with_a_throwaway_key(dockerfile):
    collect = [r for r in _instructions(dockerfile, "RUN") if "collectstatic" in r]
    assert len(collect) == 1
    assert "SECRET_KEY=" in collect[0]
    assert "DEBUG=false" in collect[0]
    # The build key must not end up in the image's environment.
    assert not any("SECRET_KEY" in e for e in _instructions(dockerfile, "ENV"))


def test_it_takes_the_worker_count_from_web_concurrency(dockerfile):
    env = " ".join(_instructions(dockerfile, "ENV"))
    assert re.search(r"\bWEB_CONCURRENCY=\d+", env)


def test_it_keeps_secrets_and_local_state_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", "db.sqlite3", "staticfiles"):
        assert entry in ignored
    # pip needs README.md (pyproject's readme) to build the project.
    assert "README.md" not in ignored
