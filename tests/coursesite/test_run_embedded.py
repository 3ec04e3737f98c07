"""The embedded mode of `make run`: migrate, the demo course, a web server, a grading worker and
a housekeeping worker."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, django_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


@pytest.fixture
def embedded(tmp_path):
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development", COURSESITE_VAR_DIR=str(tmp_path)
    )
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["load_demo"]):
        subprocess.run(
            manage + command, cwd=REPO, env=env, check=True, capture_output=True, timeout=180
        )
    port = free_port()
    server = subprocess.Popen(
        [*manage, "run_embedded", "--addr", f"127.0.0.1:{port}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield f"http://127.0.0.1:{port}", server, tmp_path
    if server.poll() is None:
        server.kill()
        server.wait()


def processes_with_env(entry: str) -> list[int]:
    """The processes whose environment holds ``entry``: what this test started and left behind."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if entry.encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def wait_for_workers(base, token, count):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Only staff see the worker count; the instructor's token says who asks.
            health = get_json(f"{base}/healthz", token)
            if health["workers"] == count:
                return health
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{count} workers never answered")


def inspect(var_dir, what):
    """Ask the embedded workers over their broker, as an operator would with `celery inspect`."""
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development", COURSESITE_VAR_DIR=str(var_dir)
    )
    answer = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "coursesite", "inspect", what, "--json",
         "--timeout", "5"],
        cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return {node.split("@")[0]: reply for node, reply in json.loads(answer.stdout).items()}


def instructor_token(base):
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"username": "aerdem", "password": "demo"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)["token"]
        except urllib.error.URLError:
            # The server is still starting.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_it_serves_the_demo_course_with_two_workers_and_stops_all_on_ctrl_c(embedded):
    base, server, var_dir = embedded
    token = instructor_token(base)
    health = wait_for_workers(base, token, 2)
    assert health["database"]["vendor"] == "sqlite"
    assert health["broker"]["transport"] == "filesystem"
    assert get_json(f"{base}/healthz") == {"status": "ok"}

    course = get_json(f"{base}/api/v1/courses/comp541-fall2024/", token)
    assert len(course["categories"]) == 7

    queues = {
        node: {queue["name"] for queue in reply}
        for node, reply in inspect(var_dir, "active_queues").items()
    }
    assert queues == {"embedded": {"cpu", "gpu", "regrade"}, "housekeeping": {"housekeeping"}}
    pools = {node: reply["pool"] for node, reply in inspect(var_dir, "stats").items()}
    assert pools["housekeeping"]["implementation"].endswith("solo:TaskPool")
    assert pools["embedded"]["max-concurrency"] == 1

    server.send_signal(signal.SIGINT)
    server.wait(timeout=40)
    assert server.returncode == 0
    assert processes_with_env(f"COURSESITE_VAR_DIR={var_dir}") == []
    with pytest.raises(OSError):
        get_json(f"{base}/healthz")
