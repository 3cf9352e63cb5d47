"""The Python peers of benches/compare/run.sh, on the rules of benches/compare/rules.toml.

    python peers.py schema                 print the Table Schema (JSON) frictionless validates with
    python peers.py frictionless FILE SCHEMA
    python peers.py pandas FILE
    python peers.py report < REPORT.json   count user-import's JSON report (`--json`) the same way

Each peer ends with one line on standard output, read by run.sh:

    RESULT rows=<data rows> invalid=<rows with at least one error> <rule>=<rows> ...

The rules (what rules.toml asks of user-import):
- required: First Name, Last Name, Login Name, E-mail Address, Roles (blank = missing);
- email: an address (frictionless: `format: email`, i.e. the `validators` package; pandas: a
  regular expression close to user-import's, which is the `validator` crate's plus letters of
  any script in the local part);
- roles: a `;`-separated list, each item one of Admin, Editor, Viewer, Auditor;
- time zone: empty or one of `zoneinfo.available_timezones()`;
- login unique (pandas: ignoring case, as user-import; frictionless: exact `unique` constraint);
- superior: empty or the login of a row of the same file (pandas: ignoring case; frictionless:
  a foreign key to the same resource's Login Name);
- and, to be as close to user-import as reasonable: password empty or >= 8 characters, status
  empty or a known status word, Start Date a date, Employee ID an integer (frictionless only,
  by type), email unique (pandas: ignoring case; frictionless: exact).
"""

from __future__ import annotations

import json
import sys
import zoneinfo

CATALOG_ROLES = ["Admin", "Editor", "Viewer", "Auditor"]
# The status words user-import accepts (src/model.rs `Status::from_str`), ignoring case.
STATUSES = ["active", "enabled", "pending", "invited", "expired", "blocked", "disabled", "inactive", "deactivated"]
REQUIRED = ["First Name", "Last Name", "Login Name", "E-mail Address", "Roles"]
ROLE = "(?:" + "|".join(CATALOG_ROLES) + ")"
ROLES_PATTERN = f"{ROLE}(?:;{ROLE})*"


def zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def schema() -> dict:
    """A Frictionless Table Schema with the rules above.

    Time Zone is an `enum` of every name of `zoneinfo.available_timezones()` (frictionless
    supports `enum` on strings; a pattern could not say "an IANA name"). Roles is a string with
    a `pattern` (frictionless' `list` type has no per-item enum)."""

    def text(name: str, **constraints) -> dict:
        field = {"name": name, "type": "string"}
        if name in REQUIRED:
            constraints["required"] = True
        if constraints:
            field["constraints"] = constraints
        return field

    fields = [
        text("First Name"),
        text("Last Name"),
        text("Login Name", unique=True),
        {"name": "E-mail Address", "type": "string", "format": "email",
         "constraints": {"required": True, "unique": True}},
        text("Password", minLength=8),
        text("Roles", pattern=ROLES_PATTERN),
        text("Superior User"),
        text("Time Zone", enum=zones()),
        text("Status", enum=STATUSES),
        {"name": "Employee ID", "type": "integer"},
        {"name": "Start Date", "type": "date"},
    ]
    return {
        "fields": fields,
        "missingValues": [""],
        "foreignKeys": [
            {"fields": ["Superior User"], "reference": {"resource": "", "fields": ["Login Name"]}}
        ],
    }


def result(rows: int, invalid: int, by_rule: dict[str, int]) -> None:
    rules = " ".join(f"{k}={v}" for k, v in sorted(by_rule.items()))
    print(f"RESULT rows={rows} invalid={invalid} {rules}", flush=True)


def run_frictionless(path: str, schema_path: str) -> None:
    """`frictionless.validate` (what `frictionless validate FILE --schema S` runs), every error kept."""
    import os

    import frictionless

    with open(schema_path, encoding="utf-8") as f:
        table_schema = frictionless.Schema.from_descriptor(json.load(f))
    # A relative path under a basepath: frictionless refuses absolute paths as "not safe".
    path = os.path.abspath(path)
    resource = frictionless.Resource(path=os.path.basename(path), basepath=os.path.dirname(path),
                                     schema=table_schema, format="csv", encoding="utf-8")
    report = frictionless.validate(resource, limit_errors=100_000_000)
    task = report.tasks[0]
    rows_with_errors: set[int] = set()
    by_rule: dict[str, set[int]] = {}
    for error in task.errors:
        row = getattr(error, "row_number", None)
        if row is None:
            # A file-level error (header, encoding...): say it loudly, it would skew the counts.
            print(f"frictionless: {error.type}: {error.message}", file=sys.stderr)
            continue
        rows_with_errors.add(row)
        key = error.type
        if error.type == "constraint-error":
            key = "constraint-" + str(getattr(error, "field_name", "?")).lower().replace(" ", "_")
        by_rule.setdefault(key, set()).add(row)
    rows = task.stats.get("rows")
    result(rows, len(rows_with_errors), {k: len(v) for k, v in by_rule.items()})


