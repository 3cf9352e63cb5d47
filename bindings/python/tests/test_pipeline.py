"""The pipeline from Python: parse, map, validate, hierarchy, plan, reports and templates, on the
repository's fixture files."""

from __future__ import annotations

import json
import zipfile

import pytest

import user_import as ui
from conftest import DATA, EXAMPLES, USERS_TOML


def test_a_fixture_file_validates_with_every_row_typed(importer, users_csv):
    validation = importer.validate_path(users_csv)
    summary = validation.summary()
    assert (summary.rows, summary.valid, summary.invalid, summary.issues) == (5, 5, 0, 0)
    assert summary.can_import
    records = validation.records(0, 100)
    assert [r.row for r in records] == [2, 3, 4, 5, 6]
    ada, grace, elodie = records[0].user, records[1].user, records[2].user
    assert (ada.login, ada.email, ada.roles, ada.reference) == ("ada", "ada@example.com", ["Admin"], "10045")
    assert grace.roles == ["Admin", "Editor"] and grace.superior == "ada"
    assert elodie.first_name == "Élodie" and elodie.reference == "00123"
    assert ada.custom["start_date"] == ui.CustomValue.DATE(iso="2024-01-15")
    # Previews never carry a password, hashed or not.
    assert all(r.user.password_hash is None for r in records)
    info = validation.source_info()
    assert (info.format, info.encoding, info.delimiter, info.header_row) == ("CSV", "UTF-8", ",", 1)


@pytest.mark.parametrize(
    "name",
    ["users.xlsx", "users.xls", "users.ods", "users_bom.csv", "users_cp1252.csv", "users_semicolon.csv",
     "users_tab.tsv", "users_utf16le.txt", "users_utf16be.csv"],
)
def test_every_format_gives_the_same_users(importer, users_csv, name):
    expected = [(r.row, r.user) for r in importer.validate_path(users_csv).records(0, 100)]
    got = [(r.row, r.user) for r in importer.validate_path(str(DATA / name)).records(0, 100)]
    assert got == expected


def test_bad_cells_are_issues_with_rows_columns_and_codes(importer):
    upload = (
        "First Name,Last Name,Login Name,E-mail Address,Roles\n"
        "Ada,Lovelace,ada,ada@example.com,Admin\n"
        "Bob,Smith,bob,bob@,Admin\n"
        "Cy,Young,cy,cy@example.com,Admn\n"
        "Ada,Again,ADA,other@example.com,Viewer\n"
    ).encode()
    validation = importer.validate_bytes(upload)
    summary = validation.summary()
    assert (summary.rows, summary.valid, summary.invalid) == (4, 1, 3)
    issues = validation.issues(0, 100)
    by_row = {i.row: i for i in issues}
    assert by_row[3].code == "invalid_email"
    assert (by_row[3].column, by_row[3].field, by_row[3].value) == ("E-mail Address", "email", "bob@")
    assert by_row[3].severity == ui.Severity.ERROR
    assert by_row[3].description == "row 3, column 'E-mail Address': 'bob@' is not an email address"
    assert by_row[4].code == "unknown_role" and "did you mean 'Admin'" in by_row[4].message
    assert by_row[5].code == "duplicate_in_file"
    assert validation.counts_by_code() == {"invalid_email": 1, "unknown_role": 1, "duplicate_in_file": 1}
    assert [i.code for i in validation.issues_for_row(4)] == ["unknown_role"]
    assert validation.invalid_rows(0, 10) == [3, 4, 5]
    # Pages: offset and limit, fewer at the end, nothing past it.
    assert validation.issues(1, 1) == [issues[1]]
    assert validation.issues(2, 10) == issues[2:]
    assert validation.issues(50, 10) == []


def test_configs_load_from_toml_json_and_files_and_say_what_is_wrong():
    config = ui.ImportConfig.from_toml(USERS_TOML)
    again = ui.ImportConfig.from_json(config.to_json())
    assert again.to_toml() == config.to_toml()
    assert ui.ImportConfig.from_path(str(EXAMPLES / "configs" / "hq.toml")).mode() == ui.Mode.UPSERT
    with pytest.raises(ui.UserImportError.InvalidConfig) as err:
        ui.ImportConfig.from_toml("[schema]\nfeilds = []")
    assert "feilds" in err.value.detail
    with pytest.raises(ui.UserImportError.InvalidConfig):
        ui.Importer.from_json("{not json")
    with pytest.raises(ui.UserImportError.UnreadableFile):
        ui.ImportConfig.from_path(str(EXAMPLES / "configs" / "missing.toml"))
    # A setter that would make the configuration invalid changes nothing.
    with pytest.raises(ui.UserImportError.InvalidConfig) as err:
        config.set_mapping("Mail", "product:nope")
    assert "product 'nope'" in err.value.detail
    assert config.mapping() == {}


