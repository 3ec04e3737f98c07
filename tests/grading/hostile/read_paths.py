"""Tries to read files it was told about: answers, other students' work, the media folder."""

import os
import sys

for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            print(f"listed {path}: {os.listdir(path)}")
        else:
            with open(path, "rb") as found:
                print(f"read {path}: {found.read()!r}")
    except OSError as error:
        print(f"cannot read {path}: {error}")
    parent = os.path.dirname(path)
    print(f"{parent} exists: {os.path.exists(parent)}")
