"""Leaves a file behind wherever it can, outside its own folder."""

import sys

for path in sys.argv[1:]:
    try:
        with open(path, "w") as left:
            left.write("was here")
        print(f"wrote {path}")
    except OSError as error:
        print(f"cannot write {path}: {error}")