def test_mapping_overrides_and_custom_fields_by_configuration():
    config = ui.ImportConfig()
    config.require_fields(["first_name", "last_name", "login"])
    config.set_mapping("Handle", "login")
    config.set_mapping("#5", None)  # the 5th column is ignored
    config.add_custom_field(ui.CustomFieldSpec(name="department", kind=ui.CustomKind.ONE_OF, values=["Sales", "R&D"]))
    importer = ui.Importer(config)
    upload = b"First Name,Last Name,Handle,Department,Notes\nAda,Lovelace,ada,Sales,hello\nBob,Smith,bob,Marketing,\n"
    validation = importer.validate_bytes(upload, None)
    targets = {m.header: m.target for m in validation.mapping()}
    assert targets == {"First Name": "first_name", "Last Name": "last_name", "Handle": "login",
                       "Department": "custom:department", "Notes": None}
    how = {m.header: m.how for m in validation.mapping()}
    assert how["Handle"] == ui.MatchKind.OVERRIDE
    ada = validation.records(0, 1)[0].user
    assert ada.custom == {"department": ui.CustomValue.TEXT(value="Sales")}
    [issue] = validation.issues(0, 10)
    assert (issue.row, issue.code, issue.field) == (3, "invalid_value", "custom:department")


def test_stages_one_by_one_with_a_mapping_edited_by_hand(importer):
    upload = b"First Name,Last Name,Nick,E-mail Address,Roles,Shoe size\nAda,Lovelace,ada,ada@example.com,Admin,38\n"
    source = importer.open_bytes(upload)
    assert source.headers() == ["First Name", "Last Name", "Nick", "E-mail Address", "Roles", "Shoe size"]
    assert source.info().format == "CSV"
    mapping = importer.map(source)
    assert "login" in mapping.missing_required() and not mapping.is_complete()
    assert [c.header for c in mapping.custom_candidates()] == ["Nick", "Shoe size"]
    saved_before = mapping.to_saved()
    mapping.set("#3", "login")
    mapping.accept_custom("Shoe size")
    assert mapping.is_complete() and mapping.missing_required() == []
    with pytest.raises(ui.UserImportError.InvalidArgument):
        mapping.set("No such column", "email")
    with pytest.raises(ui.UserImportError.InvalidArgument):
        mapping.set("Nick", "not_a_field")
    # A saved mapping reapplies to a file with the same header.
    saved = mapping.to_saved()
    assert saved.signature == saved_before.signature == mapping.signature()
    fresh = importer.map(importer.open_bytes(upload))
    assert fresh.apply_saved(saved) and fresh.is_complete()
    other = importer.map(importer.open_bytes(b"a,b\n1,2\n"))
    assert not other.apply_saved(saved)

    validation = importer.validate_source(source, mapping)
    ada = validation.records(0, 1)[0].user
    assert ada.login == "ada" and ada.custom == {"Shoe size": ui.CustomValue.TEXT(value="38")}
    with pytest.raises(ui.UserImportError.InvalidArgument) as err:
        importer.validate_source(source, mapping)
    assert "open the file again" in err.value.detail


