"""The files the client keeps for its user: written whole or not at all, and never replaced.

Proof files, receipts, salt records and keystores are evidence or secrets, and a later
command must not destroy what an earlier one wrote. Every such write goes through
`create_new`: the text goes to a temporary file in the same folder, which is then published
under its final name with a hard link — `link(2)` fails when the name exists — so a reader
never sees half a file and an existing file is never touched. `replace` is for the few files
meant to change as a whole (a receipt gaining a signature, Besu's allowlist); `append_line`
for append-only logs; `private_folder` for folders that hold secrets. Every file the project
writes whole goes through `create_new` or `replace`: no other module writes a temporary file
and renames it.

What is written (`Content`) is text (UTF-8), bytes, or an iterable of byte chunks for a file
too large to hold in memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import ConfigError, OverwriteRefusedError

#: link(2) errors that mean "this file system has no hard links", not "this name is taken".
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}

#: What a file is written from: text (UTF-8), bytes, or byte chunks.
Content = str | bytes | Iterable[bytes]


def create_new(path: Path, text: Content, *, what: str, mode: int = 0o644) -> Path:
    """Write `text` to `path`, which must not exist yet; OverwriteRefusedError if it does.

    The file appears complete or not at all, with permission bits `mode`.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> create_new(folder / "a.json", "{}", what="proof file").read_text()
    '{}'
    >>> create_new(folder / "a.json", "[]", what="proof file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    client.errors.OverwriteRefusedError: proof file .../a.json already exists; it is kept as it is...
    """
    temporary = _temporary(path, text, mode, what)
    try:
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise OverwriteRefusedError(what, path) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise ConfigError(f"cannot write {what} {path}: {exc.strerror}") from None
            _create_exclusive(path, text, mode, what)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def replace(path: Path, text: Content, *, what: str, mode: int = 0o644) -> Path:
    """Write `text` to `path` atomically, replacing what is there (only for files meant to change)."""
    temporary = _temporary(path, text, mode, what)
    try:
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {what} {path}: {exc.strerror}") from None
    return path


def append_line(path: Path, line: str, *, what: str, mode: int = 0o600) -> None:
    """Append one line to an append-only log, starting a new line if a crash left the last unfinished."""
    if "\n" in line:
        raise ValueError("one line at a time")
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    except OSError as exc:
        raise ConfigError(f"cannot open {what} {path}: {exc.strerror}") from None
    try:
        size = os.fstat(fd).st_size
        unfinished = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        data = (("\n" if unfinished else "") + line + "\n").encode()
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def private_folder(path: Path) -> int | None:
    """Make sure `path` is a folder only its owner can enter (mode 0700).

    Returns the mode it had if it had to be changed (a folder that existed before with looser
    permissions), so the caller can say so; None if it was private already or is new.
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        before = stat.S_IMODE(path.stat().st_mode)
        if before & 0o077 == 0:
            return None
        path.chmod(0o700)
    except OSError as exc:
        raise ConfigError(f"cannot make folder {path} private (mode 0700): {exc.strerror}") from None
    return before


def _temporary(path: Path, text: Content, mode: int, what: str) -> Path:
    """A complete, flushed copy of `text` next to `path`, under a name no one else uses."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {path}: {exc.strerror}") from None
    _fill(fd, Path(name), text, mode, what, path)
    return Path(name)


def _create_exclusive(path: Path, text: Content, mode: int, what: str) -> None:
    """create_new on a file system without hard links: O_EXCL, removing a partial file on failure."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise OverwriteRefusedError(what, path) from None
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {path}: {exc.strerror}") from None
    _fill(fd, path, text, mode, what, path)


def _fill(fd: int, written: Path, text: Content, mode: int, what: str, target: Path) -> None:
    """Write `text` to the new file `written` (open as `fd`) and flush it to disk; on failure
    remove it and raise ConfigError naming `target`."""
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in _chunks(text):
                handle.write(chunk)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            written.unlink()
        raise ConfigError(f"cannot write {what} {target}: {exc.strerror}") from None


def _chunks(content: Content) -> Iterable[bytes]:
    if isinstance(content, str):
        return (content.encode(),)
    return (content,) if isinstance(content, bytes) else content


__all__ = ["Content", "append_line", "create_new", "private_folder", "replace"]
