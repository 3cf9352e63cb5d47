#!/usr/bin/env python3
"""Regenerate every test fixture in tests/data/ from scratch, deterministically.

Usage:  pip install XlsxWriter && python3 tests/data/generate.py
        (LibreOffice `soffice` must be on PATH for the .xls/.ods files:
         apt-get install -y --no-install-recommends libreoffice-calc-nogui)

Options: --no-soffice  skip the LibreOffice conversions (users.xls, users.ods,
         formulas.ods, xls_corrupt_header.xls are then left as they are).

All content is fixed; XlsxWriter output is byte-reproducible (fixed 'created'
date, which XlsxWriter also uses for the zip timestamps). LibreOffice output
is normalised (ODS zip timestamps and meta.xml dates); with LibreOffice 7.4
two runs give identical .xls/.ods bytes, other LibreOffice versions may differ
in metadata. See README.md for what each file contains.
"""

import csv
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

try:
    import xlsxwriter
except ImportError:
    sys.exit("generate.py: XlsxWriter is missing: pip install XlsxWriter")

HERE = os.path.dirname(os.path.abspath(__file__))
CREATED = dt.datetime(2026, 1, 1)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)

HEADER = [
    "First Name", "Last Name", "Login Name", "E-mail Address", "Password",
    "Roles", "Superior User", "Employee ID", "Start Date",
]

# Employee ID: int -> NUMBER cell in spreadsheets; str -> TEXT cell.
# Start Date: date -> DATE cell in spreadsheets, ISO text in CSV.
# "" -> no cell at all in spreadsheets, empty field in CSV.
USERS = [
    ["Ada", "Lovelace", "ada", "ada@example.com", "Analytical#1", "Admin", "",
     10045, dt.date(2024, 1, 15)],
    ["Grace", "Hopper", "grace", "grace@example.com", "Compiler#2",
     "Admin;Editor", "ada", 10046, dt.date(2023, 12, 1)],
    ["Élodie", "Müller", "elodie", "elodie@example.com", "Résumé#3", "Editor",
     "grace", "00123", dt.date(2022, 6, 30)],
    ["Søren", "O'Brien", "soren", "soren@example.com", "", "Viewer", "grace",
     10048, dt.date(2021, 2, 28)],
    ["Zoë", '"Zed" Ng', "zoe", "zoe@example.com", 'Quote"d,pw', "Viewer",
     "elodie", 10049, dt.date(2020, 10, 5)],
]


def out(name):
    return os.path.join(HERE, name)


def write_bytes(name, data):
    with open(out(name), "wb") as f:
        f.write(data)
    print(f"  wrote {name} ({len(data)} bytes)")


def as_text(v):
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def csv_text(rows, delimiter=",", lineterminator="\n"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator,
                   quoting=csv.QUOTE_MINIMAL, quotechar='"', doublequote=True)
    for r in rows:
        w.writerow([as_text(v) for v in r])
    return buf.getvalue()


def users_rows():
    return [HEADER] + USERS


# --------------------------------------------------------------------- CSV --

def make_csvs():
    rows = users_rows()
    write_bytes("users.csv", csv_text(rows).encode("utf-8"))
    write_bytes("users_bom.csv",
                b"\xef\xbb\xbf" + csv_text(rows, lineterminator="\r\n").encode("utf-8"))
    write_bytes("users_utf16le.txt",
                ("\ufeff" + csv_text(rows, "\t", "\r\n")).encode("utf-16-le"))
    write_bytes("users_utf16be.csv",
                ("\ufeff" + csv_text(rows, ",", "\r\n")).encode("utf-16-be"))
    write_bytes("users_cp1252.csv", csv_text(rows, ";", "\r\n").encode("cp1252"))
    write_bytes("users_semicolon.csv", csv_text(rows, ";").encode("utf-8"))
    write_bytes("users_tab.tsv", csv_text(rows, "\t").encode("utf-8"))
    write_bytes("users_pipe.csv", csv_text(rows, "|").encode("utf-8"))

    # Written literally so the byte layout is exact. CRLF record ends.
    # Record starts: line 2 (spans 2-3, LF inside the quoted field),
    # line 4, line 5 (doubled quote), line 6 (spans 6-7, CRLF inside the
    # quoted field), line 8 (last record, no final line end).
    qn = (
        'First Name,Last Name,Login Name,E-mail Address\r\n'
        'Ada,"Love\nlace",ada,ada@example.com\r\n'
        'Grace,Hopper,grace,grace@example.com\r\n'
        'Zoë,"""Zed"" Ng",zoe,"zoe@example.com"\r\n'
        'Søren,"O\'Brien\r\nSecond Line",soren,soren@example.com\r\n'
        'Élodie,Müller,elodie,elodie@example.com'
    )
    write_bytes("quoted_newlines.csv", qn.encode("utf-8"))

    ragged = (
        "First Name,Last Name,Login Name,E-mail Address\n"
        "Ada,Lovelace,ada\n"
        "Grace,Hopper,grace,grace@example.com,extra1,extra2\n"
        "Élodie,Müller,elodie,elodie@example.com\n"
    )
    write_bytes("ragged.csv", ragged.encode("utf-8"))

    # Line numbers (1-based): 1 header, 2 Ada, 3 blank, 4 Grace, 5 ",,,",
    # 6 blank, 7 Élodie, 8 blank, 9 blank (file ends with "\n\n\n").
    blank = (
        "First Name,Last Name,Login Name,E-mail Address\n"
        "Ada,Lovelace,ada,ada@example.com\n"
        "\n"
        "Grace,Hopper,grace,grace@example.com\n"
        ",,,\n"
        "\n"
        "Élodie,Müller,elodie,elodie@example.com\n"
        "\n"
        "\n"
    )
    write_bytes("blank_lines.csv", blank.encode("utf-8"))

    write_bytes("empty.csv", b"")
    write_bytes("header_only.csv", csv_text([HEADER]).encode("utf-8"))


