#!/usr/bin/env python3
"""Dump what python-calamine (same engine as the Rust `calamine` crate) sees in
each spreadsheet fixture. Checking aid only; generate.py does not need it.

Usage:  pip install python-calamine && python3 tests/data/check_fixtures.py [FILE...]
"""

import os
import sys

from python_calamine import CalamineWorkbook

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = [
    "users.xlsx", "users.xls", "users.ods", "title_rows.xlsx",
    "hidden_first_sheet.xlsx", "numbers_dates.xlsx", "dates_1904.xlsx",
    "formulas.xlsx", "formulas.ods", "trailing_formatted.xlsx", "empty.xlsx",
    "header_only.xlsx", "truncated.xlsx", "csv_named.xlsx",
    "xls_corrupt_header.xls",
]


def show(name):
    path = os.path.join(HERE, name)
    print(f"== {name}")
    try:
        wb = CalamineWorkbook.from_path(path)
    except Exception as e:  # noqa: BLE001 - we want to see any failure
        print(f"   OPEN ERROR: {type(e).__name__}: {e}")
        return
    for meta in wb.sheets_metadata:
        print(f"   sheet {meta.name!r} visible={meta.visible} type={meta.typ}")
        try:
            ws = wb.get_sheet_by_name(meta.name)
            print(f"     start={ws.start} end={ws.end} "
                  f"height={ws.height} width={ws.width}")
            for i, row in enumerate(ws.to_python(skip_empty_area=False)):
                if any(v != "" for v in row):
                    cells = ", ".join(f"{type(v).__name__}:{v!r}" for v in row if v != "")
                    print(f"     r{i + 1}: {cells}")
        except Exception as e:  # noqa: BLE001
            print(f"     READ ERROR: {type(e).__name__}: {e}")


def main():
    for name in sys.argv[1:] or DEFAULT:
        show(name)


if __name__ == "__main__":
    main()
