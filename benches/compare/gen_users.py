"""Fallback generator of the benches' users CSV: a port of benches/support/data.rs `users_csv`.

Writes the same bytes as the Rust generator (same SplitMix64 seed, same draws in the same
order; no field ever needs quoting, lines end with '\\n'), so run.sh can make
`target/bench-data/users_1m.csv` without building the benches. Pure Python: ~1M rows in
well under a minute.

    python3 gen_users.py OUT.csv [ROWS]      (ROWS defaults to 1,000,000)
"""

from __future__ import annotations

import os
import sys

MASK = (1 << 64) - 1

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Élodie", "Søren", "Zoë", "John",
         "Radia", "Ken", "Margaret", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Müller", "O'Brien", "Ng",
        "Backus", "Perlman", "Thompson", "Hamilton", "Berners-Lee"]
ROLES = ["Admin", "Editor", "Viewer", "Editor;Viewer", "Auditor"]
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Europe/London", "America/Sao_Paulo",
         "Australia/Sydney"]
STATUSES = ["active", "pending", "active", "expired", ""]
HEADER = ["First Name", "Last Name", "Login Name", "E-mail Address", "Password", "Roles", "Superior User",
          "Time Zone", "Status", "Employee ID", "Start Date"]


class SplitMix:
    def __init__(self, seed: int) -> None:
        self.state = seed

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next_u64() % max(n, 1)

    def pick(self, items: list[str]) -> str:
        return items[self.below(len(items))]


def user_row(i: int, rng: SplitMix) -> list[str]:
    first = rng.pick(FIRST)
    last = rng.pick(LAST)
    login = f"user{i:07}"
    email = f"{first.lower()}.{last.lower().replace(chr(39), '')}{i}@example.com"
    role = rng.pick(ROLES)
    zone = rng.pick(ZONES)
    superior = "" if i == 0 or rng.below(10) == 0 else f"user{rng.below(i):07}"
    fault = rng.below(250)
    if fault == 0:
        email = f"{first.lower()}.{i}@"
    elif fault == 1:
        role = "Superuser"
    elif fault == 2:
        zone = "Europe/Pariss"
    elif fault == 3 and i > 0:
        login = f"user{i - 1:07}"
    elif fault == 4:
        superior = "nobody.here"
    password = "" if rng.below(3) == 0 else f"Pw#{rng.next_u64() & 0xFFFFFFFF:08x}"
    day = 1 + rng.below(28)
    month = 1 + rng.below(12)
    year = 2000 + rng.below(25)
    status = rng.pick(STATUSES)
    return [first, last, login, email, password, role, superior, zone, status, str(10_000 + i),
            f"{year}-{month:02}-{day:02}"]


def main() -> None:
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = SplitMix(0x5EED)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for i in range(rows):
            f.write(",".join(user_row(i, rng)) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
