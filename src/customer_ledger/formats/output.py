"""Writing a file output: the one way every file a user names is written (``export
--out``, ``report --out``, ``export_file``).

- **A new path, or an existing regular file**: the data goes to a temporary file beside
  it (``.NAME.<random>.tmp``, in the same directory so the rename stays on one file
  system), which is flushed, fsynced and renamed over the path (``os.replace``), then the
  directory is fsynced. A reader sees the old file or the whole new one, never half of
  one; a failure, of the write or of whatever produces the data, removes the temporary
  file and leaves an existing file as it was. The new file keeps an existing file's
  permission bits; a new path gets what ``open()`` gives (0666 less the umask). An
  existing file without write permission is refused, as a shell's ``>`` would.
- **An existing device or FIFO** (``/dev/null``, ``/dev/full``, a named pipe): written
  in place, never replaced (renaming over ``/dev/full`` as root would turn the device
  into a regular file). A FIFO's open waits for its reader. What was written before a
  failure has been written: a stream cannot take it back.
- **A symbolic link** is refused, never followed: the output goes where the user said,
  not where a link someone planted there points (``/dev/stdout`` is a link too: write to
  stdout by naming no file). **A directory** is refused.

Every failure is an ``OutputError`` naming the path and the operating system's reason
(``errors.py``): ``OutputIsDirectory``, ``OutputIsSymlink``, ``OutputDirectoryMissing``,
``OutputNotWritable`` (permissions, a read-only file system), ``OutputDiskFull``
(``ENOSPC``, ``EDQUOT``), else ``OutputError`` itself (rule ``output_failed``).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from io import BufferedWriter, FileIO
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from customer_ledger.errors import (
    OutputDirectoryMissing,
    OutputDiskFull,
    OutputError,
    OutputIsDirectory,
    OutputIsSymlink,
    OutputNotWritable,
)

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_ERRORS: dict[int, type[OutputError]] = {
    errno.ENOSPC: OutputDiskFull,
    errno.EDQUOT: OutputDiskFull,
    errno.EACCES: OutputNotWritable,
    errno.EPERM: OutputNotWritable,
    errno.EROFS: OutputNotWritable,
    errno.ENOENT: OutputDirectoryMissing,
    errno.ENOTDIR: OutputDirectoryMissing,
    errno.EISDIR: OutputIsDirectory,
    errno.ELOOP: OutputIsSymlink,
}


def output_failure(where: str, error: OSError) -> OutputError:
    """The typed error for ``error``, met writing ``where`` (a path, or ``stdout``)."""
    reason = error.strerror or str(error)
    kind = _ERRORS.get(error.errno or 0, OutputError)
    return kind(f"cannot write {where}: {reason}", path=where, reason=reason)


def _refused(kind: type[OutputError], where: str, reason: str) -> OutputError:
    return kind(f"cannot write {where}: {reason}", path=where, reason=reason)


class _Sink(BufferedWriter):
    """A buffered file whose write failures are ``OutputError``s naming the output."""

    def __init__(self, raw: FileIO, where: str) -> None:
        super().__init__(raw)
        self.where = where

    def write(self, data: ReadableBuffer, /) -> int:
        try:
            return super().write(data)
        except OSError as error:
            raise output_failure(self.where, error) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as error:
            raise output_failure(self.where, error) from None

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        try:
            return super().seek(offset, whence)
        except OSError as error:  # "cannot seek" is for the caller (zipfile) to handle
            if error.errno == errno.ESPIPE:
                raise
            raise output_failure(self.where, error) from None

    def tell(self) -> int:
        try:
            return super().tell()
        except OSError as error:
            if error.errno == errno.ESPIPE:
                raise
            raise output_failure(self.where, error) from None


def check_output(path: str | os.PathLike[str]) -> None:
    """Raises the ``OutputError`` that writing ``path`` would meet for what it is (a
    directory, a link, a missing directory, a file or directory without write
    permission), so a command can refuse before doing its work. Writing checks again."""
    _existing(Path(path), str(path))


def _existing(path: Path, where: str) -> os.stat_result | None:
    """What is at ``path`` now (``None``: nothing, a new file goes there), or the
    ``OutputError`` for what may not be written."""
    if where.endswith(("/", os.sep)):
        raise _refused(OutputIsDirectory, where, "names a directory")
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as error:  # ENOTDIR: a component of the directory is a file
        raise output_failure(where, error) from None
    if found is not None:
        if stat.S_ISLNK(found.st_mode):
            raise _refused(OutputIsSymlink, where, "it is a symbolic link (not followed)")
        if stat.S_ISDIR(found.st_mode):
            raise _refused(OutputIsDirectory, where, "it is a directory")
        if not stat.S_ISREG(found.st_mode):
            return found  # a device or a FIFO: written in place
        if not os.access(path, os.W_OK):
            raise _refused(OutputNotWritable, where, "the file is read-only")
    directory = path.parent
    if not directory.is_dir():
        raise _refused(OutputDirectoryMissing, where, f"no directory {str(directory)!r}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise _refused(OutputNotWritable, where, f"the directory {str(directory)!r} is read-only")
    return found


@contextmanager
def output_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content to; it is in place when the block
    ends without an exception (see the module docstring). Raises ``OutputError``."""
    target, where = Path(path), str(path)
    found = _existing(target, where)
    if found is not None and not stat.S_ISREG(found.st_mode):
        with _in_place(target, where) as sink:
            yield sink
    else:
        with _replacing(target, where, found) as sink:
            yield sink


