"""The bwrap command line of one run: what the job sees, and as whom it runs.

The job's world is an empty root with, in this order: a sized tmpfs at /tmp (first, so a bind
under /tmp made later lands on top of it instead of being hidden by it), /usr and the merged-usr
links read-only, an /etc of its own, the Python environment read-only at its own paths, the job
directory read-write at /job, a fresh /proc, a minimal /dev made read-only with a sized tmpfs at
/dev/shm, and on GPU jobs the one GPU's device nodes and /sys read-only.

The host's /etc is not shown: it holds the accounts, keys and configuration of the worker. The
job's /etc has made-up passwd, group and hosts files (so that its uid has a name and localhost
resolves) and, from the host, only the dynamic linker's cache and the alternatives' links (how
Debian names awk, cc or java in /usr). There is no resolv.conf or
certificate store, as there is no network to use them on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grading.sandbox.limits import Limits, prlimit_options

JOB = PurePosixPath("/job")
# Paths inside the sandbox, where each is a tmpfs of the job's own.
TMP = "/tmp"  # noqa: S108
SHM = "/dev/shm"  # noqa: S108
SLOT_UID_BASE = 60000
# A bundle's grader.py runs as a uid of its own per slot too, apart from the student's code.
GRADER_UID_BASE = 70000
SLOTS = 5000
HOSTNAME = "sandbox"

# The top-level links or folders that merged-usr systems point into /usr and older ones keep apart.
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# From the host's /etc: the dynamic linker's cache, and the links by which Debian names one of
# several programs in /usr (awk, cc, c++, java, which, ...): links only, no secrets.
HOST_ETC = ("/etc/ld.so.cache", "/etc/alternatives")
GPU_SHARED_NODES = ("/dev/nvidiactl", "/dev/nvidia-uvm")
GPU_OPTIONAL_NODES = ("/dev/nvidia-uvm-tools",)


def slot_uid(slot: int, *, grader: bool = False) -> int:
    """The uid and gid a slot's jobs (or, with ``grader``, its graders) run as; no account on the
    host should have it."""
    if not 0 <= slot < SLOTS:
        raise ValueError(f"slot must be between 0 and {SLOTS - 1}, not {slot}")
    return (GRADER_UID_BASE if grader else SLOT_UID_BASE) + slot


def etc_files(uid: int, home: PurePosixPath = JOB) -> dict[str, bytes]:
    """/etc files made up for the job: the names of its own user and group, and localhost."""
    return {
        "/etc/passwd": f"sandbox:x:{uid}:{uid}:sandbox:{home}:/usr/sbin/nologin\n".encode(),
        "/etc/group": f"sandbox:x:{uid}:\n".encode(),
        "/etc/hosts": b"127.0.0.1\tlocalhost\n::1\tlocalhost\n",
    }


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the programs the command line runs; /usr is bound, so they match inside."""

    bwrap: str
    setpriv: str
    prlimit: str


@dataclass(frozen=True)
class Fds:
    """Descriptors the worker passes to bwrap: the compiled seccomp filter, the status pipe bwrap
    reports to, and one descriptor per made-up /etc file, each read by bwrap and closed before
    the job starts."""

    seccomp: int
    status: int
    etc: Mapping[str, int]


