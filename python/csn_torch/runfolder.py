"""Writing a run folder safely (Sources/Basics/AtomicFile.swift, Sources/CSN/RunFolder.swift).

Every file goes to `NAME.tmp-PID` in the same folder, is flushed to disk, then renamed over the
old one, so a reader (or a rank 0 killed mid-write) leaves either the old file or the new one.
The folder is locked with flock while a trainer writes it, the same lock csn takes, so csn and
PyTorch never write one run at once.
"""

from __future__ import annotations

import fcntl
import json
import math
import os

from .errors import CSNTorchError

CONFIG, MODEL, BEST, METRICS, EMBEDDINGS = (
    "config.json", "model.safetensors", "best.safetensors", "metrics.jsonl", "embeddings.safetensors")


def atomic_write(path: str, data: bytes) -> None:
    """Temporary name in the same folder, fsync, rename; the folder is synced so the rename lasts."""
    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise CSNTorchError.file(path, f"cannot create {temporary}: {error.strerror}") from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        os.unlink(temporary)
        raise CSNTorchError.file(path, f"write failed: {error.strerror}") from None
    os.close(fd)
    try:
        os.rename(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise CSNTorchError.file(path, f"cannot finish writing: {error.strerror}") from None
    try:
        folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(folder)
        os.close(folder)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself is still atomic


def _json_value(value: object) -> object:
    # JSON has no NaN or infinity: csn writes null for a value that is not finite.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def append_metrics(directory: str, row: dict[str, object]) -> None:
    """One JSON line appended to metrics.jsonl (sorted keys, compact, as csn writes it). A last
    line left without its newline gets one first, so the new row never joins it."""
    line = json.dumps({k: _json_value(v) for k, v in row.items()}, sort_keys=True, separators=(",", ":"))
    data = (line + "\n").encode("utf-8")
    path = os.path.join(directory, METRICS)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size > 0 and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(fd, data)
    finally:
        os.close(fd)


class RunFolder:
    """A run folder held for writing: created if needed, locked as csn locks it, stale temporaries
    of dead writers removed."""

    def __init__(self, path: str) -> None:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            raise CSNTorchError.file(path, f"cannot create the run folder: {error.strerror}") from None
        self.path = path
        self._fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            raise CSNTorchError.file(
                path, "another process is writing this run folder (it holds the folder's lock); "
                "wait for it to end or choose another folder") from None
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        names = (CONFIG, MODEL, BEST, METRICS, EMBEDDINGS)
        for entry in os.listdir(self.path):
            base, sep, pid = entry.rpartition(".tmp-")
            if not sep or base not in names or not pid.isdigit() or int(pid) <= 0:
                continue
            try:
                os.kill(int(pid), 0)
                continue  # its writer still runs
            except PermissionError:
                continue
            except ProcessLookupError:
                pass
            try:
                os.unlink(os.path.join(self.path, entry))
            except OSError:
                pass

    def close(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