def test_hierarchy_orders_superiors_first_and_flags_cycles(importer, users_csv):
    validation = importer.validate_path(users_csv)
    hierarchy = validation.hierarchy()
    logins = [r.user.login for r in validation.records(0, 10)]
    order = [logins[i] for i in hierarchy.order]
    assert order.index("ada") < order.index("grace") < order.index("elodie") < order.index("zoe")
    assert hierarchy.superiors[1] == ui.SuperiorLink.IN_FILE(index=0, row=2)
    assert hierarchy.issues == []

    rows = [
        ui.HierarchyRow(row=2, login="a", superior="b"),
        ui.HierarchyRow(row=3, login="b", superior="a"),
        ui.HierarchyRow(row=4, login="c", superior="boss"),
        ui.HierarchyRow(row=5, login="d", superior="nobody"),
        ui.HierarchyRow(row=6, login="e", superior="e"),
    ]
    result = ui.resolve_hierarchy(rows, ["BOSS"])
    assert result.order == [2]
    assert result.superiors[2] == ui.SuperiorLink.EXISTING()
    codes = sorted((i.row, i.code) for i in result.issues)
    assert codes == [(2, "hierarchy_cycle"), (3, "hierarchy_cycle"), (5, "superior_not_found"), (6, "self_reference")]
    assert result.placements[3] == ui.Placement.FLAGGED()


def test_a_plan_previews_every_row_and_pages_through_them(importer, users_csv):
    plan = importer.plan_path(users_csv)
    summary = plan.summary()
    assert (summary.rows, summary.create, summary.fail, summary.invitations) == (5, 5, 0, 1)
    rows = plan.rows(0, 100)
    assert [r.action for r in rows] == [ui.Action.CREATE] * 5
    assert [r.login for r in rows] == ["ada", "grace", "elodie", "soren", "zoe"]
    assert [r.invitation for r in rows] == [False, False, False, True, False]
    assert plan.rows(3, 1) == [rows[3]]
    assert plan.invitations() == ["soren"]
    writes = plan.writes(0, 100)
    assert [w.user.login for w in writes][:2] == ["ada", "grace"]
    assert all(w.user.password_hash is None for w in writes)
    assert plan.user(3).superior == "ada"
    assert plan.user(99) is None
    assert [f.name for f in plan.custom_fields()] == ["start_date"]
    # The same run from a validation.
    again = importer.plan(importer.validate_path(users_csv))
    assert again.summary() == summary


def test_modes_merge_and_group_rules(users_csv):
    existing = [ui.User(login="ada", first_name="Ada", last_name="Byron", status=ui.Status.ACTIVE,
                        email="ada@example.com", roles=["Admin"])]
    directory = ui.memory_directory(existing)

    upsert = ui.Importer.from_toml(USERS_TOML).plan_path(users_csv, directory)
    ada = upsert.rows(0, 1)[0]
    assert ada.action == ui.Action.UPDATE
    assert [(c.field, c.old_value, c.new_value) for c in ada.changes if c.field == "last_name"] == [
        ("last_name", "Byron", "Lovelace")]

    config = ui.ImportConfig.from_toml(USERS_TOML)
    config.set_mode(ui.Mode.CREATE_ONLY)
    create_only = ui.Importer(config).validate_path(users_csv, directory)
    assert [(i.row, i.code) for i in create_only.issues(0, 10)] == [(2, "exists_in_directory")]

    config.set_mode(ui.Mode.UPDATE_ONLY)
    update_only = ui.Importer(config).plan_path(users_csv, directory)
    actions = [r.action for r in update_only.rows(0, 10)]
    assert actions == [ui.Action.UPDATE] + [ui.Action.SKIP] * 4

    config = ui.ImportConfig.from_toml(USERS_TOML)
    config.set_mode(ui.Mode.UPSERT)
    config.set_merge(ui.MergePolicy.FILL_EMPTY)
    fill = ui.Importer(config).plan_path(users_csv, directory)
    assert fill.user(2).last_name == "Byron"

    config = ui.ImportConfig.from_toml(USERS_TOML)
    config.set_create_missing_groups(True)
    config.add_group_rule("roles", ui.GroupCondition.EQUALS(value="Viewer"), "Read only")
    config.add_group_rule("login", ui.GroupCondition.STARTS_WITH(prefix="a"), "A team")
    config.set_every_group_rule(True)
    with pytest.raises(ui.UserImportError.InvalidConfig):
        config.add_group_rule("login", ui.GroupCondition.MATCHES(pattern="(unclosed"), "Broken")
    plan = ui.Importer(config).plan_path(users_csv)
    assert plan.user(2).groups == ["A team"]
    assert plan.user(5).groups == ["Read only"]
    assert sorted(plan.groups_to_create()) == ["A team", "Read only"]