# -------------------------------------------------------------------- XLSX --

def new_workbook(name, **opts):
    wb = xlsxwriter.Workbook(out(name), opts)
    wb.set_properties({"created": CREATED, "author": "user-import fixtures"})
    return wb


def write_users(wb, ws, first_row=0, header=HEADER, users=USERS):
    """Write header at 0-based row first_row, users below it."""
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True})
    for c, h in enumerate(header):
        ws.write_string(first_row, c, h, bold)
    for r, user in enumerate(users, start=first_row + 1):
        for c, v in enumerate(user):
            if v == "":
                continue  # no cell at all
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
    ws.set_column(0, len(header) - 1, 16)


def make_users_xlsx():
    wb = new_workbook("users.xlsx")
    ws = wb.add_worksheet("Users")
    write_users(wb, ws)
    wb.close()
    print("  wrote users.xlsx")


def make_title_rows():
    wb = new_workbook("title_rows.xlsx")
    ws = wb.add_worksheet("Users")
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    ws.merge_range(0, 0, 0, 8, "Acme Corp — user import", title)
    ws.write_string(1, 0, "Exported from HR system, January 2026")
    # row 3 (index 2) left empty
    write_users(wb, ws, first_row=3)
    wb.close()
    print("  wrote title_rows.xlsx")


def make_hidden_first_sheet():
    wb = new_workbook("hidden_first_sheet.xlsx")
    notes = wb.add_worksheet("Notes")
    notes.write_string(0, 0, "Internal notes - not user data")
    notes.write_string(1, 0, "Login Name")
    notes.write_string(2, 0, "should-not-be-imported")
    users = wb.add_worksheet("Users")
    write_users(wb, users)
    archive = wb.add_worksheet("Archive")
    archive.write_string(0, 0, "Login Name")
    archive.write_string(0, 1, "Archived On")
    archive.write_string(1, 0, "charles")
    archive.write_datetime(1, 1, dt.datetime(2019, 5, 1),
                           wb.add_format({"num_format": "yyyy-mm-dd"}))
    notes.hide()
    users.activate()
    users.set_first_sheet()
    wb.close()
    print("  wrote hidden_first_sheet.xlsx")


ND_HEADER = ["Login Name", "Employee ID", "Ratio", "Joined", "Joined At",
             "Shift Start", "Active", "Big"]


def write_dates_sheet(wb, ws):
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_dt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    f_time = wb.add_format({"num_format": "hh:mm:ss"})
    f_sci = wb.add_format({"num_format": "0.00E+00"})
    for c, h in enumerate(ND_HEADER):
        ws.write_string(0, c, h)
    # row 2
    ws.write_number(1, 0, 10045)
    ws.write_number(1, 1, 10045)
    ws.write_number(1, 2, 0.5)
    ws.write_datetime(1, 3, dt.datetime(2024, 1, 15), f_date)
    ws.write_datetime(1, 4, dt.datetime(2024, 1, 15, 13, 45, 30), f_dt)
    ws.write_datetime(1, 5, dt.time(8, 30, 0), f_time)
    ws.write_boolean(1, 6, True)
    ws.write_number(1, 7, 123456789012)
    # row 3: same login number, shown in scientific format (1.00E+04)
    ws.write_number(2, 0, 10045, f_sci)
    ws.write_number(2, 1, 10046)
    ws.write_number(2, 2, 0.25)
    ws.write_datetime(2, 3, dt.datetime(2023, 12, 1), f_date)
    ws.write_datetime(2, 4, dt.datetime(2023, 12, 1, 0, 0, 0), f_dt)
    ws.write_datetime(2, 5, dt.time(17, 0, 0), f_time)
    ws.write_boolean(2, 6, False)
    ws.write_number(2, 7, 9007199254740991)  # 2^53-1, largest exact f64 int
    ws.set_column(0, len(ND_HEADER) - 1, 20)


