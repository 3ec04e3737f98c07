"""Running untrusted code (a student's submission and the driver beside it) in a sandbox.

``run_sandboxed`` starts bubblewrap as root with an empty environment. Inside, the job has no
network and its own pid, ipc, uts and cgroup namespaces; it sees /usr and the Python environment
read-only, its job directory read-write at /job, and sized tmpfs at /tmp and /dev/shm; it runs as a
uid of its own per worker slot (60000 + slot) with no capabilities, no_new_privs, a seccomp filter
and rlimits; it is killed as a whole at the wall-clock limit or when it writes more output than
allowed. Where the sandbox cannot run, untrusted code is refused unless the operator allows an
unsandboxed development mode, which warns on every run.
"""

from grading.sandbox.limits import Limits
from grading.sandbox.runner import (
    SandboxResult,
    SandboxUnavailable,
    run_sandboxed,
    sandbox_available,
)

__all__ = ["Limits", "SandboxResult", "SandboxUnavailable", "run_sandboxed", "sandbox_available"]
