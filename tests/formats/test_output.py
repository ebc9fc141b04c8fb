"""File outputs (``customer_ledger.formats.output``): a file is replaced whole or not at
all, a device or a FIFO is written in place and stays what it is, a link or a directory
is refused, and every failure is a typed ``OutputError`` naming the path and the
operating system's reason."""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_ledger.errors import (
    OutputDirectoryMissing,
    OutputDiskFull,
    OutputError,
    OutputIsDirectory,
    OutputIsSymlink,
    OutputNotWritable,
)
from customer_ledger.formats import output
from customer_ledger.formats.output import check_output, output_file, write_output

AS_ROOT = os.geteuid() == 0  # root writes where permissions say no


class Failed(Exception):
    """What produced the data failed (a store, a source)."""


def leftovers(directory: Path, name: str) -> list[Path]:
    """Temporary files an output may have left beside ``name``."""
    return sorted(directory.glob(f".{name}.*"))


class FullAfter(io.FileIO):
    """A file on a disk that fills up after ``room`` bytes."""

    room = 10

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "out.csv"
    path.write_bytes(b"old,content\r\n")
    path.chmod(0o640)
    return path


# -- regular files ----------------------------------------------------------------------------


def test_a_new_file_is_written_whole_with_the_permissions_open_gives(tmp_path: Path) -> None:
    # given a path where nothing is yet
    path = tmp_path / "new.csv"
    umask = os.umask(0o022)
    os.umask(umask)
    # when data is written there
    write_output(path, b"a,b\r\n")
    # then the file holds it, with 0666 less the umask, and nothing else is left behind
    assert path.read_bytes() == b"a,b\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert leftovers(tmp_path, "new.csv") == []


def test_an_existing_file_is_replaced_by_a_rename_and_keeps_its_permissions(
    old_file: Path,
) -> None:
    # given a file with its own permissions
    before = old_file.stat()
    # when a new content is written in two parts
    with output_file(old_file) as out:
        out.write(b"new,")
        # then until the end a reader still sees the old file, whole
        assert old_file.read_bytes() == b"old,content\r\n"
        out.write(b"content\r\n")
    # and afterwards the new one: another inode (renamed into place), the same mode
    after = old_file.stat()
    assert old_file.read_bytes() == b"new,content\r\n"
    assert after.st_ino != before.st_ino
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert leftovers(old_file.parent, old_file.name) == []


def test_a_failure_midway_leaves_the_old_file_as_it_was(old_file: Path) -> None:
    # given a writer that fails after writing half its data
    with pytest.raises(Failed), output_file(old_file) as out:
        out.write(b"half of the new")
        raise Failed
    # then the error is the writer's own, the old file is untouched, no temporary left
    assert old_file.read_bytes() == b"old,content\r\n"
    assert leftovers(old_file.parent, old_file.name) == []