def make_numbers_dates():
    wb = new_workbook("numbers_dates.xlsx")
    write_dates_sheet(wb, wb.add_worksheet("Sheet1"))
    wb.close()
    print("  wrote numbers_dates.xlsx")


def make_dates_1904():
    # Python XlsxWriter's spelling of rust_xlsxwriter's use_1904_epoch().
    wb = new_workbook("dates_1904.xlsx", date_1904=True)
    write_dates_sheet(wb, wb.add_worksheet("Sheet1"))
    wb.close()
    print("  wrote dates_1904.xlsx")


def make_formulas():
    wb = new_workbook("formulas.xlsx")
    ws = wb.add_worksheet("Users")
    hdr = HEADER[:4]
    for c, h in enumerate(hdr):
        ws.write_string(0, c, h)
    rows = [
        ("Ada", "Lovelace", "ada", '=LOWER(C2)&"@example.com"', "ada@example.com"),
        ("Grace", "Hopper", "grace", '=LOWER(C3)&"@example.com"', "grace@example.com"),
        ("Élodie", "Müller", "elodie", "=NA()", "#N/A"),
        ("Søren", "O'Brien", "soren", "=1/0", "#DIV/0!"),
        ("Zoë", '"Zed" Ng', "zoe", None, "zoe@example.com"),
    ]
    for r, (fn, ln, login, formula, value) in enumerate(rows, start=1):
        ws.write_string(r, 0, fn)
        ws.write_string(r, 1, ln)
        ws.write_string(r, 2, login)
        if formula is None:
            ws.write_string(r, 3, value)
        else:
            ws.write_formula(r, 3, formula, None, value)
    ws.set_column(0, 3, 20)
    wb.close()
    print("  wrote formulas.xlsx")


def make_trailing_formatted():
    wb = new_workbook("trailing_formatted.xlsx")
    ws = wb.add_worksheet("Users")
    write_users(wb, ws)
    fill = wb.add_format({"bg_color": "#FFF2CC", "border": 1})
    col_fmt = wb.add_format({"bg_color": "#DDEBF7"})
    # Formatted but empty columns J..M (index 9..12) for the whole sheet,
    # plus explicit formatted blank cells next to the data.
    ws.set_column(9, 12, 12, col_fmt)
    for r in range(0, 6):
        for c in range(9, 13):
            ws.write_blank(r, c, None, fill)
    # 50 formatted empty rows below the data (rows 7..56, 1-based).
    for r in range(6, 56):
        ws.set_row(r, None, fill)
        for c in range(0, 9):
            ws.write_blank(r, c, None, fill)
    wb.close()
    print("  wrote trailing_formatted.xlsx")


def make_empty_and_header_only():
    wb = new_workbook("empty.xlsx")
    wb.add_worksheet("Sheet1")
    wb.close()
    print("  wrote empty.xlsx")
    wb = new_workbook("header_only.xlsx")
    ws = wb.add_worksheet("Users")
    write_users(wb, ws, users=[])
    wb.close()
    print("  wrote header_only.xlsx")


# ----------------------------------------------------------- broken files --

