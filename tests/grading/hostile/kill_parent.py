"""Kills its parent, then every process it may signal, as `kill -9 -1` does."""

import os
import signal
import subprocess

try:
    os.kill(os.getppid(), signal.SIGKILL)
    print("killed the parent")
except OSError as error:
    print(f"cannot kill the parent: {error}", flush=True)
subprocess.run(["kill", "-9", "-1"], check=False)
print("still alive after kill -9 -1")
