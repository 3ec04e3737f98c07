"""Run the web server, a grading worker and a housekeeping worker side by side; Ctrl-C stops all.

Housekeeping (the reconciler, run by beat) has a worker of its own, so that it never waits
behind a grading job on the one grading slot.
"""

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

GRADING_QUEUES = "cpu,gpu,regrade"
HOUSEKEEPING_QUEUE = "housekeeping"


def worker_command(python: str, *options: str) -> list[str]:
    return [python, "-m", "celery", "-A", "coursesite", "worker", "--loglevel", "INFO", *options]


class Command(BaseCommand):
    help = (
        "Serve coursesite on one machine: the web server, a worker for the grading queues, "
        "and a housekeeping worker with beat."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="address:port of the web server"
        )

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        names = ["web server", "grading worker", "housekeeping worker"]
        children = [
            subprocess.Popen([python, manage, "runserver", "--noreload", addr]),
            subprocess.Popen(
                worker_command(python, "-Q", GRADING_QUEUES, "--concurrency", "1",
                               "--hostname", "embedded@%h")
            ),
            # One process, no pool: the reconciler is a few queries. Beat rides here, where
            # what it sends is taken at once.
            subprocess.Popen(
                worker_command(python, "-Q", HOUSEKEEPING_QUEUE, "--pool", "solo",
                               "--concurrency", "1", "--hostname", "housekeeping@%h", "--beat")
            ),
        ]  # fmt: skip
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"coursesite is at http://{addr}/ (Ctrl-C stops the server and the workers)"
        )
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        ended = [
            name for name, child in zip(names, children, strict=True) if child.poll() is not None
        ]
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if not stopping:
            raise SystemExit(f"coursesite stopped because the {' and the '.join(ended)} ended")
