"""A grader.py that tries, instead of grading, everything a grader must not be able to do, and
reports what it found as the output of the one test: the worker's database (over the network, by
its socket and by its file), another job's folder, the student's job folder, the worker's
environment, the network, writing into the run's outputs, and a process left running."""

import json
import os
import socket
import subprocess
import sys


def attempt(action):
    try:
        return f"done: {action()!r}"[:300]
    except Exception as error:  # every refusal is a finding
        return f"refused: {type(error).__name__}: {error}"[:300]


def connect(host, port):
    with socket.create_connection((host, port), timeout=2):
        return "connected"


def read(path):
    with open(path, "rb") as file:
        return file.read(200).decode(errors="replace")


def write_output():
    with open("out/answer.json", "w") as file:
        file.write('{"value": 999}')
    return "written"


def leave_running():
    subprocess.Popen(
        [sys.executable, "-c", "import os, time\nif os.fork() == 0:\n    time.sleep(600)"],
        start_new_session=True,
    )
    return "started"


def grade(outputs, private, run):
    targets = json.loads((private / "targets.json").read_text())
    findings = {
        "uid": os.getuid(),
        "environment": dict(os.environ),
        "answer": outputs.json("answer.json"),
        "private": (private / "expected.txt").read_text().strip(),
        "postgresql": attempt(lambda: connect("127.0.0.1", 5432)),
        "redis": attempt(lambda: connect("127.0.0.1", 6379)),
        "internet": attempt(lambda: connect("1.1.1.1", 53)),
        "dns": attempt(lambda: socket.getaddrinfo("pypi.org", 443)),
        "postgresql_socket": attempt(lambda: connect_unix("/var/run/postgresql/.s.PGSQL.5432")),
        "database_file": attempt(lambda: read(targets["database_file"])),
        "other_job": attempt(lambda: read(targets["other_job"])),
        "own_job": attempt(lambda: os.listdir(targets["job_folder"])),
        "work_root": attempt(lambda: os.listdir(targets["work_root"])),
        "init_environ": attempt(lambda: read("/proc/1/environ")),
        "etc_shadow": attempt(lambda: read("/etc/shadow")),
        "write_output": attempt(write_output),
        "left_running": attempt(leave_running),
    }
    return [{"name": "answer", "score": 10, "output": json.dumps(findings)}]


def connect_unix(path):
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(path)
        return "connected"
