"""Where the command line writes: ``export --out`` and ``report --out`` replace a file
whole or not at all, write a device or a FIFO in place, refuse a link or a directory;
a missing directory, a full disk and a stdout that cannot be written end in one
``error [rule]: ...`` line and exit 1, never a traceback; a reader that stops early
(``| head``) is no error."""

from __future__ import annotations

import errno
import io
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from analytics_support import clock
from cli_support import CL, Run, invoke

from customer_ledger import CustomerLedger
from customer_ledger.cli import output as cli_output
from customer_ledger.errors import ExportError
from customer_ledger.formats import output
from customer_ledger.formats.spreadsheets.exports import EXPORT_SOURCES, Sheet, export_source
from customer_ledger.testing import record_sample

SCRIPT = Path(sys.executable).with_name("customer-ledger")
# each writes a file named by --out: a CSV of profiles, the HTML report
WRITERS = {
    "export": ["export", "profiles", "--format", "csv", "--lang", "en"],
    "report": ["report", "--as-of", "2024-06-01"],
}
STARTS = {"export": "\ufeffnumber,name", "report": "<!doctype html>"}
FULL = "No space left on device"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for the module, holding the domain notes' customers."""
    url = f"sqlite:///{tmp_path_factory.mktemp('outputs')}/ledger.db"
    ledger = CustomerLedger.open(url, clock=clock)
    record_sample(ledger)
    ledger.close()
    return url


@pytest.fixture
def cl(capsys: pytest.CaptureFixture[str], store: str, monkeypatch: pytest.MonkeyPatch) -> CL:
    monkeypatch.delenv(cli_output.ENV_STORE, raising=False)
    return lambda *argv: invoke(capsys, ["--store", store, *argv])


@pytest.fixture(params=sorted(WRITERS))
def writer(request: pytest.FixtureRequest) -> str:
    """``export`` and ``report``: every case below holds for both."""
    return str(request.param)


def write(cl: CL, writer: str, out: str | Path) -> Run:
    return cl(*WRITERS[writer], "--out", str(out))


