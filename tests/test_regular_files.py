"""Only regular files are read, and nothing waits on a FIFO: `pricing.files` and every reader built on it.

A FIFO that nobody writes to is the hang these tests guard against: a blocking open would wait forever, so each
test runs under an alarm that turns a hang into a failure. Each reader keeps its own error type and wording; the
tables below are those messages, exactly. The "lying stat" tests stand for a path swapped for a FIFO between a
check of the path and its opening: whatever a stat of the path says, the open descriptor decides.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from estimator.batches.reader import open_regular_file as open_batch_file
from estimator.bulk.inputs import discover
from estimator.currency import ExchangeRateError, load_exchange_rates
from estimator.errors import BatchFileError, EstimatorError
from estimator.plans.errors import PlanFileError
from estimator.plans.files import open_regular_file as open_plan_file
from estimator.plans.files import read_regular_file as read_plan_file
from estimator.usage.errors import UsageFileError
from estimator.usage.readers import read_usage
from pricing import PriceTableError, load_price_table
from pricing.files import NotRegularFileError, open_regular_file, read_bounded, special_file_kind
from pricing.loader import read_regular_file as read_pricing_file

ALARM_S = 20
"""Far longer than any of these calls takes; only a blocked open reaches it."""


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError(f"still blocked after {ALARM_S} s: a FIFO was opened for blocking reading")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(ALARM_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _special(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        path = tmp_path / "input.fifo"
        os.mkfifo(path)  # nobody ever writes to it
        return path
    if kind == "directory":
        directory = tmp_path / "input.d"
        directory.mkdir()
        return directory
    return Path("/dev/null")


KINDS = ("fifo", "directory", "device")

# --- the helper -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFREG | 0o644, None),
        (stat.S_IFDIR | 0o755, "a directory"),
        (stat.S_IFIFO | 0o600, "a FIFO (named pipe)"),
        (stat.S_IFCHR | 0o666, "a character device"),
        (stat.S_IFBLK | 0o660, "a block device"),
        (stat.S_IFSOCK | 0o755, "a socket"),
        (0o644, "a special file"),  # no file-type bits at all: none of the kinds above
    ],
)
def test_special_file_kind_names_every_kind(mode: int, kind: str | None) -> None:
    assert special_file_kind(mode) == kind


def test_a_regular_file_opens_as_a_blocking_stream_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc\x00\xffdef")
    stream, size = open_regular_file(path)
    with stream:
        assert size == 8
        assert os.get_blocking(stream.fileno()) and not os.get_inheritable(stream.fileno())
        assert stream.read() == b"abc\x00\xffdef"


def test_a_symbolic_link_to_a_regular_file_is_one(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    stream, size = open_regular_file(str(tmp_path / "link.txt"))
    with stream:
        assert (size, stream.read()) == (5, b"hello")


def test_a_missing_file_is_the_oserror_of_the_open(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        open_regular_file(tmp_path / "absent")
    assert caught.value.strerror == "No such file or directory"
    assert not isinstance(caught.value, NotRegularFileError)


@pytest.mark.parametrize(
    ("kind", "label"), [("fifo", "a FIFO (named pipe)"), ("directory", "a directory"), ("device", "a character device")]
)
def test_anything_but_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str, label: str) -> None:
    path = _special(kind, tmp_path)
    with pytest.raises(NotRegularFileError) as caught:
        open_regular_file(path)
    refused = caught.value
    assert refused.kind == label and refused.filename == str(path)
    assert isinstance(refused, OSError) and refused.strerror == f"{label}, not a regular file"
    assert refused.errno == (errno.EISDIR if kind == "directory" else errno.EINVAL)


def test_a_link_to_a_device_is_a_device(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    with pytest.raises(NotRegularFileError) as caught:
        open_regular_file(tmp_path / "zero.yaml")
    assert caught.value.kind == "a character device"


def test_a_socket_is_named_although_it_cannot_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a relative name: socket paths are limited to about 100 bytes
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("listening.sock")
        with pytest.raises(NotRegularFileError) as caught:
            open_regular_file(tmp_path / "listening.sock")
    assert caught.value.kind == "a socket"


def test_the_descriptor_is_closed_when_the_file_is_refused(tmp_path: Path) -> None:
    fifo = _special("fifo", tmp_path)
    before = set(os.listdir("/proc/self/fd"))
    for path in (fifo, tmp_path, Path("/dev/zero")):
        with pytest.raises(NotRegularFileError):
            open_regular_file(path)
    assert set(os.listdir("/proc/self/fd")) <= before


def test_read_bounded_reads_one_byte_past_the_limit_and_no_more(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as endless:
        assert read_bounded(endless, 10) == b"\x00" * 11
        assert len(read_bounded(endless, (1 << 20) + 5)) == (1 << 20) + 6  # across chunks
    path = tmp_path / "small.txt"
    path.write_bytes(b"0123456789")
    stream, _ = open_regular_file(path)
    with stream:
        assert read_bounded(stream, 10) == b"0123456789"
    status, claimed = open_regular_file("/proc/self/status")  # says 0 bytes, holds a few hundred
    with status:
        assert claimed == 0 and len(read_bounded(status, 20)) == 21


# --- every reader built on it: its own error type, its own words ---------------------------------------------

Reader = Callable[[Path], object]


def _usage(path: Path) -> object:
    return read_usage([path])


def _plan(path: Path) -> object:
    return read_plan_file(path, "plan file", 1_000, PlanFileError)


def _batch(path: Path) -> object:
    stream, _ = open_batch_file(path, what="batch file")
    stream.close()
    return None


_PRICING = "{path}: cannot read the price table: it is {kind}, not a regular file"
_USAGE = "{path}: {kind}, not a regular file; give a results, responses or report file"
_CURRENCY = "{path}: {kind}, not a regular file: give an exchange-rate file"
_PLAN = "{path}: the plan file must be a regular file, not {kind}"
_BATCH = "{path}: not a regular file ({kind}); give a file, or - for standard input"

READERS: list[tuple[str, Reader, type[Exception], dict[str, str]]] = [
    (
        "pricing.load_price_table",
        load_price_table,
        PriceTableError,
        {
            "fifo": _PRICING.replace("{kind}", "a FIFO (named pipe)"),
            "directory": _PRICING.replace("{kind}", "a directory"),
            "device": _PRICING.replace("{kind}", "a character device"),
        },
    ),
    (
        "pricing.loader.read_regular_file",
        lambda path: read_pricing_file(path, limit=1_000, what="price map"),
        PriceTableError,
        {
            "fifo": "{path}: cannot read the price map: it is a FIFO (named pipe), not a regular file",
            "directory": "{path}: cannot read the price map: it is a directory, not a regular file",
            "device": "{path}: cannot read the price map: it is a character device, not a regular file",
        },
    ),
    (
        "estimator.plans.files.read_regular_file",
        _plan,
        PlanFileError,
        {
            "fifo": _PLAN.replace("{kind}", "a FIFO (named pipe)"),
            "directory": _PLAN.replace("{kind}", "a directory"),
            "device": _PLAN.replace("{kind}", "a device"),
        },
    ),
    (
        "estimator.batches.reader.open_regular_file",
        _batch,
        BatchFileError,
        {
            "fifo": _BATCH.replace("{kind}", "a FIFO"),
            "directory": _BATCH.replace("{kind}", "a directory"),
            "device": _BATCH.replace("{kind}", "a device"),
        },
    ),
    (
        "estimator.usage.readers.read_usage",
        _usage,
        UsageFileError,
        {
            "fifo": _USAGE.replace("{kind}", "a FIFO (named pipe)"),
            "directory": _USAGE.replace("{kind}", "a directory"),
            "device": _USAGE.replace("{kind}", "a character device"),
        },
    ),
    (
        "estimator.currency.load_exchange_rates",
        load_exchange_rates,
        ExchangeRateError,
        {
            "fifo": _CURRENCY.replace("{kind}", "a FIFO (named pipe)"),
            "directory": _CURRENCY.replace("{kind}", "a directory"),
            "device": _CURRENCY.replace("{kind}", "a character device"),
        },
    ),
]
CASES = [(name, reader, error, kind, messages[kind]) for name, reader, error, messages in READERS for kind in KINDS]


@pytest.mark.parametrize(
    ("reader", "error", "kind", "message"),
    [case[1:] for case in CASES],
    ids=[f"{case[0]}-{case[3]}" for case in CASES],
)
def test_each_reader_refuses_special_files_in_its_own_words(
    tmp_path: Path, reader: Reader, error: type[Exception], kind: str, message: str
) -> None:
    path = _special(kind, tmp_path)
    with pytest.raises(error) as caught:
        reader(path)
    assert type(caught.value) is error and str(caught.value) == message.format(path=path)


@pytest.mark.parametrize(
    ("reader", "error", "message"),
    [(reader, error, messages["fifo"]) for _, reader, error, messages in READERS],
    ids=[name for name, *_ in READERS],
)
def test_a_path_swapped_for_a_fifo_after_a_stat_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: Reader, error: type[Exception], message: str
) -> None:
    fifo = _special("fifo", tmp_path)
    decoy = tmp_path / "was-regular.txt"
    decoy.write_text("x", encoding="utf-8")
    names = {str(fifo), str(fifo.resolve())}
    real_stat = os.stat

    def stat_says_regular(path: str | os.PathLike[str], *args: object, **kwargs: bool) -> os.stat_result:
        return real_stat(decoy if os.fspath(path) in names else path, **kwargs)

    monkeypatch.setattr(os, "stat", stat_says_regular)
    with pytest.raises(error) as caught:
        reader(fifo)
    assert str(caught.value) in {message.format(path=name) for name in names}


def test_bulk_discovery_refuses_a_path_swapped_for_a_fifo_after_its_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = _special("fifo", tmp_path)
    decoy = tmp_path / "was-regular.jsonl"
    decoy.write_text("{}\n", encoding="utf-8")
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: real_stat(decoy if path == str(fifo) else path, *a, **k))
    with pytest.raises(UsageFileError) as caught:
        discover([fifo])
    assert str(caught.value) == f"{fifo}: a FIFO (named pipe), not a regular file; give a usage file"


def test_the_price_table_size_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 11)
    with pytest.raises(PriceTableError) as caught:
        read_pricing_file(path, limit=10)
    assert str(caught.value) == f"{path}: 11 bytes is too large for a price table (limit 10)"


def test_missing_files_keep_each_readers_words(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    expected: list[tuple[Reader, type[EstimatorError] | type[PriceTableError], str]] = [
        (load_price_table, PriceTableError, f"{absent}: cannot read the price table (No such file or directory)"),
        (_plan, PlanFileError, f"{absent}: cannot read the plan file (No such file or directory)"),
        (_batch, BatchFileError, f"{absent}: cannot read the batch file (No such file or directory)"),
        (_usage, UsageFileError, f"{absent}: cannot read it (No such file or directory)"),
        (
            load_exchange_rates,
            ExchangeRateError,
            f"{absent}: cannot read the exchange-rate file (No such file or directory)",
        ),
    ]
    for reader, error, message in expected:
        with pytest.raises(error) as caught:
            reader(absent)
        assert str(caught.value) == message


def test_a_plan_names_a_device_the_way_it_always_has() -> None:
    with pytest.raises(EstimatorError) as caught:
        open_plan_file(Path("/dev/zero"), "batch file")
    assert str(caught.value) == "/dev/zero: the batch file must be a regular file, not a device"


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_bulk_discovery_refuses_special_files(tmp_path: Path, kind: str) -> None:
    path = _special(kind, tmp_path)
    with pytest.raises(UsageFileError) as caught:
        discover([path])
    named = {"fifo": "a FIFO (named pipe)", "device": "a character device"}[kind]
    assert str(caught.value) == f"{path}: {named}, not a regular file; give a usage file"
