"""A job folder with a size of its own: a tmpfs of the job's ``job_bytes`` mounted at it.

A per-file limit (RLIMIT_FSIZE) does not stop a job that writes many files; a sized file system
does: past its size every write fails with "No space left on device", and the worker's disk
never fills. A tmpfs needs no disk image or quota support on the host, only the right to mount
(the worker is root, as bwrap needs it to be). Its pages live in memory and are charged to the
process that writes them: what the job writes counts towards its memory limit, while the files
the worker puts there before the run (the hand-in, the bundle's public files) count towards the
worker's. Where it cannot mount (not root, no permission), the folder is a plain one and the
worker logs so once.

A worker killed in the middle of a run (out of memory, a deploy) leaves its run's folder, and
the tmpfs in it, behind. Each run holds a lock on a file in its folder (``claimed``) for as long
as it lives, so the next run in the same place finds the folders nobody holds any more and
removes them (``sweep_abandoned``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

FS_NAME = "coursesite-job"
LOCK_NAME = ".running"
_warned = False


@contextmanager
def claimed(folder: Path) -> Iterator[None]:
    """Hold ``folder`` as a live run's for the block (and no longer than this process lives).
    A run that ends takes its lock file away, so a folder kept for inspection is never swept."""
    lock = folder / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def sweep_abandoned(root: Path, pattern: str) -> list[Path]:
    """Remove the folders under ``root`` matching ``pattern`` whose run is gone: claimed once,
    held by no process now. A folder not claimed yet is a run starting: it is left alone.
    Returns what was removed."""
    removed = []
    for folder in sorted(root.glob(pattern)):
        try:
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            for inner in folder.iterdir():
                if inner.is_dir() and not inner.is_symlink() and os.path.ismount(inner):
                    _unmount(inner)
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
        log.warning("removed %s, left by a run that ended without cleaning up", folder)
        removed.append(folder)
    return removed


@contextmanager
def sized_folder(path: Path, size_bytes: int) -> Iterator[bool]:
    """Make the new folder ``path`` and, where this process may, mount a tmpfs of
    ``size_bytes`` on it for the block; yields whether it is sized. The block must leave the
    folder as it wants it kept: on leaving, the tmpfs and all in it are gone (the caller copies
    out what it keeps first)."""
    path.mkdir(mode=0o755)
    sized = _mount(path, size_bytes)
    try:
        yield sized
    finally:
        if sized:
            _unmount(path)


def _mount(path: Path, size_bytes: int) -> bool:
    global _warned
    if os.geteuid() != 0:
        problem = "the worker is not root"
    else:
        options = f"size={size_bytes},mode=0755,nosuid,nodev"
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, FS_NAME, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return True
        problem = done.stderr.strip() or f"mount exited with {done.returncode}"
    if not _warned:
        _warned = True
        log.warning(
            "job folders are not sized (%s): only each file is capped (RLIMIT_FSIZE), "
            "so a job writing many files can fill the worker's disk",
            problem,
        )
    return False


def _unmount(path: Path) -> None:
    done = subprocess.run(["umount", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # Busy only if something still has a file open there; detach it, the kernel frees it
        # when the last one closes.
        lazy = subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
        log.warning("unmounting the job folder %s: %s", path, done.stderr.strip())
        if lazy.returncode != 0:
            log.error("could not unmount the job folder %s", path)
