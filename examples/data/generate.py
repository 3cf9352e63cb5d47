#!/usr/bin/env python3
"""Regenerates the sample files of examples/data (one per seed product flow).

Usage: python3 examples/data/generate.py   (needs `pip install XlsxWriter`)
The users.xlsx / users.csv samples are copies of tests/data (see tests/data/generate.py).
"""
import csv
import datetime
import os

import xlsxwriter

HERE = os.path.dirname(os.path.abspath(__file__))
CREATED = datetime.datetime(2026, 1, 1)


def workbook(name):
    wb = xlsxwriter.Workbook(os.path.join(HERE, name))
    wb.set_properties({"created": CREATED})
    return wb


def write_csv(name, rows):
    with open(os.path.join(HERE, name), "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


# CMO: subordinates may come before their superior (forward references).
cmo = [
    ["First Name", "Last Name", "Login Name", "Password", "Roles", "Superior User", "Email"],
    ["Grace", "Hopper", "ghopper", "Compiler#1952", "Matter Manager", "alovelace", "grace@example.com"],
    ["Ada", "Lovelace", "alovelace", "Analytical#1843", "Administrator", "", "ada@example.com"],
    ["Alan", "Turing", "aturing", "Enigma#1912", "Attorney", "ghopper", "alan@example.com"],
    ["Katherine", "Johnson", "kjohnson", "Orbit#1918", "Attorney; Paralegal", "ghopper", "katherine@example.com"],
    ["Edsger", "Dijkstra", "edijkstra", "Shortest#1930", "Read Only", "aturing", "edsger@example.com"],
]
wb = workbook("cmo_users.xlsx")
ws = wb.add_worksheet("Users")
for r, row in enumerate(cmo):
    for c, value in enumerate(row):
        if value:
            ws.write_string(r, c, value)
wb.close()

# HQ: CSV with yes/no and role product columns; empty = the product's default.
write_csv("hq_users.csv", [
    ["Name", "Last Name", "Email", "Role in Mitratech HQ", "Time Zone", "Trakstar Hire", "Trakstar Perform", "Trakstar Learn"],
    ["Ada", "Lovelace", "ada@example.com", "Admin", "Europe/London", "Admin", "HR Admin", "yes"],
    ["Grace", "Hopper", "grace@example.com", "Basic", "America/New_York", "yes", "Manager", ""],
    ["Alan", "Turing", "alan@example.com", "basic", "", "no", "", "no"],
    ["Radia", "Perlman", "radia@example.com", "Basic", "america/los_angeles", "Recruiter", "", "Instructor"],
])

# Training platform: xlsx, userName/reference required, a custom one_of and a date column, and
# one column the platform does not know yet (offered as a custom field).
wb = workbook("training_users.xlsx")
ws = wb.add_worksheet("Users")
date = wb.add_format({"num_format": "yyyy-mm-dd"})
header = ["Email", "userName", "reference", "First name", "Last name", "Department", "Hire date", "Groups", "T-shirt size"]
rows = [
    ["ada@example.com", "ada", 10045, "Ada", "Lovelace", "Engineering", datetime.date(2024, 1, 15), "New hires", "M"],
    ["grace@example.com", "grace", 10046, "Grace", "Hopper", "Engineering", datetime.date(2023, 12, 1), "New hires; Compliance 2026", "S"],
    ["alan@example.com", "alan", 10047, "Alan", "Turing", "Finance", datetime.date(2022, 6, 30), "Compliance 2026", "L"],
    ["dorothy@example.com", "dorothy", 10048, "Dorothy", "Vaughan", "Sales", datetime.date(2021, 2, 28), "Sales onboarding", ""],
]
for c, h in enumerate(header):
    ws.write_string(0, c, h)
for r, row in enumerate(rows, start=1):
    for c, value in enumerate(row):
        if value == "":
            continue
        if isinstance(value, int):
            ws.write_number(r, c, value)
        elif isinstance(value, datetime.date):
            ws.write_datetime(r, c, datetime.datetime(value.year, value.month, value.day), date)
        else:
            ws.write_string(r, c, value)
wb.close()

# Portal: the template's exact lowercase headers; groups or a mirror user for permissions.
write_csv("portal_users.csv", [
    ["first name", "last name", "email", "groups", "mirror user", "status"],
    ["Ada", "Lovelace", "ada@example.com", "Editors", "", "active"],
    ["Grace", "Hopper", "grace@example.com", "", "admin", "pending"],
    ["Alan", "Turing", "alan@example.com", "Viewers", "", ""],
])
