"""``swfeed digest send``: the whole command, in-process and as a real process (SIGTERM)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from swfeed.cli import main, utc_now
from swfeed.cli.sendreport import render_bar
from swfeed.config import Config
from swfeed.delivery.outbox import outbox_folder
from swfeed.delivery.send import Progress
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.locks import LockStore
from tests.smtpfixture import (
    ScriptedHandler,
    SmtpServer,
    addresses,
    make_issue,
    prepare,
    write_config,
)

DIGEST = "digest:\n  postal_address: 1 Example Street, London\n"
PERIOD = "2026-W11"


def setup(tmp_path: Path, port: int = 25, method: str = "outbox") -> tuple[str, Config]:
    path = write_config(tmp_path, port, method=method, extra=DIGEST)
    return str(path), prepare(path, addresses(3), make_issue(PERIOD))


def ledger_counts(config: Config) -> dict[State, int]:
    db = Database(config.store.path)
    try:
        return DeliveryStore(db).counts(PERIOD)
    finally:
        db.close()


def test_send_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A send reports what this run did and where the issue stands."""
    config_path, config = setup(tmp_path)
    assert main(["--config", config_path, "digest", "send", "--period", PERIOD]) == 0
    out, err = capsys.readouterr()
    assert f"issue {PERIOD}: this run sent 3, deferred 0, failed 0, unknown 0" in out
    assert "all 3 recipients: sent 3" in out
    assert "[" not in err
    assert len(list((outbox_folder(config) / "new").iterdir())) == 3


def test_dry_run_lists_recipients_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run names every recipient and leaves the ledger and outbox empty."""
    config_path, config = setup(tmp_path)
    assert main(["--config", config_path, "digest", "send", "--period", PERIOD, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert all(address in out for address in addresses(3))
    assert "would send to 3 recipient(s)" in out
    assert sum(ledger_counts(config).values()) == 0
    assert not (outbox_folder(config) / "new").exists()


def test_to_sends_one_test_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--to sends one copy to that address and leaves the ledger alone."""
    config_path, config = setup(tmp_path)
    args = ["--config", config_path, "digest", "send", "--period", PERIOD, "--to", "me@example.org"]
    assert main(args) == 0
    assert "test send of 2026-W11 to me@example.org: sent" in capsys.readouterr().out
    assert len(list((outbox_folder(config) / "new").iterdir())) == 1
    assert sum(ledger_counts(config).values()) == 0


def test_busy_sender_exits_naming_the_issue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """While another live process holds the send lock, the command says so and exits 1."""
    config_path, config = setup(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        db = Database(config.store.path)
        owner = f"{socket.gethostname()}:{holder.pid}:x"
        LockStore(db, timedelta(hours=1)).acquire("send", owner, "2026-W10", utc_now())
        db.close()
        assert main(["--config", config_path, "digest", "send", "--period", PERIOD]) == 1
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert f"issue 2026-W10 is already being sent by process {holder.pid}" in err


def test_progress_bar_line() -> None:
    """The bar shows the share done and this run's outcomes."""
    line = render_bar(Progress(5, 10, Counter({State.SENT: 4, State.FAILED: 1})), 10)
    assert line == "[#####-----] 5/10  sent 4 deferred 0 failed 1 unknown 0"


@pytest.mark.slow
def test_sigterm_finishes_the_message_in_flight_and_stops(tmp_path: Path) -> None:
    """SIGTERM mid-run: the process stops cleanly, nothing is left in flight, a rerun finishes."""
    handler = ScriptedHandler(data_delay=0.05, keep_messages=False)
    with SmtpServer(handler) as server:
        path = write_config(tmp_path, server.port, extra=DIGEST)
        config = prepare(path, addresses(40), make_issue(PERIOD))
        command = [sys.executable, "-m", "swfeed", "--config", str(path), "digest", "send"]
        process = subprocess.Popen(
            [*command, "--period", PERIOD], stdout=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 20
        while sum(handler.received.values()) < 5:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
        counts = ledger_counts(config)
        received_at_stop = sum(handler.received.values())
        rerun = subprocess.run([*command, "--period", PERIOD], capture_output=True, check=False)
    assert process.returncode == 1
    assert "stopped on request" in out
    assert counts[State.SENDING] == counts[State.UNKNOWN] == 0
    assert counts[State.SENT] == received_at_stop
    assert counts[State.PENDING] == 40 - received_at_stop
    assert rerun.returncode == 0
    assert handler.received == dict.fromkeys(addresses(40), 1)


def make_unknown(config: Config, address: str) -> None:
    """Start the issue and leave ``address`` with an unknown outcome."""
    db = Database(config.store.path)
    try:
        DeliveryStore(db).freeze(PERIOD, utc_now())
        with db.write() as conn:
            conn.execute("UPDATE deliveries SET state = 'unknown' WHERE address = ?", (address,))
    finally:
        db.close()


def test_retry_unknown_while_another_sender_is_busy_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--retry-unknown that finds the send lock taken says busy and leaves the ledger alone."""
    config_path, config = setup(tmp_path)
    make_unknown(config, "r000@example.com")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        db = Database(config.store.path)
        owner = f"{socket.gethostname()}:{holder.pid}:x"
        LockStore(db, timedelta(hours=1)).acquire("send", owner, PERIOD, utc_now())
        db.close()
        args = ["--config", config_path, "digest", "send", "--period", PERIOD, "--retry-unknown"]
        assert main(args) == 1
    finally:
        holder.kill()
        holder.wait()
    out, err = capsys.readouterr()
    assert "already being sent" in err
    assert "sent again" not in out
    assert ledger_counts(config)[State.UNKNOWN] == 1


def test_retry_unknown_sends_them_again_and_says_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--retry-unknown with the lock free puts the unknown row back and sends it."""
    config_path, config = setup(tmp_path)
    make_unknown(config, "r000@example.com")
    args = ["--config", config_path, "digest", "send", "--period", PERIOD, "--retry-unknown"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 recipient(s) with an unknown outcome were attempted again" in out
    assert ledger_counts(config) == {**dict.fromkeys(State, 0), State.SENT: 3}
