"""Hostile input across the FFI: garbage bytes, a directory callback that raises and a store
callback that raises each end as a Python exception, never as a crash of the interpreter."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

import pytest

import user_import as ui
from conftest import DATA, FAST_HASHING, USERS_TOML, DictStore


@pytest.mark.parametrize(
    "payload, error",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ui.UserImportError.WrongFormat),
        (b"%PDF-1.7\n" + b"\x00\xff" * 500, ui.UserImportError.WrongFormat),
        (b"", ui.UserImportError.EmptyFile),
        (b"PK\x03\x04" + b"\x00" * 64, ui.UserImportError),
        ((DATA / "users.xlsx").read_bytes()[:700], ui.UserImportError),
        ((DATA / "xls_corrupt_header.xls").read_bytes(), ui.UserImportError),
    ],
)
def test_garbage_bytes_raise_a_python_exception(importer, payload, error):
    with pytest.raises(error) as err:
        importer.validate_bytes(payload)
    assert err.value.detail


def test_random_bytes_never_crash_the_interpreter(importer):
    rng = random.Random(6)
    outcomes = {"issues": 0, "errors": 0}
    for size in [1, 7, 64, 512, 4096, 65536]:
        for _ in range(10):
            payload = bytes(rng.getrandbits(8) for _ in range(size))
            try:
                importer.validate_bytes(payload)
                outcomes["issues"] += 1
            except ui.UserImportError:
                outcomes["errors"] += 1
    assert outcomes["issues"] + outcomes["errors"] == 60


def test_missing_and_unreadable_paths_raise(importer, tmp_path):
    with pytest.raises(ui.UserImportError.UnreadableFile) as err:
        importer.validate_path(str(tmp_path / "nope.csv"))
    assert "nope.csv" in err.value.detail
    with pytest.raises(ui.UserImportError.UnreadableFile):
        importer.validate_path(str(tmp_path))
    with pytest.raises(ui.UserImportError):
        importer.validate_path(str(DATA / "zip_bomb.xlsx"))


def test_callbacks_that_raise_do_not_crash_the_process(tmp_path):
    """Run the failures in a child interpreter: it must exit normally, having caught each one."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        import user_import as ui
        from conftest import USERS_TOML, DATA, DictStore, FAST_HASHING

        importer = ui.Importer.from_toml(USERS_TOML)
        caught = []

        class Raising(ui.Directory):
            def find_by_logins(self, logins):
                raise MemoryError("directory exploded")
            def find_by_emails(self, emails):
                raise MemoryError("directory exploded")

        try:
            importer.validate_path(str(DATA / "users.csv"), Raising())
        except ui.UserImportError.Directory as err:
            caught.append("directory")

        store = DictStore(fail_on="commit")
        try:
            importer.plan_path(str(DATA / "users.csv"), store).apply(
                store, ui.ApplyOptions(policy=ui.ErrorPolicy.ALL_OR_NOTHING, password_hashing=FAST_HASHING))
        except ui.UserImportError.Store:
            caught.append("store")

        try:
            importer.validate_bytes(bytes(range(256)) * 100)
        except ui.UserImportError:
            caught.append("garbage")
        print(",".join(caught))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "directory,store,garbage"