def write_output(path: str | os.PathLike[str], data: bytes) -> None:
    """``data`` as ``path``'s whole content, the ``output_file`` way."""
    with output_file(path) as out:
        out.write(data)


@contextmanager
def _replacing(target: Path, where: str, found: os.stat_result | None) -> Iterator[BinaryIO]:
    directory = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    while True:
        temporary = directory / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            handle = os.open(temporary, flags, 0o666)  # less the umask, as open() gives
            break
        except FileExistsError:
            continue
        except OSError as error:
            raise output_failure(where, error) from None
    try:
        if found is not None:
            os.fchmod(handle, stat.S_IMODE(found.st_mode))
        sink = _Sink(FileIO(handle, "wb"), where)
    except BaseException as error:
        os.close(handle)
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise output_failure(where, error) from None
        raise
    try:
        yield sink
    except BaseException:  # whatever produced the data failed: the old file stays
        _discard(sink)
        temporary.unlink(missing_ok=True)
        raise
    try:
        sink.flush()
        os.fsync(sink.fileno())
        sink.close()
        os.replace(temporary, target)
    except BaseException as error:
        _discard(sink)
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise output_failure(where, error) from None
        raise
    _sync_directory(directory)


@contextmanager
def _in_place(target: Path, where: str) -> Iterator[BinaryIO]:
    try:
        handle = os.open(target, os.O_WRONLY | _NOFOLLOW | _CLOEXEC | _NOCTTY)
    except OSError as error:
        raise output_failure(where, error) from None
    if stat.S_ISREG(os.fstat(handle).st_mode):  # replaced by a file since it was looked at
        os.close(handle)
        raise _refused(OutputError, where, "it changed while it was being opened")
    sink = _Sink(FileIO(handle, "wb"), where)
    try:
        yield sink
    except BaseException:
        _discard(sink)
        raise
    try:
        sink.close()  # flushes; a device or a pipe cannot be fsynced
    except BaseException as error:
        _discard(sink)
        if isinstance(error, OSError):
            raise output_failure(where, error) from None
        raise


def _discard(sink: _Sink) -> None:
    """Closes ``sink`` after a failure, dropping what it still buffers."""
    try:
        sink.close()
    except (OSError, OutputError):
        sink.raw.close()  # closed already by close(); this only makes sure


def _sync_directory(directory: Path) -> None:
    """Makes the rename durable; not every file system can, and the file is in place."""
    try:
        handle = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
