"""Finds out who it runs as, and tries root's home and the password database."""

import os

print(f"uids {os.getresuid()} gids {os.getresgid()} groups {os.getgroups()}")
for path in ("/root", "/root/.bashrc", "/etc/shadow"):
    try:
        if os.path.isdir(path):
            print(f"listed {path}: {os.listdir(path)}")
        else:
            with open(path, "rb") as found:
                print(f"read {path}: {found.read(100)!r}")
    except OSError as error:
        print(f"cannot read {path}: {error}")
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith(("CapEff", "CapBnd", "NoNewPrivs", "Seccomp:")):
            print(line.strip())