# user-import's email rule (src/validate/email.rs): a local part of 1-64 characters from
# `A-Za-z0-9.!#$%&'*+/=?^_`{|}~-` or letters/digits of any script, then a domain of
# dot-separated labels of letters, digits and inner hyphens, each at most 63 characters (IP
# literals and IDNA domains, which user-import also accepts, are left out). RE2 syntax
# (pyarrow); the lengths are checked apart, since RE2 expands counted repetitions (`{1,64}`) and
# the whole pattern then runs 20x slower.
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = r"[\pL\pN.!#$%&'*+/=?^_`{|}~-]+@" + LABEL + r"(?:\." + LABEL + r")*"
# Roles as user-import splits them: on ';' ',' '|', items trimmed, empty items dropped, each
# item in the catalog ignoring case.
ROLES_RE = r"(?i)[\s;,|]*" + ROLE + r"(?:\s*[;,|][\s;,|]*" + ROLE + r")*[\s;,|]*"


def run_pandas(path: str) -> None:
    """Vectorised checks on a pyarrow-read frame. The string columns are Arrow strings, so the
    `.str` methods run in pyarrow compute kernels (RE2 regular expressions). Set membership
    goes through `pyarrow.compute.is_in`: pandas 3.1's `Series.isin` on Arrow strings against
    a million logins takes 10 s where the kernel takes 0.7 s."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    def isin(series: pd.Series, values) -> pd.Series:
        found = pc.is_in(pa.array(series.array), value_set=pa.array(values))
        return pd.Series(found.to_numpy(zero_copy_only=False), index=series.index)

    df = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow", dtype="string[pyarrow]",
                     keep_default_na=False, na_values=[])
    df = df.fillna("")
    # user-import trims every cell; the password is taken as typed.
    strip = {name: df[name].str.strip() for name in df.columns if name != "Password"}
    bad: dict[str, pd.Series] = {}

    missing = None
    for name in REQUIRED:
        m = strip[name] == ""
        missing = m if missing is None else (missing | m)
    bad["required"] = missing

    email = strip["E-mail Address"]
    bad["email"] = (email != "") & ~(
        email.str.fullmatch(EMAIL) & (email.str.find("@") <= 64) & ~email.str.contains(r"[A-Za-z0-9-]{64}")
    )

    roles = strip["Roles"]
    bad["roles"] = (roles != "") & ~roles.str.fullmatch(ROLES_RE)

    tz = strip["Time Zone"].str.lower()
    bad["timezone"] = (tz != "") & ~isin(tz, [z.lower() for z in zones()])

    login = strip["Login Name"].str.lower()
    bad["login_duplicate"] = (login != "") & login.duplicated(keep="first")
    bad["email_duplicate"] = (email != "") & email.str.lower().duplicated(keep="first")

    superior = strip["Superior User"].str.lower()
    bad["superior"] = (superior != "") & ~isin(superior, login[login != ""].array)

    password = df["Password"]
    bad["password"] = (password != "") & (password.str.len() < 8)

    status = strip["Status"].str.lower()
    bad["status"] = (status != "") & ~isin(status, STATUSES)

    start = strip["Start Date"]
    parsed = pd.to_datetime(start, format="%Y-%m-%d", errors="coerce")
    bad["start_date"] = (start != "") & parsed.isna()

    any_bad = None
    for mask in bad.values():
        any_bad = mask if any_bad is None else (any_bad | mask)
    result(len(df), int(any_bad.sum()), {k: int(v.sum()) for k, v in bad.items()})


def count_report() -> None:
    """Rows of a user-import JSON report with at least one error. `superior_not_imported` (the
    superior is in the file but its own row failed) is a cascade the peers do not have, so it is
    counted apart and left out of `invalid`."""
    report = json.load(sys.stdin)
    rows_with_errors: set[int] = set()
    by_rule: dict[str, set[int]] = {}
    for issue in report["issues"]:
        if issue.get("severity") != "error" or issue.get("row") is None:
            continue
        by_rule.setdefault(issue["code"], set()).add(issue["row"])
        if issue["code"] != "superior_not_imported":
            rows_with_errors.add(issue["row"])
    result(report["summary"]["rows"], len(rows_with_errors), {k: len(v) for k, v in by_rule.items()})


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "schema":
        json.dump(schema(), sys.stdout, indent=1)
        print()
    elif command == "frictionless" and len(sys.argv) == 4:
        run_frictionless(sys.argv[2], sys.argv[3])
    elif command == "pandas" and len(sys.argv) == 3:
        run_pandas(sys.argv[2])
    elif command == "report" and len(sys.argv) == 2:
        count_report()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
