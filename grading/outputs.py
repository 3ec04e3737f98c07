"""Reading what an untrusted run left in its output folder, with loaders that cannot run code.

Everything under the folder was written by code that may be hostile: a name may be a link to a
secret, a FIFO that blocks the reader forever, a file far too big, or a pickle waiting to be
unpickled. So each file is reached one component at a time from the folder with ``O_NOFOLLOW``
(never by a path the kernel resolves for us), must be a regular file with no other hard links,
is read only up to a size cap, and is parsed by loaders that refuse code: JSON, ``.npy`` without
pickles, ``torch.load(weights_only=True)``, and UTF-8 text.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy

MEBIBYTE = 1024 * 1024
DEFAULT_MAX_BYTES = 64 * MEBIBYTE

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer that never comes.
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class BadOutput(Exception):
    """An output that is missing or cannot be trusted or parsed; ``message`` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Outputs:
    """The files of one run's output folder ``root``, each read at most ``max_bytes`` long.

    Names are relative to ``root`` with ``/`` between folders (``"curves/loss.json"``).
    """

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        # Messages name files as the bundle's author sees them: out/metrics.json.
        self.label = self.root.name

    def raw(self, name: str) -> bytes:
        shown = self._shown(name)
        descriptor = self._open(name, shown)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise BadOutput(f"{shown} is not a regular file.")
            # A second name for one file is how a run could hand over a file it only found.
            if info.st_nlink != 1:
                raise BadOutput(f"{shown} has other hard links; write a new file instead.")
            if info.st_size > self.max_bytes:
                raise self._too_big(shown, info.st_size)
            return self._read(descriptor, shown)
        finally:
            os.close(descriptor)

    def text(self, name: str) -> str:
        try:
            return self.raw(name).decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadOutput(f"{self._shown(name)} is not UTF-8 text ({error.reason}).") from None

    def json(self, name: str) -> Any:
        text = self.text(name)
        try:
            return json.loads(text)
        except ValueError as error:
            raise BadOutput(f"{self._shown(name)} is not valid JSON: {error}.") from None
        except RecursionError:
            raise BadOutput(f"{self._shown(name)} is JSON nested too deeply.") from None

    def npy(self, name: str) -> numpy.ndarray:
        """A ``.npy`` array; object arrays (pickles) and ``.npz`` archives are refused."""
        import numpy
        from numpy.lib import format as npy_format

        shown = self._shown(name)
        data = io.BytesIO(self.raw(name))
        try:
            version = npy_format.read_magic(data)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(data)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(data)
            else:
                raise BadOutput(
                    f"{shown}: .npy version {version} is not supported; use numpy.save."
                )
            if dtype.hasobject:
                raise BadOutput(f"{shown} holds Python objects (a pickle), which are not loaded.")
            # Checked before loading: the header alone would make numpy allocate what it claims.
            expected = math.prod(shape) * dtype.itemsize
            if expected != len(data.getbuffer()) - data.tell():
                raise BadOutput(f"{shown}: the array's header does not match its data.")
            data.seek(0)
            return numpy.load(data, allow_pickle=False)
        except (ValueError, OSError, EOFError, MemoryError) as error:
            raise BadOutput(f"{shown} is not a readable .npy array ({error}).") from None

    def torch(self, name: str) -> Any:
        """Tensors saved with ``torch.save``; anything needing more than weights is refused."""
        import torch

        data = io.BytesIO(self.raw(name))
        try:
            return torch.load(data, map_location="cpu", weights_only=True)
        except Exception as error:  # every way a hostile file can fail is a BadOutput
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise BadOutput(
                f"{self._shown(name)} is not a tensor file that loads safely "
                f"({type(error).__name__}: {reason[:300]})."
            ) from None

    def _shown(self, name: str) -> str:
        return f"{self.label}/{name}"

    def _open(self, name: str, shown: str) -> int:
        if not isinstance(name, str) or not name or "\x00" in name or name.startswith("/"):
            raise BadOutput(f"{shown!r} is not a file name inside {self.label}/.")
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise BadOutput(f"{shown} is not a plain name inside {self.label}/ ('..' or empty).")
        try:
            folder = os.open(self.root, _DIRECTORY)
        except OSError as error:
            raise self._refused(f"{self.label}/", error, folder=True) from None
        try:
            for depth, part in enumerate(parts[:-1], start=1):
                try:
                    inner = os.open(part, _DIRECTORY, dir_fd=folder)
                except OSError as error:
                    shown_folder = f"{self.label}/{'/'.join(parts[:depth])}"
                    raise self._refused(shown_folder, error, folder=True) from None
                os.close(folder)
                folder = inner
            try:
                return os.open(parts[-1], _FILE, dir_fd=folder)
            except OSError as error:
                raise self._refused(shown, error, folder=False) from None
        finally:
            os.close(folder)

    def _refused(self, shown: str, error: OSError, *, folder: bool) -> BadOutput:
        if error.errno == errno.ENOENT:
            return BadOutput(f"{shown} is missing.")
        if folder and error.errno in (errno.ELOOP, errno.ENOTDIR):
            return BadOutput(f"{shown} is a link or not a folder; links are never followed.")
        if error.errno == errno.ELOOP:
            return BadOutput(f"{shown} is a symbolic link; links are never followed.")
        return BadOutput(f"{shown} cannot be opened ({error.strerror}).")

    def _too_big(self, shown: str, size: int) -> BadOutput:
        return BadOutput(f"{shown} is {size} bytes or more; the limit is {self.max_bytes} bytes.")

    def _read(self, descriptor: int, shown: str) -> bytes:
        # Read to the cap whatever fstat said: the size is only a first check.
        chunks = []
        total = 0
        while chunk := os.read(descriptor, min(MEBIBYTE, self.max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > self.max_bytes:
                raise self._too_big(shown, total)
        return b"".join(chunks)