def tiny_png():
    w = h = 4
    raw = b""
    for y in range(h):
        raw += b"\x00"  # filter: none
        for x in range(w):
            raw += bytes(((x * 85) & 255, (y * 85) & 255, 128))

    def chunk(typ, data):
        c = struct.pack(">I", len(data)) + typ + data
        return c + struct.pack(">I", zlib.crc32(typ + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def make_broken():
    with open(out("users.xlsx"), "rb") as f:
        xlsx = f.read()
    write_bytes("truncated.xlsx", xlsx[: len(xlsx) // 2])
    write_bytes("png_renamed.csv", tiny_png())
    with open(out("users.csv"), "rb") as f:
        write_bytes("csv_named.xlsx", f.read())
    make_zip_bomb()


def make_zip_bomb():
    target = 300 * 1024 * 1024  # uncompressed size of the sheet entry
    prefix = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<dimension ref="A1"/><sheetData>'
    )
    suffix = b"</sheetData></worksheet>"
    src = zipfile.ZipFile(out("users.xlsx"))
    with zipfile.ZipFile(out("zip_bomb.xlsx"), "w", zipfile.ZIP_DEFLATED,
                         compresslevel=9) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "xl/worksheets/sheet1.xml":
                with dst.open(zi, "w", force_zip64=True) as fh:
                    fh.write(prefix)
                    block = b" " * (1024 * 1024)
                    left = target - len(prefix) - len(suffix)
                    while left > 0:
                        n = min(left, len(block))
                        fh.write(block[:n])
                        left -= n
                    fh.write(suffix)
            else:
                dst.writestr(zi, src.read(info.filename))
    src.close()
    print(f"  wrote zip_bomb.xlsx ({os.path.getsize(out('zip_bomb.xlsx'))} bytes, "
          f"sheet1.xml expands to {target} bytes)")


def make_xls_corrupt_header():
    with open(out("users.xls"), "rb") as f:
        data = bytearray(f.read())
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "users.xls is not a CFB file"
    # Deterministic scramble of bytes 8..511: XOR with a SHA-256 keystream.
    stream = b""
    i = 0
    while len(stream) < 504:
        stream += hashlib.sha256(b"user-import fixture %d" % i).digest()
        i += 1
    for k in range(8, 512):
        data[k] ^= stream[k - 8] | 1  # "| 1" guarantees every byte changes
    write_bytes("xls_corrupt_header.xls", bytes(data))


# ------------------------------------------------------------ LibreOffice --

def soffice_bin():
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    return None


def convert(soffice, src_name, fmt, profile_dir):
    """Convert tests/data/src_name with LibreOffice into format fmt, in place."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [soffice, f"-env:UserInstallation=file://{profile_dir}",
               "--headless", "--norestore", "--convert-to", fmt,
               "--outdir", tmp, out(src_name)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="1767225600"))
        base = os.path.splitext(src_name)[0] + "." + fmt
        produced = os.path.join(tmp, base)
        if not os.path.exists(produced):
            sys.exit(f"generate.py: soffice did not produce {base}")
        if fmt == "ods":
            normalise_ods(produced, out(base))
        else:
            shutil.copyfile(produced, out(base))
    print(f"  wrote {base} (LibreOffice from {src_name}, "
          f"{os.path.getsize(out(base))} bytes)")


def normalise_ods(src_path, dst_path):
    """Rewrite an ODS zip with fixed timestamps and fixed meta.xml dates."""
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(dst_path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "meta.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<meta:creation-date>)[^<]*(<)", r"\g<1>2026-01-01T00:00:00\2", text)
                text = re.sub(r"(<dc:date>)[^<]*(<)", r"\g<1>2026-01-01T00:00:00\2", text)
                text = re.sub(r"(<meta:editing-duration>)[^<]*(<)", r"\1PT0S\2", text)
                data = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, ZIP_TIME)
            # ODF rule: "mimetype" first and stored; everything else deflated.
            zi.compress_type = (zipfile.ZIP_STORED if info.filename == "mimetype"
                                else zipfile.ZIP_DEFLATED)
            zi.external_attr = info.external_attr
            dst.writestr(zi, data)


def make_libreoffice(skip):
    if skip:
        print("  skipping LibreOffice conversions (--no-soffice)")
        return
    soffice = soffice_bin()
    if soffice is None:
        sys.exit("generate.py: LibreOffice 'soffice' not found on PATH; it is needed "
                 "for users.xls, users.ods, formulas.ods, xls_corrupt_header.xls.\n"
                 "Install it (apt-get install -y --no-install-recommends "
                 "libreoffice-calc-nogui) or rerun with --no-soffice.")
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        convert(soffice, "users.xlsx", "xls", profile)
        convert(soffice, "users.xlsx", "ods", profile)
        convert(soffice, "formulas.xlsx", "ods", profile)
    make_xls_corrupt_header()


def main():
    skip_soffice = "--no-soffice" in sys.argv[1:]
    print("CSV / text files")
    make_csvs()
    print("XLSX files (XlsxWriter %s)" % xlsxwriter.__version__)
    make_users_xlsx()
    make_title_rows()
    make_hidden_first_sheet()
    make_numbers_dates()
    make_dates_1904()
    make_formulas()
    make_trailing_formatted()
    make_empty_and_header_only()
    print("Broken / disguised files")
    make_broken()
    print("LibreOffice conversions")
    make_libreoffice(skip_soffice)


if __name__ == "__main__":
    main()
