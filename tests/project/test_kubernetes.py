"""deploy/kubernetes: every overlay renders with `kubectl kustomize`, validates against the
Kubernetes 1.32 schemas (kubernetes-validate ships them: no network), and agrees with the code
it deploys (probe paths, environment variables, image, user, commands, timeouts)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.core.management import get_commands
from django.test import Client

from tests.forked_manage import run_manage

from .env_reads import names_read

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.32.0"
SECRET_KEYS = {"SECRET_KEY", "DATABASE_URL", "CACHE_URL", "EMAIL_URL"}
WORKLOADS = ("Deployment", "Job", "CronJob")


def _render(path: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with kustomize) is needed to render deploy/kubernetes; install it")
    result = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, _render(KUSTOMIZE / "overlays" / request.param)


def _one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def _pod_spec(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def _containers(doc: dict) -> list[dict]:
    spec = _pod_spec(doc)
    return spec.get("initContainers", []) + spec["containers"]


def _workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in WORKLOADS]


def _config(docs: list[dict]) -> dict[str, str]:
    return _one(docs, "ConfigMap")["data"]


def test_it_renders_every_kind_the_deployment_needs(overlay):
    _, docs = overlay
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "Deployment",
            "Service",
            "Ingress",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "Job",
            "CronJob",
            "CronJob",
        ]
    )
    # No Secret is rendered: it holds credentials and is created by hand (README).
    assert not [d for d in docs if d["kind"] == "Secret"]
    namespaces = {d["metadata"].get("namespace") for d in docs}
    assert namespaces == {"keystand" if overlay[0] == "production" else "keystand-dev"}


def test_it_validates_against_the_kubernetes_schemas(overlay):
    _, docs = overlay
    for doc in docs:
        # strict: an unknown field (a typo) is an error, not silently dropped.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validation_catches_a_misspelt_field(overlay):
    _, docs = overlay
    broken = json.loads(json.dumps(_one(docs, "Deployment", "keystand-web")))
    broken["spec"]["replcas"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError, match="replcas"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_it_runs_three_hardened_web_pods_in_production():
    docs = _render(KUSTOMIZE / "overlays" / "production")
    web = _one(docs, "Deployment", "keystand-web")
    assert web["spec"]["replicas"] == 3
    hpa = _one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 3
    assert hpa["spec"]["maxReplicas"] > 3
    assert _one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    # A pinned release, not a moving tag.
    assert not web["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":latest")


def test_it_runs_every_container_as_the_images_user_on_a_read_only_root(overlay):
    _, docs = overlay
    dockerfile = (ROOT / "Dockerfile").read_text()
    uid = re.search(r"useradd .*--uid (\d+)", dockerfile).group(1)
    for doc in _workloads(docs):
        spec = _pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert str(spec["securityContext"]["runAsUser"]) == uid
        assert spec["automountServiceAccountToken"] is False
        tmp = [v for v in spec["volumes"] if v["name"] == "tmp"]
        assert tmp and "emptyDir" in tmp[0]
        for container in _containers(doc):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            # The one writable place: gunicorn's heartbeat files and Python's temp files.
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["resources"]["requests"]["memory"]
            assert container["resources"]["limits"]["memory"]


def test_it_uses_one_image_everywhere(overlay):
    _, docs = overlay
    images = {c["image"] for doc in _workloads(docs) for c in _containers(doc)}
    assert len(images) == 1, images
    job = _one(docs, "Job")
    web = _one(docs, "Deployment", "keystand-web")
    assert _containers(job)[0]["image"] == web["spec"]["template"]["spec"]["containers"][0]["image"]


def test_it_gives_every_container_the_same_configuration(overlay):
    _, docs = overlay
    config_name = _one(docs, "ConfigMap")["metadata"]["name"]
    for doc in _workloads(docs):
        for container in _containers(doc):
            assert container["envFrom"] == [{"configMapRef": {"name": config_name}}]
            refs = {
                e["name"]: e["valueFrom"]["secretKeyRef"]
                for e in container["env"]
                if "secretKeyRef" in e.get("valueFrom", {})
            }
            assert set(refs) == SECRET_KEYS, container["name"]
            assert {r["name"] for r in refs.values()} == {"keystand-secrets"}
            assert all(r["key"] == name for name, r in refs.items())


def test_it_sets_only_variables_that_keystand_reads(overlay):
    _, docs = overlay
    names = set(_config(docs))
    for doc in _workloads(docs):
        for container in _containers(doc):
            names |= {e["name"] for e in container.get("env", [])}
    unknown = names - names_read()
    assert not unknown, f"set but never read: {sorted(unknown)}"
    # The essentials are among them.
    assert {"DEBUG", "ALLOWED_HOSTS", "TRUSTED_PROXIES", "SECURE_PROXY_SSL_HEADER"} <= names


def test_its_settings_pass_the_deploy_check(overlay, tmp_path):
    # The ConfigMap plus stand-ins for the Secret: `check --deploy` finds nothing to warn about.
    import os

    env = {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        **_config(overlay[1]),
        "SECRET_KEY": "k8s-test-" + "x" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "redis://redis.keystand.svc:6379/0",
        "EMAIL_URL": "smtp+tls://user:password@smtp.example.com:587",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_the_probes_answer_200_in_the_app(overlay, settings):
    _, docs = overlay
    web = _one(docs, "Deployment", "keystand-web")
    container = web["spec"]["template"]["spec"]["containers"][0]
    probes = {
        kind: container[kind]["httpGet"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    # As the pods run: ALLOWED_HOSTS and the HTTPS redirect from the ConfigMap.
    config = _config(docs)
    settings.ALLOWED_HOSTS = config["ALLOWED_HOSTS"].split(",")
    settings.SECURE_SSL_REDIRECT = config["SECURE_SSL_REDIRECT"] == "true"
    for kind, probe in probes.items():
        assert probe["port"] == container["ports"][0]["name"]
        headers = {h["name"]: h["value"] for h in probe.get("httpHeaders", [])}
        # Plain HTTP from the kubelet, with the pod's Host header.
        r = Client().get(probe["path"], headers=headers)
        assert r.status_code == 200, (kind, r.status_code)


def test_it_serves_web_with_the_images_command_and_gunicorns_grace(overlay):
    from config import gunicorn

    _, docs = overlay
    web = _one(docs, "Deployment", "keystand-web")
    spec = web["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert "command" not in container and "args" not in container
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    assert gunicorn.bind == ["0.0.0.0:8000"]
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pre_stop + gunicorn.graceful_timeout < spec["terminationGracePeriodSeconds"]
    # New pods wait for the migration Job.
    assert spec["initContainers"][0]["command"] == ["python", "manage.py", "migrate", "--check"]


def test_it_wires_service_budget_autoscaler_and_ingress_to_the_web_pods(overlay):
    _, docs = overlay
    web = _one(docs, "Deployment", "keystand-web")
    pod_labels = web["spec"]["template"]["metadata"]["labels"]
    service = _one(docs, "Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    pdb = _one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    hpa = _one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": web["metadata"]["name"],
    }
    ingress = _one(docs, "Ingress")
    rule = ingress["spec"]["rules"][0]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
    # TLS for exactly the host it serves, and the app accepts that host.
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    config = _config(docs)
    assert rule["host"] in config["ALLOWED_HOSTS"].split(",")
    assert config["CSRF_TRUSTED_ORIGINS"] == f"https://{rule['host']}"
    # TLS ends at the ingress: the pods trust its forwarded headers, and only from proxies.
    assert config["SECURE_PROXY_SSL_HEADER"] == "true"
    assert config["TRUSTED_PROXIES"]


def test_it_migrates_in_a_job_and_runs_the_worker(overlay):
    _, docs = overlay
    job = _one(docs, "Job")
    assert _containers(job)[0]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert _pod_spec(job)["restartPolicy"] == "Never"
    worker = _one(docs, "Deployment", "keystand-worker")
    assert _containers(worker)[0]["command"] == ["python", "manage.py", "db_worker"]
    assert "db_worker" in get_commands()


@pytest.mark.parametrize(
    ("name", "schedule", "command"),
    [
        ("keystand-notify-expiring-tokens", "0 6 * * *", "notify_expiring_tokens"),
        ("keystand-purge-access-token-events", "0 3 * * 0", "purge_access_token_events"),
    ],
)
def test_it_runs_the_periodic_commands_from_cronjobs(overlay, name, schedule, command):
    _, docs = overlay
    cron = _one(docs, "CronJob", name)
    assert cron["spec"]["schedule"] == schedule
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    argv = _containers(cron)[0]["command"]
    assert argv[:3] == ["python", "manage.py", command]
    assert command in get_commands()
    # The same arguments the compose scheduler uses.
    from config.management.commands.run_schedule import Command

    parser = Command().create_parser("manage.py", "run_schedule")
    defaults = vars(parser.parse_args([]))
    expected = {
        "notify_expiring_tokens": ["--within", "7"],
        "purge_access_token_events": ["--older-than", defaults["keep_events_days"]],
    }
    assert argv[3:] == expected[command]
