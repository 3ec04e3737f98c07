"""The production stack: docker-compose.yml, its web entrypoint and the Dockerfile.

The file checks need nothing but PyYAML. The `config` checks run the Compose CLI (v2 plugin or
Debian's docker-compose v1), which validates the file without a Docker engine; without a CLI
they skip, or fail under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
WEB_ENTRYPOINT = REPO / "docker" / "entrypoint-web.sh"
WORKER_ENTRYPOINT = REPO / "docker" / "entrypoint-worker.sh"
WEB_HEALTHCHECK = REPO / "docker" / "healthcheck-web.py"

APP_SERVICES = ("web", "worker-cpu", "worker-gpu", "worker-housekeeping", "beat")
# The workers that grade, and so run student code in the sandbox.
WORKERS = ("worker-cpu", "worker-gpu")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Long enough and varied enough for the production settings, should anything load them.
FAKE_SECRET_KEY = "compose-config-test-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def words(service: dict[str, Any], key: str = "command") -> list[str]:
    """The service's command as words, with `--option=value` split into two."""
    value = service.get(key) or []
    raw = value.split() if isinstance(value, str) else [str(word) for word in value]
    split: list[str] = []
    for word in raw:
        if word.startswith("--") and "=" in word:
            split.extend(word.split("=", 1))
        else:
            split.append(word)
    return split


def option(command: list[str], *names: str) -> str:
    for name in names:
        if name in command:
            return command[command.index(name) + 1]
    raise AssertionError(f"none of {names} in {command}")


def with_defaults(value: str) -> str:
    """``value`` as Compose reads it when no variable is set: each ``${NAME:-default}`` is its
    default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    lines = [
        line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments))
    return instructions


def compose_cli() -> list[str]:
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    message = "no Compose CLI: neither `docker compose` nor `docker-compose` runs here"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; REQUIRE_SERVICES=1 says it must")
    pytest.skip(message)


def run_config(
    env: dict[str, str], tmp_path: Path, *, quiet: bool = True
) -> subprocess.CompletedProcess[str]:
    # An empty env file: a developer's .env must not decide what these checks see.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run(
        [*compose_cli(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config",
         *(["-q"] if quiet else [])],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def required_env(**extra: str) -> dict[str, str]:
    """This process's environment with every variable the file requires, plus ``extra``."""
    return {
        **os.environ,
        "SECRET_KEY": FAKE_SECRET_KEY,
        "POSTGRES_PASSWORD": "compose-test",
        "FLOWER_PASSWORD": "flower-test",
        **extra,
    }


def test_it_defines_every_service(services: dict[str, dict[str, Any]]) -> None:
    expected = {
        "postgres", "redis", "web", "worker-cpu", "worker-gpu", "worker-housekeeping", "beat",
        "flower",
    }  # fmt: skip
    assert expected <= set(services)


def test_it_keeps_flower_behind_a_profile(services: dict[str, dict[str, Any]]) -> None:
    assert services["flower"].get("profiles")