def leftovers(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*"))


class FullAfter(io.FileIO):
    """A file on a disk that fills up after ``room`` bytes."""

    room = 100

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


# -- --out: files ------------------------------------------------------------------------------


def test_a_regular_file_is_replaced_atomically(cl: CL, writer: str, tmp_path: Path) -> None:
    # given a file from an earlier run
    path = tmp_path / "out.file"
    path.write_text("earlier", encoding="utf-8")
    before = path.stat().st_ino
    # when the command writes it again
    run = write(cl, writer, path)
    # then it holds the whole new output, renamed into place; nothing is left beside it
    assert run.code == 0, run.err
    assert path.read_text(encoding="utf-8").startswith(STARTS[writer])
    assert path.stat().st_ino != before
    assert leftovers(path) == []


def test_a_disk_full_midway_is_one_error_line_and_the_old_file_stays(
    cl: CL, writer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file from an earlier run and a disk that fills up after 100 bytes
    path = tmp_path / "out.file"
    path.write_text("earlier", encoding="utf-8")
    monkeypatch.setattr(output, "FileIO", FullAfter)
    # when the command writes it
    run = write(cl, writer, path)
    # then one error line names the file and the reason; the old file is as it was
    assert (run.code, run.out, run.err) == (
        1, "", f"error [output_disk_full]: cannot write {path}: {FULL}\n"
    )  # fmt: skip
    assert path.read_text(encoding="utf-8") == "earlier"
    assert leftovers(path) == []


def test_an_export_whose_source_fails_midway_leaves_the_old_file(cl: CL, tmp_path: Path) -> None:
    # given an export source that fails after its first row, and an earlier export
    @export_source("flaky")
    def flaky(ledger: CustomerLedger, request: object) -> Sheet:
        def rows() -> Iterator[list[str]]:
            yield ["one"]
            raise ExportError("the source broke")

        return Sheet(["列"], ["column"], rows())

    path = tmp_path / "flaky.csv"
    path.write_text("earlier", encoding="utf-8")
    try:
        # when it is exported over the earlier file
        run = cl("export", "flaky", "--out", str(path))
    finally:
        del EXPORT_SOURCES["flaky"]
    # then the source's error is reported and the earlier file stays, whole
    assert (run.code, run.err) == (1, "error [export]: the source broke\n")
    assert path.read_text(encoding="utf-8") == "earlier"
    assert leftovers(path) == []


@pytest.mark.parametrize(
    ("where", "rule", "reason"),
    [
        ("{tmp}", "output_is_directory", "it is a directory"),
        ("{tmp}/no/such/dir/out.file", "output_directory_missing", "no directory"),
    ],
)
def test_a_directory_or_a_missing_one_is_one_error_line(
    cl: CL, writer: str, tmp_path: Path, where: str, rule: str, reason: str
) -> None:
    out = where.format(tmp=tmp_path)
    run = write(cl, writer, out)
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith(f"error [{rule}]: cannot write {out}: {reason}")
    assert run.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_unmasked_export_to_a_missing_directory_reads_nothing(
    cl: CL, store: str, tmp_path: Path
) -> None:
    # given the log's position; when an unmasked export names a directory that is not there
    def position() -> int:
        with CustomerLedger.open(store) as ledger:
            return ledger.recorder.max_notification_id() or 0

    before = position()
    run = cl("export", "profiles", "--unmasked", "--why", "审计", "--out", f"{tmp_path}/no/x.csv")
    # then it is refused before any personal data is read (no read is recorded)
    assert run.code == 1 and "error [output_directory_missing]" in run.err
    assert position() == before


def test_a_symbolic_link_is_refused_and_its_target_untouched(
    cl: CL, writer: str, tmp_path: Path
) -> None:
    # given a link at the output's name, pointing at a file someone cares about
    target = tmp_path / "precious.txt"
    target.write_text("precious", encoding="utf-8")
    link = tmp_path / "out.file"
    link.symlink_to(target)
    # when the command writes there
    run = write(cl, writer, link)
    # then it is refused, named; the link and its target are as they were
    assert (run.code, run.err) == (
        1, f"error [output_is_symlink]: cannot write {link}: it is a symbolic link (not followed)\n"
    )  # fmt: skip
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "precious"


# -- --out: devices and FIFOs ---------------------------------------------------------------


def test_dev_null_is_written_and_stays_a_device(cl: CL, writer: str) -> None:
    run = write(cl, writer, "/dev/null")
    assert run.code == 0, run.err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_dev_full_is_a_full_disk_and_stays_a_device(cl: CL, writer: str) -> None:
    # when the output is /dev/full (as root, the old rename turned it into a file)
    run = write(cl, writer, "/dev/full")
    # then one error line, and /dev/full is still the device
    assert (run.code, run.out, run.err) == (
        1, "", f"error [output_disk_full]: cannot write /dev/full: {FULL}\n"
    )  # fmt: skip
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def read_in_thread(path: Path) -> Callable[[], bytes]:
    """A reader of ``path`` on a thread; the function waits for the data's end."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(path.read_bytes()), daemon=True)
    reader.start()

    def received() -> bytes:
        reader.join(timeout=30)
        return got[0]

    return received


def test_a_fifo_is_written_in_place_for_its_reader(cl: CL, writer: str, tmp_path: Path) -> None:
    # given a named pipe with a reader
    path = tmp_path / "pipe"
    os.mkfifo(path)
    received = read_in_thread(path)
    # when the command writes there
    run = write(cl, writer, path)
    # then the reader gets the whole output, and the FIFO is still a FIFO
    assert run.code == 0, run.err
    assert received().decode("utf-8").startswith(STARTS[writer])
    assert stat.S_ISFIFO(path.lstat().st_mode)


# -- stdout -------------------------------------------------------------------------------------


class Stdout(io.RawIOBase):
    """A stdout whose every write fails with ``error`` (no file descriptor)."""

    def __init__(self, error: OSError) -> None:
        self.error = error

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise self.error


def failing_stdout(error: OSError) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedWriter(Stdout(error)), encoding="utf-8")


STDOUT_COMMANDS = [
    ["profile", "A001"],
    ["profile", "A001", "--json"],
    ["timeline"],
    ["export", "profiles"],
    ["export", "profiles", "--format", "xlsx"],
    ["export", "timeline", "--format", "jsonl"],
]


@pytest.mark.parametrize("argv", STDOUT_COMMANDS, ids=" ".join)
def test_a_full_stdout_is_one_error_line_and_exit_1(
    cl: CL, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a stdout on a full disk
    monkeypatch.setattr(sys, "stdout", failing_stdout(OSError(errno.ENOSPC, FULL)))
    # when a command prints to it, then it says so once, on stderr, and exits with 1
    run = cl(*argv)
    assert (run.code, run.err) == (1, f"error [output_disk_full]: cannot write stdout: {FULL}\n")


@pytest.mark.parametrize("argv", STDOUT_COMMANDS, ids=" ".join)
def test_a_reader_that_stops_early_is_no_error(
    cl: CL, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a stdout whose reader has gone (| head)
    monkeypatch.setattr(sys, "stdout", failing_stdout(BrokenPipeError(errno.EPIPE, "gone")))
    # when a command prints to it, then it ends quietly, successfully
    run = cl(*argv)
    assert (run.code, run.err) == (0, "")


def script(store: str, *argv: str, stdout: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(SCRIPT), "--store", store, *argv], stdout=stdout, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != cli_output.ENV_STORE},
    )  # fmt: skip


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize(
    "argv",
    [
        ["profile", "A001"],
        ["profile", "A001", "--json"],
        ["export", "profiles", "--format", "xlsx"],
    ],
    ids=" ".join,
)
def test_the_console_script_on_dev_full_says_so_once_without_a_traceback(
    store: str, argv: list[str]
) -> None:
    # when the installed script's stdout is /dev/full
    with open("/dev/full", "wb") as full:
        process = script(store, *argv, stdout=full)
        _, err = process.communicate(timeout=60)
    # then one line on stderr, exit 1: no traceback, no "Exception ignored" at exit
    assert (process.returncode, err.decode()) == (
        1, f"error [output_disk_full]: cannot write stdout: {FULL}\n"
    )  # fmt: skip


def test_the_console_script_piped_into_a_reader_that_stops_is_a_success(store: str) -> None:
    # given the installed script writing into a pipe whose reader has already gone
    process = script(store, "export", "timeline", stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    # then it ends with 0 and says nothing (no BrokenPipeError noise at exit)
    assert (process.returncode, err.decode()) == (0, "")
