"""The Python side of bindings/bench.sh: validate the 1,000,000-row benchmark CSV through the
bindings, as bench_validate does in Rust, and with a host Directory (a Python class holding
100,000 existing users, looked up in batches); and the time memory_directory takes to hand the
same 100,000 users over at once.

    python bindings/bench/bench_python.py CSV CONFIG [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time

import user_import as ui


class DictDirectory(ui.Directory):
    """A host directory: 100,000 existing users in dicts; each lookup is one batch of keys. It
    counts its calls and the time its own lookups take (the host's share of what it adds)."""

    def __init__(self, users):
        self.by_login = {u.login: u for u in users}
        self.by_email = {u.email: u for u in users}
        self.calls = 0
        self.lookup_time = 0.0

    def find_by_logins(self, logins):
        started = time.perf_counter()
        get = self.by_login.get
        found = [u for u in map(get, logins) if u is not None]
        self.calls += 1
        self.lookup_time += time.perf_counter() - started
        return found

    def find_by_emails(self, emails):
        started = time.perf_counter()
        get = self.by_email.get
        found = [u for u in map(get, emails) if u is not None]
        self.calls += 1
        self.lookup_time += time.perf_counter() - started
        return found


def users(prefix: str) -> list:
    return [ui.User(login=f"{prefix}{i:07}", first_name="First", last_name="Last", status=ui.Status.ACTIVE,
                    email=f"existing{i}@example.com") for i in range(100_000)]


def measure(label: str, runs: int, run) -> float:
    times = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - started)
    best, median = min(times), statistics.median(times)
    print(f"python {label:<42} best {best:.3f} s  median {median:.3f} s  ({rows} rows, {runs} runs)")
    return median


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    csv, config = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    importer = ui.Importer.from_path(config)
    base = measure("validate_path, no existing users", runs, lambda: importer.validate_path(csv).summary().rows)
    for label, prefix in [("in the file", "user"), ("not in it", "other")]:
        directory = DictDirectory(users(prefix))
        with_directory = measure(f"validate_path, 100k existing ({label})", runs,
                                 lambda: importer.validate_path(csv, directory).summary().rows)
        print(f"python   host Directory ({label}) adds {with_directory - base:.3f} s "
              f"({directory.calls // runs} batched calls a run; the host's own lookups: "
              f"{directory.lookup_time / runs:.3f} s a run)")
    existing = users("user")
    started = time.perf_counter()
    ui.memory_directory(existing)
    print(f"python   memory_directory(100k users) takes {time.perf_counter() - started:.3f} s (one packed call)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