def test_logins_from_a_template_when_the_file_has_none():
    config = ui.ImportConfig()
    config.set_login_template("{first}.{last}")
    upload = "First Name,Last Name,Email\nÉlodie,Müller,em@example.com\nAda,Lovelace,ada@example.com\n"
    plan = ui.Importer(config).plan_bytes(upload.encode())
    assert [r.login for r in plan.rows(0, 10)] == ["elodie.muller", "ada.lovelace"]


def test_one_user_from_a_form_is_checked_like_a_row(importer):
    check = importer.check_user({"first_name": "Ada", "last_name": "L", "login": "ada",
                                 "email": "ada@", "roles": "Admin"})
    assert check.user is None
    assert [(i.code, i.row) for i in check.issues] == [("invalid_email", None)]
    ok = importer.check_user({"first_name": "Ada", "last_name": "L", "login": "ada",
                              "email": "ada@example.com", "roles": "admin"})
    assert ok.issues == [] and ok.user.roles == ["Admin"]
    with pytest.raises(ui.UserImportError.InvalidArgument):
        importer.check_user({"shoe_size": "38"})
    assert "email" in importer.fields()


def test_reports_as_json_csv_and_xlsx(importer, tmp_path):
    source = tmp_path / "upload.csv"
    source.write_text(
        "First Name,Last Name,Login Name,E-mail Address,Password,Roles\n"
        "Ada,Lovelace,ada,ada@example.com,Analytical#1,Admin\n"
        "Bob,Smith,bob,bob@,Secret#Pass99,=HYPERLINK(1)\n",
        encoding="utf-8",
    )
    report = importer.validate_path(str(source)).report()
    assert report.describe() == "2 rows: 1 valid, 1 invalid (1 invalid email, 1 unknown role)"
    assert report.summary().invalid == 1
    data = json.loads(report.to_json())
    assert set(data) == {"summary", "issues", "mapping", "custom_fields"}
    assert data["summary"]["rows"] == 2
    assert {i["code"] for i in data["issues"]} == {"invalid_email", "unknown_role"}
    assert report.mapping()[2] == ui.ReportColumn(column="Login Name", field="login")
    csv_text = report.to_csv()
    assert csv_text.splitlines()[0] == "row,column,field,code,severity,message,value"
    assert "'=HYPERLINK(1)" in csv_text  # neutralised for spreadsheet programs
    assert ui.neutralize("=1+1") == "'=1+1"

    report.write_json(str(tmp_path / "r.json"))
    report.write_csv(str(tmp_path / "r.csv"))
    report.write_xlsx(str(source), str(tmp_path / "r.xlsx"))
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["invalid"] == 1
    with zipfile.ZipFile(tmp_path / "r.xlsx") as xlsx:
        names = xlsx.namelist()
        assert "xl/workbook.xml" in names
        everything = b"".join(xlsx.read(n) for n in names)
    for written in (report.to_json().encode(), csv_text.encode(), everything):
        assert b"Secret#Pass99" not in written and b"Analytical#1" not in written
    with pytest.raises(ui.UserImportError.WriteFailed):
        report.write_json(str(tmp_path / "no" / "such" / "dir" / "r.json"))


def test_templates_from_a_configuration(tmp_path):
    importer = ui.Importer.from_path(str(EXAMPLES / "configs" / "portal.toml"))
    assert importer.csv_template().startswith("first name,last name,email,groups,mirror user,status\n")
    importer.write_csv_template(str(tmp_path / "t.csv"))
    importer.write_xlsx_template(str(tmp_path / "t.xlsx"))
    assert (tmp_path / "t.csv").read_text().startswith("first name,")
    with zipfile.ZipFile(tmp_path / "t.xlsx") as xlsx:
        assert "xl/workbook.xml" in xlsx.namelist()
    # The template itself imports without an error.
    validation = importer.validate_path(str(tmp_path / "t.xlsx"))
    assert validation.summary().errors == 0 and validation.summary().rows == 1
    with pytest.raises(ui.UserImportError.WriteFailed):
        importer.write_csv_template(str(tmp_path / "missing" / "t.csv"))


def test_issue_codes_are_the_stable_contract():
    codes = ui.issue_codes()
    for code in ["required_missing", "invalid_email", "unknown_role", "duplicate_in_file",
                 "exists_in_directory", "hierarchy_cycle", "unreadable", "wrong_format", "too_large"]:
        assert code in codes