def test_it_runs_postgres_16_with_a_volume(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_it_checks_postgres_with_pg_isready(services: dict[str, dict[str, Any]]) -> None:
    assert "pg_isready" in words(services["postgres"]["healthcheck"], "test")


def test_it_checks_redis_health(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert "ping" in words(redis["healthcheck"], "test")


def test_it_serves_web_with_gunicorn(services: dict[str, dict[str, Any]]) -> None:
    command = words(services["web"])
    assert command[0] == "gunicorn"
    assert "coursesite.wsgi" in command
    assert option(command, "--bind", "-b").endswith(":8000")


def test_it_publishes_web_on_port_8000(services: dict[str, dict[str, Any]]) -> None:
    assert any(str(port).endswith(":8000") for port in services["web"]["ports"])


def test_it_migrates_before_web_starts(services: dict[str, dict[str, Any]]) -> None:
    assert "/app/docker/entrypoint-web.sh" in words(services["web"], "entrypoint")
    script = WEB_ENTRYPOINT.read_text()
    assert "python manage.py migrate --noinput" in script
    assert script.index("migrate") < script.index('exec "$@"')


def test_it_ships_an_executable_web_entrypoint() -> None:
    assert os.access(WEB_ENTRYPOINT, os.X_OK)
    assert WEB_ENTRYPOINT.read_text().startswith("#!/bin/sh")


def test_it_gives_workers_a_writable_cgroup_tree_of_their_own(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("worker-cpu", "worker-gpu"):
        assert "/app/docker/entrypoint-worker.sh" in words(services[name], "entrypoint")
    assert os.access(WORKER_ENTRYPOINT, os.X_OK)
    # Where the remount is refused it says so and still starts the worker.
    ran = subprocess.run(
        ["unshare", "--mount", str(WORKER_ENTRYPOINT), "echo", "worker started"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ran.returncode, ran.stdout) == (0, "worker started\n")


def test_it_checks_web_health_on_healthz(services: dict[str, dict[str, Any]]) -> None:
    assert "/app/docker/healthcheck-web.py" in words(services["web"]["healthcheck"], "test")
    assert "http://127.0.0.1:8000/healthz" in WEB_HEALTHCHECK.read_text()


def test_it_listens_on_cpu_and_regrade_in_worker_cpu(services: dict[str, dict[str, Any]]) -> None:
    command = words(services["worker-cpu"])
    assert command[:4] == ["celery", "-A", "coursesite", "worker"]
    assert set(option(command, "-Q", "--queues").split(",")) == {"cpu", "regrade"}


def test_it_prefetches_one_job_per_worker_slot(services: dict[str, dict[str, Any]]) -> None:
    for name in WORKERS:
        assert option(words(services[name]), "--prefetch-multiplier") == "1", name


def test_it_listens_only_on_gpu_in_worker_gpu(services: dict[str, dict[str, Any]]) -> None:
    command = words(services["worker-gpu"])
    assert command[:4] == ["celery", "-A", "coursesite", "worker"]
    assert option(command, "-Q", "--queues") == "gpu"


def test_it_runs_gpu_jobs_per_gpu_jobs_at_once_one_by_default(
    services: dict[str, dict[str, Any]],
) -> None:
    worker = services["worker-gpu"]
    concurrency = option(words(worker), "--concurrency", "-c")
    # The worker's pool and the slot -> GPU mapping read one variable, so they cannot disagree.
    assert concurrency == environment(worker)["GRADING_JOBS_PER_GPU"] == "${GPU_JOBS_PER_GPU:-1}"
    assert with_defaults(concurrency) == "1"


def test_it_names_the_reserved_gpu_for_the_sandbox(services: dict[str, dict[str, Any]]) -> None:
    assert environment(services["worker-gpu"])["GRADING_GPUS"] == "0"


def test_it_gives_each_grading_worker_sandbox_slots_of_its_own(
    services: dict[str, dict[str, Any]],
) -> None:
    slots = []
    for name in WORKERS:
        worker = services[name]
        offset = int(environment(worker).get("GRADING_SLOT_OFFSET", "0"))
        concurrency = int(with_defaults(option(words(worker), "--concurrency", "-c")))
        slots.append(set(range(offset, offset + concurrency)))
    assert not set.intersection(*slots)


def test_it_reserves_an_nvidia_gpu_for_worker_gpu(services: dict[str, dict[str, Any]]) -> None:
    devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


def test_it_reserves_no_gpu_for_worker_cpu(services: dict[str, dict[str, Any]]) -> None:
    assert "deploy" not in services["worker-cpu"]


def test_it_serves_housekeeping_on_a_worker_of_its_own(
    services: dict[str, dict[str, Any]],
) -> None:
    worker = services["worker-housekeeping"]
    command = words(worker)
    assert command[:4] == ["celery", "-A", "coursesite", "worker"]
    assert option(command, "-Q", "--queues") == "housekeeping"
    assert option(command, "--pool", "-P") == "solo"
    assert option(command, "--concurrency", "-c") == "1"
    assert option(command, "--hostname", "-n") == "housekeeping@%h"
    assert "--destination housekeeping@$$HOSTNAME" in " ".join(worker["healthcheck"]["test"])


def test_it_runs_beat(services: dict[str, dict[str, Any]]) -> None:
    assert words(services["beat"])[:4] == ["celery", "-A", "coursesite", "beat"]


def test_it_shares_the_media_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    mounts = {name: {str(v) for v in services[name].get("volumes", [])} for name in APP_SERVICES}
    for name in ("web", *WORKERS):
        assert "media:/srv/media" in mounts[name], name
        assert environment(services[name])["MEDIA_ROOT"] == "/srv/media", name
    assert "media" in compose["volumes"]


def test_it_shares_one_database_and_broker(services: dict[str, dict[str, Any]]) -> None:
    envs = [environment(services[name]) for name in APP_SERVICES]
    assert {env["DATABASE_URL"] for env in envs} == {envs[0]["DATABASE_URL"]}
    assert {env["CELERY_BROKER_URL"] for env in envs} == {"redis://redis:6379/0"}
    assert re.fullmatch(
        r"postgres://coursesite:.+@postgres:5432/coursesite", envs[0]["DATABASE_URL"]
    )
    assert envs[0]["REDIS_URL"].startswith("redis://redis:6379/")


def test_it_requires_secret_key_without_a_default(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        secret = environment(services[name])["SECRET_KEY"]
        assert re.fullmatch(r"\$\{SECRET_KEY:?\?[^}]*\}", secret), (name, secret)


def test_it_uses_production_settings(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        settings = environment(services[name])["DJANGO_SETTINGS_MODULE"]
        assert settings == "coursesite.settings.production", name


def test_it_starts_web_after_healthy_postgres_and_redis(
    services: dict[str, dict[str, Any]],
) -> None:
    deps = depends_on(services["web"])
    assert deps == {"postgres": "service_healthy", "redis": "service_healthy"}


def test_it_starts_workers_and_beat_after_a_migrated_web(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in (*WORKERS, "worker-housekeeping", "beat"):
        assert depends_on(services[name]).get("web") == "service_healthy", name


def test_it_lets_workers_create_sandbox_namespaces(services: dict[str, dict[str, Any]]) -> None:
    for name in WORKERS:
        worker = services[name]
        assert "SYS_ADMIN" in worker["cap_add"], name
        assert {"seccomp:unconfined", "apparmor:unconfined"} <= set(worker["security_opt"]), name


def test_it_runs_workers_as_root_for_bwrap(services: dict[str, dict[str, Any]]) -> None:
    for name in WORKERS:
        assert str(services[name]["user"]).split(":")[0] in {"0", "root"}, name


def test_it_keeps_web_beat_and_housekeeping_unprivileged(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("web", "beat", "worker-housekeeping"):
        service = services[name]
        assert "user" not in service, name
        assert not service.get("cap_add"), name
        assert not service.get("security_opt"), name
        assert not service.get("privileged"), name
        assert "deploy" not in service, name


def test_it_puts_flower_behind_a_password_compose_requires(
    services: dict[str, dict[str, Any]],
) -> None:
    flower = services["flower"]
    login = environment(flower)["FLOWER_BASIC_AUTH"]
    assert re.fullmatch(r"\$\{FLOWER_USER:-\w+\}:\$\{FLOWER_PASSWORD:\?[^}]+\}", login), login
    # No login given on the command line, where it would override the one above.
    assert not any("auth" in word for word in words(flower))


def test_it_publishes_flower_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    ports = [str(port) for port in services["flower"]["ports"]]
    assert ports
    assert all(port.startswith("127.0.0.1:") for port in ports), ports


def test_it_installs_bubblewrap_and_setpriv_in_the_image() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    installs = [args.split() for args in runs if "apt-get" in args and "install" in args]
    assert any({"bubblewrap", "util-linux"} <= set(packages) for packages in installs)


def test_it_installs_the_worker_extra() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install [\"']?\.\[worker\]", args) for args in runs)


def test_it_builds_from_python_3_11_slim() -> None:
    base = next(args for keyword, args in dockerfile_instructions() if keyword == "FROM")
    assert base.startswith("python:3.11-slim")


def test_it_collects_static_files_at_build() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert any("manage.py collectstatic --noinput" in args for args in runs)


def test_it_defaults_the_image_to_production_settings() -> None:
    envs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "ENV")
    assert "DJANGO_SETTINGS_MODULE=coursesite.settings.production" in envs


def test_it_drops_root_in_the_image() -> None:
    users = [args for keyword, args in dockerfile_instructions() if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_it_passes_compose_config(tmp_path: Path) -> None:
    result = run_config(required_env(), tmp_path)
    assert result.returncode == 0, result.stderr


def test_it_refuses_compose_config_without_secret_key(tmp_path: Path) -> None:
    env = {key: value for key, value in required_env().items() if key != "SECRET_KEY"}
    result = run_config(env, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_compose_config_without_a_flower_password(tmp_path: Path) -> None:
    env = {key: value for key, value in required_env().items() if key != "FLOWER_PASSWORD"}
    result = run_config(env, tmp_path)
    assert result.returncode != 0
    assert "FLOWER_PASSWORD" in result.stderr


def test_it_sizes_the_gpu_worker_from_gpu_jobs_per_gpu(tmp_path: Path) -> None:
    result = run_config(required_env(GPU_JOBS_PER_GPU="3"), tmp_path, quiet=False)
    assert result.returncode == 0, result.stderr
    worker = yaml.safe_load(result.stdout)["services"]["worker-gpu"]
    assert option(words(worker), "--concurrency", "-c") == "3"
    assert environment(worker)["GRADING_JOBS_PER_GPU"] == "3"
    assert environment(worker)["GRADING_GPUS"] == "0"
