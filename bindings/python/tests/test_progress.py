"""Progress listeners (called a few times a second, never per row), cancellation from another
thread, and sharing one importer between threads."""

from __future__ import annotations

import threading
import time

import pytest

import user_import as ui
from conftest import DictDirectory

ROWS = 60_000


def upload() -> bytes:
    lines = ["First Name,Last Name,Login Name,E-mail Address,Roles"]
    lines += [f"F{i},L{i},user{i},user{i}@example.com,Viewer" for i in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


class SlowDirectory(DictDirectory):
    """A directory behind a slow network: every batch takes 10 ms, so a run lasts about a second."""

    def find_by_logins(self, logins):
        time.sleep(0.01)
        return super().find_by_logins(logins)

    def find_by_emails(self, emails):
        time.sleep(0.01)
        return super().find_by_emails(emails)


class Recorder(ui.ProgressListener):
    def __init__(self, answer=True):
        self.calls: list[tuple[float, int]] = []
        self.answer = answer
        self.first = threading.Event()

    def rows_read(self, rows):
        self.calls.append((time.monotonic(), rows))
        self.first.set()
        return self.answer


def test_progress_is_told_a_few_times_a_second_and_at_the_end():
    importer = ui.Importer.from_toml("[catalog]\nroles = ['Viewer']")
    listener = Recorder()
    started = time.monotonic()
    validation = importer.validate_bytes(upload(), SlowDirectory(), listener)
    elapsed = time.monotonic() - started
    assert validation.summary().rows == ROWS
    rows = [r for _, r in listener.calls]
    assert rows[-1] == ROWS and rows == sorted(rows)
    assert len(rows) >= 2
    assert len(rows) <= elapsed / 0.2 + 2, f"{len(rows)} calls in {elapsed:.2f} s"
    gaps = [b - a for (a, _), (b, _) in zip(listener.calls, listener.calls[1:-1])]
    assert all(gap >= 0.15 for gap in gaps), gaps


def test_a_listener_that_answers_false_cancels():
    importer = ui.Importer.from_toml("[catalog]\nroles = ['Viewer']")
    with pytest.raises(ui.UserImportError.Cancelled):
        importer.validate_bytes(upload(), SlowDirectory(), Recorder(answer=False))


def test_a_cancel_token_stops_a_run_from_another_thread():
    importer = ui.Importer.from_toml("[catalog]\nroles = ['Viewer']")
    token = ui.CancelToken()
    listener = Recorder()
    outcome: dict = {}

    def run():
        try:
            outcome["plan"] = importer.plan_bytes(upload(), SlowDirectory(), listener, token)
        except ui.UserImportError as err:
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    assert listener.first.wait(10), "no progress within 10 s"
    token.cancel()
    thread.join(20)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), ui.UserImportError.Cancelled), outcome
    assert token.is_cancelled()
    # A token cancelled before the run stops it at once.
    with pytest.raises(ui.UserImportError.Cancelled):
        importer.validate_bytes(b"Login Name\nada\n", None, None, token)


def test_a_listener_that_raises_ends_the_run_with_its_message():
    class Broken(ui.ProgressListener):
        def rows_read(self, rows):
            raise ZeroDivisionError("progress bar went away")

    importer = ui.Importer.from_toml("[catalog]\nroles = ['Viewer']")
    with pytest.raises(ui.UserImportError.Callback) as err:
        importer.validate_bytes(upload(), SlowDirectory(), Broken())
    assert "progress bar went away" in err.value.detail


def test_one_importer_serves_several_threads_and_releases_the_gil():
    importer = ui.Importer.from_toml("[catalog]\nroles = ['Viewer']")
    data = upload()
    results: list[int] = []
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    def work():
        for _ in range(2):
            results.append(importer.validate_bytes(data).summary().valid)

    tick = threading.Thread(target=ticker)
    tick.start()
    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    tick.join()
    assert results == [ROWS] * 8
    assert ticks > 10, "Python threads must keep running while Rust works"
