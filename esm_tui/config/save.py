"""Saving the config file safely: the previous bytes kept in `PATH.bak`, the new ones
written through a temp file and renamed into place, and nothing written when the file
changed on disk since it was loaded (its sha256 `fingerprint`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


class FileChangedError(Exception):
    """The file on disk is not the one the edit was computed from."""


class SaveError(Exception):
    """Reading or writing the file failed; the message names the file and the OS reason."""


def fingerprint(data: bytes | None) -> str | None:
    """sha256 of the file bytes (None: no file), to notice edits made behind our back."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def edit_file(path: Path, expected: str | None, edit: Callable[[bytes | None], bytes]) -> None:
    """Replace the file's bytes by `edit(current bytes or None)`, safely.

    Refuses (FileChangedError) when the file's fingerprint is not `expected`, checked before
    the edit and again just before the rename. Keeps the previous bytes in `PATH.bak`. A
    symlinked config stays a symlink: its target is written. Exceptions from `edit` pass
    through; I/O failures raise SaveError and leave the original untouched.
    """
    target = Path(os.path.realpath(path))
    current = _read(target)
    if fingerprint(current) != expected:
        raise FileChangedError(str(path))
    new = edit(current)

    def unchanged() -> None:
        if fingerprint(_read(target)) != expected:
            raise FileChangedError(str(path))

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(f"cannot create the directory {target.parent}: {_reason(exc)}") from None
    if current is not None:
        bak = backup_path(target)
        try:
            # The backup is as private as the config it copies.
            write_atomic(bak, current, mode=stat.S_IMODE(target.stat().st_mode))
        except OSError as exc:
            raise SaveError(f"cannot write the backup {bak}: {_reason(exc)}") from None
    try:
        write_atomic(target, new, before_replace=unchanged)
    except OSError as exc:
        raise SaveError(f"cannot write {target}: {_reason(exc)}") from None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SaveError(f"cannot read {path}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write `data` to `path` through a temp file in the same directory, fsync, os.replace.

    The file keeps its permission bits unless `mode` is given (a new one gets 0o644).
    `before_replace` runs after the temp file is complete and may raise to abort; the temp
    file is removed on any failure, so the original is untouched. Raises OSError.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        if before_replace is not None:
            before_replace()
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform/filesystem allows it.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