def test_a_disk_that_fills_up_is_a_typed_error_and_the_old_file_stays(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a disk with room for 10 bytes
    monkeypatch.setattr(output, "FileIO", FullAfter)
    # when more than that is written
    with pytest.raises(OutputDiskFull) as error, output_file(old_file) as out:
        out.write(b"x" * 100_000)
    # then the error names the path and the reason; the old file is as it was
    assert error.value.rule == "output_disk_full"
    assert str(error.value) == f"cannot write {old_file}: No space left on device"
    assert (error.value.path, error.value.reason) == (str(old_file), "No space left on device")
    assert old_file.read_bytes() == b"old,content\r\n"
    assert leftovers(old_file.parent, old_file.name) == []


def test_a_full_disk_met_at_fsync_is_the_same_error(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file system that reports the lack of space only when the data is synced
    def no_space(handle: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    # when a small output is written, then it fails typed and the old file stays
    with pytest.raises(OutputDiskFull):
        write_output(old_file, b"new")
    assert old_file.read_bytes() == b"old,content\r\n"
    assert leftovers(old_file.parent, old_file.name) == []


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.binary(max_size=200),
    parts=st.lists(st.binary(max_size=5000), max_size=8),
    fail_at=st.none() | st.integers(min_value=0, max_value=8),
)
def test_an_output_is_the_old_file_or_the_whole_new_one_never_a_mix(
    tmp_path_factory: pytest.TempPathFactory, old: bytes, parts: list[bytes], fail_at: int | None
) -> None:
    # given any old content, any new content in parts, and a failure before any part
    path = tmp_path_factory.mktemp("out") / "data.bin"
    path.write_bytes(old)
    failing = fail_at is not None and fail_at < len(parts)
    # when the parts are written, failing (or not) before part fail_at
    try:
        with output_file(path) as out:
            for i, part in enumerate(parts):
                if failing and i == fail_at:
                    raise Failed
                out.write(part)
    except Failed:
        assert failing
    # then the file is the old content or the whole new one, and the only file there
    assert path.read_bytes() == (old if failing else b"".join(parts))
    assert list(path.parent.iterdir()) == [path]


# -- devices and FIFOs ------------------------------------------------------------------------


def test_dev_null_is_written_in_place_and_stays_a_device() -> None:
    # when an output goes to /dev/null, then it is accepted and /dev/null is still itself
    write_output("/dev/null", b"x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_dev_full_is_a_full_disk_and_stays_a_device() -> None:
    # when an output goes to /dev/full (every write: ENOSPC)
    with pytest.raises(OutputDiskFull) as error:
        write_output("/dev/full", b"x" * 10)
    # then it is the typed error naming it, and /dev/full was not replaced by a file
    assert str(error.value) == "cannot write /dev/full: No space left on device"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def read_in_thread(path: Path) -> Callable[[], bytes]:
    """Opens ``path`` for reading on a thread, as another program would; the returned
    function waits for the end of the data and gives it."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(path.read_bytes()), daemon=True)
    reader.start()

    def received() -> bytes:
        reader.join(timeout=10)
        return got[0]

    return received


def test_a_fifo_is_written_in_place_for_its_reader(tmp_path: Path) -> None:
    # given a named pipe that a reader has open
    path = tmp_path / "pipe"
    os.mkfifo(path)
    received = read_in_thread(path)
    # when an output goes to it
    write_output(path, b"through the pipe" * 1000)
    # then the reader gets all of it and the FIFO is still a FIFO
    assert received() == b"through the pipe" * 1000
    assert stat.S_ISFIFO(path.lstat().st_mode)


# -- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_refused_and_not_followed(tmp_path: Path, dangling: bool) -> None:
    # given a link (to a file someone cares about, or to nothing yet)
    target = tmp_path / "precious.txt"
    if not dangling:
        target.write_bytes(b"precious")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    # when an output names the link
    with pytest.raises(OutputIsSymlink) as error:
        write_output(link, b"overwritten?")
    # then it is refused; the link and what it points at are as they were
    assert error.value.rule == "output_is_symlink"
    assert str(link) in str(error.value)
    assert link.is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert target.read_bytes() == b"precious"
    with pytest.raises(OutputIsSymlink):
        check_output(link)


@pytest.mark.parametrize("named", ["{dir}", "{dir}/"])
def test_a_directory_is_refused(tmp_path: Path, named: str) -> None:
    path = named.format(dir=tmp_path)
    with pytest.raises(OutputIsDirectory) as error:
        write_output(path, b"x")
    assert error.value.rule == "output_is_directory"
    assert str(error.value).startswith(f"cannot write {path}: ")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    for path in (tmp_path / "no" / "out.csv", tmp_path / "file" / "out.csv"):
        with pytest.raises(OutputDirectoryMissing) as error:
            write_output(path, b"x")
        assert error.value.rule == "output_directory_missing"
        assert str(error.value).startswith(f"cannot write {path}: ")
        with pytest.raises(OutputDirectoryMissing):
            check_output(path)


@pytest.mark.skipif(AS_ROOT, reason="root may write a read-only directory")
def test_a_read_only_directory_is_a_typed_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(OutputNotWritable):
            write_output(tmp_path / "out.csv", b"x")
    finally:
        tmp_path.chmod(0o755)


@pytest.mark.skipif(AS_ROOT, reason="root may write a read-only file")
def test_a_read_only_file_is_refused_not_replaced(old_file: Path) -> None:
    old_file.chmod(0o444)
    with pytest.raises(OutputNotWritable):
        write_output(old_file, b"x")
    assert old_file.read_bytes() == b"old,content\r\n"


def test_a_read_only_file_system_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a directory on a file system mounted read-only (simulated: even root gets EROFS)
    real_open = os.open

    def read_only(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only)
    # when an output is written there, then the error says so and names the path
    with pytest.raises(OutputNotWritable) as error:
        write_output(tmp_path / "out.csv", b"x")
    assert error.value.rule == "output_not_writable"
    assert str(error.value) == f"cannot write {tmp_path / 'out.csv'}: Read-only file system"


def test_every_output_error_is_a_ledger_error_with_its_own_rule() -> None:
    from customer_ledger.errors import LedgerError

    kinds = [
        OutputError, OutputIsDirectory, OutputIsSymlink, OutputDirectoryMissing,
        OutputNotWritable, OutputDiskFull,
    ]  # fmt: skip
    assert all(issubclass(kind, LedgerError) for kind in kinds)
    assert len({kind.rule for kind in kinds}) == len(kinds)
    assert OutputError.rule == "output_failed"
