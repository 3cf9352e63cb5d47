"""Import users in bulk from the CSV and Excel files administrators really send.

The whole API is generated from the Rust library (``bindings/ffi``) and re-exported here:
``Importer``, ``ImportConfig``, ``Validation``, ``Plan``, ``Outcome``, ``Report``,
``SqliteStore``, the host interfaces ``Directory``, ``UserStore``, ``ProgressListener`` and
``Rule``, the records (``User``, ``Issue``…) and the exceptions ``UserImportError`` and
``HostError``. See README.md for a quick start.
"""

from ._uniffi.user_import import *  # noqa: F401,F403
from ._uniffi.user_import import __all__ as _generated

__all__ = list(_generated)