def bwrap_argv(
    command: Sequence[str],
    *,
    tools: Tools,
    fds: Fds,
    job_dir: Path,
    limits: Limits,
    uid: int,
    env: Mapping[str, str],
    read_only: Sequence[Path] = (),
    read_only_at: Mapping[PurePosixPath, Path] | None = None,
    gpu_index: int | None = None,
    mount_at: PurePosixPath = JOB,
    address_space: bool = True,
    writable_at: Mapping[PurePosixPath, Path] | None = None,
) -> list[str]:
    """The full command line: bwrap, then setpriv dropping to ``uid``, then prlimit, then
    ``command``. ``read_only`` (the Python environment, and what the caller adds) is bound
    read-only at the same paths; ``read_only_at`` binds each host path read-only at the path
    inside that names it, after the job folder (so it may land inside it), and ``writable_at``
    read-write: a folder bound on its own inside the job folder is a mount point there, which
    the job can fill but neither remove nor replace. ``address_space``
    false leaves RLIMIT_AS out, where a cgroup bounds memory."""
    mounts = _Mounts()
    mounts.tmpfs(TMP, limits.tmp_bytes)
    mounts.ro_bind("/usr")
    for name in ROOT_LINKS:
        host = Path("/", name)
        if host.is_symlink():
            mounts.add("--symlink", os.readlink(host), str(host))
        elif host.is_dir():
            mounts.ro_bind(str(host))
    mounts.folder("/etc", "0755")
    for made_up, fd in sorted(fds.etc.items()):
        mounts.add("--perms", "0644", "--ro-bind-data", str(fd), made_up)
    for host_file in HOST_ETC:
        if Path(host_file).exists():
            mounts.ro_bind(host_file)
    for path in read_only:
        mounts.ro_bind(str(path))
    mounts.bind(str(job_dir), str(mount_at))
    for inside, host in sorted((writable_at or {}).items()):
        mounts.bind(str(host), str(inside))
    for inside, host in sorted((read_only_at or {}).items()):
        mounts.ro_bind(str(host), str(inside))
    mounts.add("--proc", "/proc", "--dev", "/dev")
    mounts.tmpfs(SHM, limits.shm_bytes)
    if gpu_index is not None:
        for node in gpu_nodes(gpu_index):
            mounts.add("--dev-bind", node, node)
    # Not recursive: /dev/shm and the GPU nodes bound above stay writable.
    mounts.add("--remount-ro", "/dev")
    if gpu_index is not None:
        mounts.ro_bind("/sys")

    argv = [
        tools.bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        HOSTNAME,
        "--clearenv",
    ]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += mounts.argv
    argv += ["--chdir", str(mount_at), "--seccomp", str(fds.seccomp)]
    argv += ["--json-status-fd", str(fds.status)]
    argv += ["--", *setpriv_argv(tools.setpriv, uid)]
    argv += ["--", tools.prlimit, *prlimit_options(limits, address_space=address_space)]
    argv += ["--", *command]
    return argv


def setpriv_argv(setpriv: str, uid: int) -> list[str]:
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ]


def gpu_nodes(gpu_index: int) -> list[str]:
    nodes = [f"/dev/nvidia{gpu_index}", *GPU_SHARED_NODES]
    return nodes + [node for node in GPU_OPTIONAL_NODES if Path(node).exists()]


class _Mounts:
    """bwrap's mount arguments, in order, creating the folders above each destination by hand:
    bwrap would make them mode 0700 and owned by root, which the job's uid cannot cross."""

    def __init__(self) -> None:
        self.argv: list[str] = []
        self._made: set[PurePosixPath] = {PurePosixPath("/")}
        self._bound: list[PurePosixPath] = []

    def add(self, *arguments: str) -> None:
        self.argv += arguments

    def folder(self, dest: str, mode: str) -> None:
        self._parents(dest)
        self.add("--perms", mode, "--dir", dest)
        self._made.add(PurePosixPath(dest))

    def tmpfs(self, dest: str, size: int) -> None:
        self._parents(dest)
        self.add("--perms", "1777", "--size", str(size), "--tmpfs", dest)
        self._made.add(PurePosixPath(dest))

    def ro_bind(self, path: str, dest: str | None = None) -> None:
        dest = path if dest is None else dest
        self._parents(dest)
        self.add("--ro-bind", path, dest)
        self._bound.append(PurePosixPath(dest))

    def bind(self, source: str, dest: str) -> None:
        self._parents(dest)
        self.add("--bind", source, dest)
        self._bound.append(PurePosixPath(dest))

    def _parents(self, dest: str) -> None:
        for parent in reversed(PurePosixPath(dest).parents):
            inside_bind = any(parent.is_relative_to(bound) for bound in self._bound)
            if parent in self._made or inside_bind:
                continue
            # Crossable, not listable: the job reaches what is bound below without seeing names.
            self.folder(str(parent), "0711")
