"""Shared fixtures: the repository's fixture files, a configuration for them, and host
implementations of the Directory and UserStore interfaces backed by Python dicts."""

from __future__ import annotations

import pathlib
import threading

import pytest

import user_import as ui

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"

# The canonical users of tests/data (see tests/data/README.md): rows 2-6, ada at the top.
USERS_TOML = """
[schema]
fields = [
    { field = "first_name", required = true },
    { field = "last_name", required = true },
    { field = "login", required = true },
    { field = "email", required = true },
    { field = "password" },
    { field = "roles", required = true },
    { field = "superior" },
    { field = "reference" },
]
[[schema.custom_fields]]
name = "start_date"
label = "Start Date"
kind = "date"
[catalog]
roles = ["Admin", "Editor", "Viewer"]
[catalog.password_policy]
min_length = 8
"""

# Cheap argon2 parameters: the tests hash a handful of passwords, the defaults are for real use.
FAST_HASHING = ui.PasswordHashing(memory_kib=1024, iterations=1, parallelism=1)


def user(login: str, **fields) -> ui.User:
    """A user record with sensible defaults."""
    fields.setdefault("first_name", login.capitalize())
    fields.setdefault("last_name", "Existing")
    fields.setdefault("status", ui.Status.ACTIVE)
    return ui.User(login=login, **fields)


class DictDirectory(ui.Directory):
    """A host directory: existing users in a dict, looked up in batches."""

    def __init__(self, users=()):
        self.by_login = {u.login.strip().lower(): u for u in users}
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def find_by_logins(self, logins):
        with self.lock:
            self.calls.append(("logins", len(logins)))
        found = (self.by_login.get(login.strip().lower()) for login in logins)
        return [u for u in found if u is not None]

    def find_by_emails(self, emails):
        with self.lock:
            self.calls.append(("emails", len(emails)))
        wanted = {e.strip().lower() for e in emails}
        return [u for u in self.by_login.values() if u.email and u.email.lower() in wanted]


class DictStore(ui.UserStore, ui.Directory):
    """A host database: users in a dict, written in one transaction (begin/commit/rollback).

    It implements both interfaces, so the same object is the directory of the plan and the store
    the plan is applied to."""

    def __init__(self, users=(), fail_on: str | None = None):
        self.users = {u.login.lower(): u for u in users}
        self.pending: dict | None = None
        self.groups: list[str] = []
        self.fields: list[ui.CustomFieldSpec] = []
        self.log: list[ui.ImportLogEntry] = []
        self.events: list[str] = []
        self.fail_on = fail_on

    def _event(self, name: str) -> None:
        self.events.append(name)
        if self.fail_on == name:
            raise ui.HostError.Failed(f"the database refused {name}")

    def find_by_logins(self, logins):
        found = (self.users.get(login.strip().lower()) for login in logins)
        return [u for u in found if u is not None]

    def find_by_emails(self, emails):
        wanted = {e.strip().lower() for e in emails}
        return [u for u in self.users.values() if u.email and u.email.lower() in wanted]

    def begin(self):
        self._event("begin")
        self.pending = dict(self.users)

    def create_users(self, users):
        self._event("create_users")
        for u in users:
            assert u.login.lower() not in self.pending, f"{u.login} exists"
            if u.superior:
                assert u.superior.lower() in self.pending, f"superior of {u.login} not written yet"
            self.pending[u.login.lower()] = u

    def update_users(self, users):
        self._event("update_users")
        for u in users:
            stored = self.pending[u.login.lower()]
            if u.password_hash is None:
                u.password_hash = stored.password_hash
            self.pending[u.login.lower()] = u

    def create_groups(self, groups):
        self._event("create_groups")
        self.groups.extend(groups)

    def add_custom_fields(self, fields):
        self._event("add_custom_fields")
        self.fields.extend(fields)

    def log_import(self, entry):
        self._event("log_import")
        self.log.append(entry)

    def commit(self):
        self._event("commit")
        self.users, self.pending = self.pending, None

    def rollback(self):
        self.events.append("rollback")
        self.pending = None


@pytest.fixture
def importer() -> ui.Importer:
    return ui.Importer.from_toml(USERS_TOML)


@pytest.fixture
def users_csv() -> str:
    return str(DATA / "users.csv")
