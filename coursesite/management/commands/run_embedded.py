"""Run the web server and one Celery worker side by side; Ctrl-C stops both."""

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

QUEUES = "cpu,gpu,regrade"


class Command(BaseCommand):
    help = "Serve coursesite on one machine: the web server and a worker with beat for every queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="address:port of the web server"
        )

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        names = ["web server", "worker"]
        children = [
            subprocess.Popen([python, manage, "runserver", "--noreload", addr]),
            subprocess.Popen(
                [python, "-m", "celery", "-A", "coursesite", "worker", "-Q", QUEUES,
                 "--concurrency", "1", "--hostname", "embedded@%h", "--loglevel", "INFO",
                 # Beat inside the worker: the reconciler runs without a process of its own.
                 "--beat"]
            ),
        ]  # fmt: skip
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"coursesite is at http://{addr}/ (Ctrl-C stops the server and the worker)"
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
