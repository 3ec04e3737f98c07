"""The seccomp filter bwrap loads before the job starts.

Everything is allowed except system calls a training job never needs and that open a way out or
into the kernel's less-trodden corners. They fail with EPERM rather than killing the process, so a
library that probes for them (or a student who tries) gets an ordinary error.
"""

from __future__ import annotations

import errno
import functools
import tempfile
from types import ModuleType

CLONE_NEWUSER = 0x10000000

REFUSED = (
    # namespaces, and the mount calls that would rearrange the sandbox from inside
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    # reading or steering other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    # kernel keyrings are shared across the machine, not per namespace
    "keyctl",
    "add_key",
    "request_key",
    # the kernel itself
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "open_by_handle_at",
    "name_to_handle_at",
    "lookup_dcookie",
    "syslog",
    "iopl",
    "ioperm",
    "uselib",
    "vhangup",
)


class SeccompUnavailable(Exception):
    """The filter could not be built (libseccomp or its binding is missing, or too old)."""


@functools.cache
def seccomp_bpf() -> bytes:
    """The compiled filter for this machine's architecture, as bwrap's ``--seccomp`` reads it.

    Calls of another architecture (32-bit calls on x86_64) are killed, libseccomp's default,
    because the rules below would not match their numbers.
    """
    try:
        import pyseccomp
    except (ImportError, OSError, RuntimeError) as error:
        raise SeccompUnavailable(f"libseccomp cannot be loaded: {error}") from error

    refuse = pyseccomp.ERRNO(errno.EPERM)
    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in REFUSED:
        rules.add_rule(refuse, _syscall_number(pyseccomp, name))
    new_user_namespace = pyseccomp.Arg(0, pyseccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)
    for name in ("unshare", "clone"):
        rules.add_rule(refuse, _syscall_number(pyseccomp, name), new_user_namespace)
    # clone3 passes its flags in memory a filter cannot read; ENOSYS sends glibc back to clone.
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), _syscall_number(pyseccomp, "clone3"))
    with tempfile.TemporaryFile() as compiled:
        rules.export_bpf(compiled)
        compiled.seek(0)
        return compiled.read()


def _syscall_number(pyseccomp: ModuleType, name: str) -> int:
    # An unknown name would leave the call allowed: an old libseccomp must not pass for a filter.
    number: int = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
    if number < 0:
        raise SeccompUnavailable(f"libseccomp does not know the system call {name}")
    return number
