"""The container setup, checked by reading it: there is no Docker engine in CI."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Return the Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [ln.strip() for ln in joined.splitlines() if ln.strip()]


def _instructions(dockerfile: list[str], name: str) -> list[str]:
    return [ln.split(None, 1)[1] for ln in dockerfile if ln.split(None, 1)[0].upper() == name]


def _web_command(compose: dict) -> str:
    command = compose["services"]["web"]["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_has_a_db_and_a_web_service(compose):
    assert set(compose["services"]) == {"db", "web"}


def test_it_runs_postgres_16_on_a_named_volume(compose):
    db = compose["services"]["db"]
    assert db["image"] == "postgres:16"
    volume, target = db["volumes"][0].split(":")[:2]
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]


def test_it_health_checks_postgres_with_pg_isready(compose):
    db = compose["services"]["db"]
    test = db["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    assert "pg_isready" in test[1]
    assert f"-U {db['environment']['POSTGRES_USER']}" in test[1]


def test_it_points_web_at_the_db_service(compose):
    db_env = compose["services"]["db"]["environment"]
    web = compose["services"]["web"]
    user, password, name = (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    assert web["environment"]["DATABASE_URL"] == f"postgres://{user}:{password}@db:5432/{name}"
    assert web["depends_on"]["db"]["condition"] == "service_healthy"


def test_it_builds_web_from_the_dockerfile(compose):
    assert compose["services"]["web"]["build"] == "."


def test_it_runs_web_in_production_mode_with_a_secret_from_the_environment(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DEBUG"] == "false"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:-")
    # The health check calls 127.0.0.1, so that host must stay allowed whatever the operator sets.
    assert env["ALLOWED_HOSTS"].endswith(",127.0.0.1")


def test_it_publishes_port_8000(compose):
    ports = compose["services"]["web"]["ports"]
    assert any(str(p).split(":")[-2:] == ["8000", "8000"] for p in ports)


def test_it_health_checks_web_on_readyz_without_curl(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8000/readyz" in test[3]
    # The snippet must at least be valid Python.
    compile(test[3], "healthcheck", "exec")


def test_it_migrates_and_collects_static_before_gunicorn(compose):
    command = _web_command(compose)
    migrate = command.index("manage.py migrate --no-input")
    collect = command.index("manage.py collectstatic --no-input")
    gunicorn = command.index("gunicorn config.wsgi")
    assert migrate < collect < gunicorn
    # Each step must succeed before the next runs.
    assert command.count("&&") >= 2
    assert "0.0.0.0:8000" in command[gunicorn:]


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


def test_it_serves_the_same_wsgi_module_as_compose(dockerfile, compose):
    # Exec form, so gunicorn is PID 1 and gets the container's stop signal.
    cmd = " ".join(json.loads(_instructions(dockerfile, "CMD")[-1]))
    assert "gunicorn config.wsgi" in cmd
    assert "0.0.0.0:8000" in cmd
    assert "gunicorn config.wsgi" in _web_command(compose)
    from django.conf import settings

    assert settings.WSGI_APPLICATION == "config.wsgi.application"


def test_it_takes_the_worker_count_from_web_concurrency(dockerfile):
    env = " ".join(_instructions(dockerfile, "ENV"))
    assert re.search(r"\bWEB_CONCURRENCY=\d+", env)


def test_it_keeps_secrets_and_local_state_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", "db.sqlite3", "staticfiles"):
        assert entry in ignored
    # pip needs README.md (pyproject's readme) to build the project.
    assert "README.md" not in ignored
