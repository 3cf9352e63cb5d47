"""Import users in bulk from the CSV and Excel files administrators really send.

The API is generated from the Rust library (``bindings/ffi``) and re-exported here:
``Importer``, ``ImportConfig``, ``Validation``, ``Plan``, ``Outcome``, ``Report``,
``SqliteStore``, the host interfaces ``UserStore``, ``ProgressListener`` and ``Rule``, the
records (``User``, ``Issue``…) and the exceptions ``UserImportError`` and ``HostError``.

One piece is written by hand: ``Directory``, the host's existing users. A host implements
``find_by_logins(logins) -> list[User]`` and ``find_by_emails``; each batch crosses the boundary
packed (the keys as one string, the users found as one JSON text: see ``PackedDirectory``), which
costs about 1 µs a user instead of the ~56 µs of a ``User`` record converted field by field. See
README.md for a quick start.
"""

from __future__ import annotations

import collections.abc
import enum
import json
import typing

from ._uniffi import user_import as _ffi
from ._uniffi.user_import import *  # noqa: F401,F403
from ._uniffi.user_import import __all__ as _generated

__all__ = [*_generated, "Directory"]

#: What ``find_by_logins``/``find_by_emails`` may return: ``User`` records, or plain dicts with
#: the fields of ``User`` (``{"login": "ada", "status": "ACTIVE", "email": …}``).
FoundUser = typing.Union[_ffi.User, typing.Mapping[str, typing.Any]]


def _unit_or_fields(tag: str) -> typing.Callable[[typing.Any], typing.Any]:
    # An enum variant as JSON, tagged like serde's: "GRANTED", or {"ROLE": {"name": "…"}}.
    return lambda value: {tag: vars(value)} if vars(value) else tag


_STATUS_NAMES = {status: status.name for status in _ffi.Status}


def _user_fields(user: _ffi.User, names: dict = _STATUS_NAMES) -> tuple:
    # A User as a JSON array of its fields in declaration order (Rust reads records from arrays
    # too): half the encoding time of an object, and less than half the text.
    return (user.login, user.first_name, user.last_name, names.get(user.status, user.status), user.email,
            user.roles, user.superior, user.timezone, user.hq_role, user.reference, user.groups, user.products,
            user.custom, user.password_hash)


def _encoders() -> dict[type, typing.Callable[[typing.Any], typing.Any]]:
    encoders: dict[type, typing.Callable[[typing.Any], typing.Any]] = {
        _ffi.User: _user_fields,
        _ffi.Status: lambda status: status.name,
        _ffi.HqRole: lambda role: role.name,
    }
    for tagged in (_ffi.ProductAccess, _ffi.CustomValue):
        for tag, variant in vars(tagged).items():
            if isinstance(variant, type) and issubclass(variant, tagged):
                encoders[variant] = _unit_or_fields(tag)
    return encoders


_ENCODERS = _encoders()


def _plain(value: typing.Any) -> typing.Any:
    """What JSON cannot encode by itself: records, enums, variants (and subclasses of those)."""
    encode = _ENCODERS.get(type(value))
    if encode is None:
        if isinstance(value, enum.Enum):
            return value.name
        if isinstance(value, collections.abc.Mapping):
            return dict(value)
        encode = next((e for t, e in _ENCODERS.items() if isinstance(value, t)), None)
        if encode is None:
            raise TypeError(f"a directory returns User records or dicts, not {type(value).__name__}: {value!r}")
    return encode(value)


_encode = json.JSONEncoder(default=_plain, separators=(",", ":"), ensure_ascii=False, check_circular=False,
                           allow_nan=False).encode


def _pack(users: typing.Iterable[FoundUser]) -> str:
    if not isinstance(users, (list, tuple)):
        users = list(users)
    return _encode(users)


class Directory(_ffi.PackedDirectory):
    """The host's existing users, looked up in batches (up to a couple of thousand keys a call).

    Subclass it and implement both lookups::

        class Users(user_import.Directory):
            def find_by_logins(self, logins):
                return [u for u in map(self.by_login.get, logins) if u is not None]
            def find_by_emails(self, emails):
                return [u for u in map(self.by_email.get, emails) if u is not None]

    Return the users found, in any order, as ``User`` records or as plain dicts with the same
    fields (``{"login": "ada", "status": "ACTIVE", "email": "ada@example.com"}``; enum values as
    members or names, ``products``/``custom`` values as ``ProductAccess``/``CustomValue``); keys
    not found are simply absent. Logins and emails are compared ignoring case and surrounding
    spaces. Raise ``HostError.Failed`` (or any exception) when the lookup cannot be done: the run
    stops with ``UserImportError.Directory``, as it does when a user returned is not valid.

    Anything that takes a directory also takes the built-in ones (``memory_directory``,
    ``directory_from_path``, ``SqliteStore.as_directory()``): they are ``PackedDirectory``
    objects, the type this class implements for you.
    """

    def find_by_logins(self, logins: list[str]) -> typing.Iterable[FoundUser]:
        """The existing users with these logins."""
        raise NotImplementedError

    def find_by_emails(self, emails: list[str]) -> typing.Iterable[FoundUser]:
        """The existing users with these email addresses."""
        raise NotImplementedError

    def find_packed_by_logins(self, logins: str) -> str:
        """``find_by_logins`` in the packed form the library calls (keys one a line, JSON out)."""
        return _pack(self.find_by_logins(logins.split("\n")))

    def find_packed_by_emails(self, emails: str) -> str:
        """``find_by_emails`` in the packed form the library calls (keys one a line, JSON out)."""
        return _pack(self.find_by_emails(emails.split("\n")))


def memory_directory(users: typing.Iterable[FoundUser]) -> _ffi.PackedDirectory:
    """A directory of these users (``User`` records or dicts, as a ``Directory`` returns them),
    held by the library: the fastest way to hand over many existing users at once (one call,
    packed, instead of a lookup per batch). Raises ``UserImportError.InvalidArgument`` when a
    user is not valid."""
    return _ffi.memory_directory_packed(_pack(users))
