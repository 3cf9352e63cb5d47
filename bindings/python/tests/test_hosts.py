"""Host implementations from Python: a Directory and a UserStore in Python classes, the built-in
SQLite store, host rules, and exceptions raised inside callbacks arriving back as errors."""

from __future__ import annotations

import datetime
import inspect
import json

import pytest

import user_import as ui
from conftest import DATA, FAST_HASHING, USERS_TOML, DictDirectory, DictStore, user


def big_upload(rows: int) -> bytes:
    lines = ["First Name,Last Name,Login Name,E-mail Address,Roles"]
    lines += [f"F{i},L{i},user{i},user{i}@example.com,Viewer" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_python_directory_is_asked_in_batches(importer):
    existing = [user(f"user{i}", email=f"user{i}@example.com", roles=["Viewer"]) for i in range(0, 3000, 2)]
    directory = DictDirectory(existing)
    plan = importer.plan_bytes(big_upload(3000), directory)
    summary = plan.summary()
    assert (summary.create, summary.update + summary.unchanged) == (1500, 1500)
    # A few calls of up to a couple of thousand keys each, never one per row.
    assert 0 < len(directory.calls) <= 20
    assert max(size for _, size in directory.calls) >= 1000


def test_a_dry_run_lists_its_updates_without_paging_through_every_row(importer):
    existing = [user(f"user{i}", email=f"user{i}@example.com", roles=["Viewer"]) for i in range(0, 3000, 2)]
    plan = importer.plan_bytes(big_upload(3000), DictDirectory(existing))
    expected = [row for row in plan.rows(0, 5000) if row.action == ui.Action.UPDATE]
    assert len(expected) == plan.summary().update > 0
    assert plan.updates(0, 5000) == expected
    assert all(row.changes for row in expected)
    assert plan.updates(10, 3) == expected[10:13] and plan.updates(len(expected), 10) == []


def test_directory_users_arrive_typed_and_bad_ones_are_refused(importer, users_csv):
    boss = user("boss", email="boss@example.com", timezone="Europe/Paris", hq_role=ui.HqRole.ADMIN,
                products={"hire": ui.ProductAccess.ROLE(name="Recruiter")},
                custom={"start_date": ui.CustomValue.DATE(iso="2020-01-01")})
    grace = user("grace", first_name="Grace", last_name="Hopper", email="grace@example.com", roles=["Admin", "Editor"],
                 superior="boss", reference="10046", status=ui.Status.DISABLED)
    plan = importer.plan_path(users_csv, DictDirectory([boss, grace]))
    row = plan.rows(1, 1)[0]
    assert row.action == ui.Action.UPDATE
    assert {c.field for c in row.changes} >= {"superior", "custom:start_date"}

    class BadZone(DictDirectory):
        def find_by_logins(self, logins):
            return [user("ada", timezone="Mars/Olympus")]

    with pytest.raises(ui.UserImportError.Directory) as err:
        importer.validate_path(users_csv, BadZone())
    assert "'Mars/Olympus' is not an IANA time zone" in err.value.detail

    class PlainPassword(DictDirectory):
        def find_by_logins(self, logins):
            return [user("ada", password_hash="hunter2")]

    with pytest.raises(ui.UserImportError.Directory) as err:
        importer.validate_path(users_csv, PlainPassword())
    assert "not a password hash" in err.value.detail and "hunter2" not in err.value.detail


def test_directory_exceptions_arrive_as_errors(importer, users_csv):
    class Down(ui.Directory):
        def find_by_logins(self, logins):
            raise ui.HostError.Failed("LDAP is down")

        def find_by_emails(self, emails):
            return []

    with pytest.raises(ui.UserImportError.Directory) as err:
        importer.validate_path(users_csv, Down())
    assert "LDAP is down" in err.value.detail

    class Buggy(ui.Directory):
        def find_by_logins(self, logins):
            return {}["missing"]

        def find_by_emails(self, emails):
            return []

    with pytest.raises(ui.UserImportError.Directory) as err:
        importer.plan_path(users_csv, Buggy())
    assert "KeyError" in err.value.detail

    class WrongType(ui.Directory):
        def find_by_logins(self, logins):
            return ["not a user"]

        def find_by_emails(self, emails):
            return []

    with pytest.raises(ui.UserImportError.Directory):
        importer.validate_path(users_csv, WrongType())


def test_every_kind_of_value_crosses_packed(importer, users_csv):
    ada = user("ada", first_name='Ada "the" \\first\\', last_name="Lovelace\tÉ😀\u2028", email="ada@example.com",
               timezone="Europe/Paris", hq_role=ui.HqRole.ADMIN, roles=["Admin"], groups=["Sales", "Ops"],
               reference="10045", status=ui.Status.EXPIRED,
               products={"hire": ui.ProductAccess.ROLE(name="Recruiter"), "pay": ui.ProductAccess.GRANTED(),
                         "old": ui.ProductAccess.NO_ACCESS()},
               custom={"hired_on": ui.CustomValue.DATE(iso="2020-01-01"), "remote": ui.CustomValue.BOOLEAN(value=True),
                       "size": ui.CustomValue.NUMBER(value=4.5), "team": ui.CustomValue.TEXT(value="a\nb")})
    for directory in (DictDirectory([ada]), ui.memory_directory([ada])):
        plan = importer.plan_path(users_csv, directory)
        # The file names ada differently and has no status: the rest of what is stored stays.
        written = next(w.user for w in plan.writes(0, 10) if w.user.login == "ada")
        assert written.products == ada.products
        assert {name: written.custom.get(name) for name in ada.custom} == ada.custom  # the file adds start_date
        assert (written.timezone, written.hq_role, written.groups, written.reference, written.status) == (
            "Europe/Paris", ui.HqRole.ADMIN, ["Sales", "Ops"], "10045", ui.Status.EXPIRED)
        old = {c.field: c.old_value for c in plan.rows(0, 1)[0].changes}
        assert (old["first_name"], old["last_name"]) == ('Ada "the" \\first\\', "Lovelace\tÉ😀\u2028")
    # A built-in directory answers in the packed form too.
    packed = json.loads(ui.memory_directory([ada]).find_packed_by_logins("nobody\nADA"))
    assert len(packed) == 1 and packed[0]["login"] == "ada" and packed[0]["products"]["hire"] == {"ROLE": {"name": "Recruiter"}}


def test_packed_users_list_every_field_of_the_record_in_order():
    from user_import import _user_fields

    fields = [name for name in inspect.signature(ui.User.__init__).parameters if name != "self"]
    ada = user("ada", email="ada@example.com", roles=["Admin"], superior="boss", timezone="UTC", hq_role=ui.HqRole.BASIC,
               reference="1", groups=["g"], products={"p": ui.ProductAccess.GRANTED()},
               custom={"c": ui.CustomValue.TEXT(value="v")}, password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA")
    expected = tuple(ada.status.name if name == "status" else getattr(ada, name) for name in fields)
    assert _user_fields(ada) == expected


def test_a_directory_may_return_plain_dicts_from_any_iterable(importer, users_csv):
    class Plain(ui.Directory):
        def find_by_logins(self, logins):
            return ({"login": login, "status": "active", "email": "ada@example.com", "hq_role": ui.HqRole.BASIC,
                     "products": {"hire": ui.ProductAccess.ROLE(name="Recruiter")}} for login in logins if login == "ada")

        def find_by_emails(self, emails):
            return ()

    plan = importer.plan_path(users_csv, Plain())
    written = next(w.user for w in plan.writes(0, 10) if w.user.login == "ada")
    assert (written.hq_role, written.products) == (ui.HqRole.BASIC, {"hire": ui.ProductAccess.ROLE(name="Recruiter")})
    assert ui.memory_directory([{"login": "ada", "status": ui.Status.ACTIVE}]) is not None

    class Typo(Plain):
        def find_by_logins(self, logins):
            return [{"login": "ada", "status": "ACTIVE", "frist_name": "Ada"}]

    with pytest.raises(ui.UserImportError.Directory) as err:
        importer.validate_path(users_csv, Typo())
    assert "frist_name" in err.value.detail

    class NotAUser(Plain):
        def find_by_logins(self, logins):
            return [object()]

    with pytest.raises(ui.UserImportError.Directory) as err:
        importer.validate_path(users_csv, NotAUser())
    assert "TypeError" in err.value.detail and "User records or dicts" in err.value.detail
    with pytest.raises(ui.UserImportError.InvalidArgument):
        ui.memory_directory([{"login": "ada"}])  # no status


def test_apply_to_a_python_store_with_both_error_policies(importer):
    store = DictStore([user("boss", email="boss@example.com")])
    upload = (
        "First Name,Last Name,Login Name,E-mail Address,Password,Roles,Superior User\n"
        "Ada,Lovelace,ada,ada@example.com,Analytical#1,Admin,boss\n"
        "Grace,Hopper,grace,grace@example.com,,Editor,ada\n"
        "Bob,Smith,bob,bob@,Secret#Pass9,Viewer,\n"
        "Cy,Young,cy,cy@example.com,Secret#Pass8,Viewer,bob\n"
    ).encode()
    plan = importer.plan_bytes(upload, store)
    assert [r.action for r in plan.rows(0, 10)] == [ui.Action.CREATE, ui.Action.CREATE, ui.Action.FAIL, ui.Action.FAIL]

    refused = plan.apply(store, ui.ApplyOptions(policy=ui.ErrorPolicy.ALL_OR_NOTHING, password_hashing=FAST_HASHING))
    assert refused.refused() is not None and "all-or-nothing" in refused.refused()
    assert refused.summary().created == 0 and store.events == [] and set(store.users) == {"boss"}

    options = ui.ApplyOptions(policy=ui.ErrorPolicy.CONTINUE_AS_IS, file_name="upload.csv", comment="first batch",
                              password_hashing=FAST_HASHING)
    outcome = plan.apply(store, options)
    summary = outcome.summary()
    assert (summary.rows, summary.created, summary.failed) == (4, 2, 2)
    assert summary.created + summary.updated + summary.unchanged + summary.skipped + summary.failed == summary.rows
    assert outcome.refused() is None and outcome.invitations() == ["grace"]
    assert [(r.row, r.result) for r in outcome.rows(0, 10)] == [
        (2, ui.RowResult.CREATED), (3, ui.RowResult.CREATED), (4, ui.RowResult.FAILED), (5, ui.RowResult.FAILED)]
    assert store.events[0] == "begin" and store.events[-1] == "commit" and "rollback" not in store.events
    ada = store.users["ada"]
    assert ada.password_hash.startswith("$argon2id$") and ui.verify_password("Analytical#1", ada.password_hash)
    assert store.users["grace"].password_hash is None and store.users["grace"].status == ui.Status.PENDING
    assert [(e.file_name, e.comment, e.created, e.failed) for e in store.log] == [("upload.csv", "first batch", 2, 2)]
    assert isinstance(store.log[0].at, datetime.datetime) and store.log[0].at.tzinfo is not None
    assert outcome.report().summary().created == 2

    # Importing the same file again changes nothing, and writes nothing.
    store.events.clear()
    again = importer.plan_bytes(upload, store)
    assert again.summary().create == 0 and again.summary().unchanged == 2
    assert again.apply(store, options).summary().unchanged == 2
    assert store.events == []


def test_a_store_that_raises_rolls_back_and_the_error_arrives(importer, users_csv):
    store = DictStore(fail_on="create_users")
    plan = importer.plan_path(users_csv, store)
    with pytest.raises(ui.UserImportError.Store) as err:
        plan.apply(store, ui.ApplyOptions(policy=ui.ErrorPolicy.ALL_OR_NOTHING, password_hashing=FAST_HASHING))
    assert "the database refused create_users" in err.value.detail
    assert store.events == ["begin", "add_custom_fields", "create_users", "rollback"]
    assert store.users == {}

    class Crashing(DictStore):
        def commit(self):
            raise RuntimeError("disk full")

    crashing = Crashing()
    with pytest.raises(ui.UserImportError.Store) as err:
        importer.plan_path(users_csv, crashing).apply(
            crashing, ui.ApplyOptions(policy=ui.ErrorPolicy.CONTINUE_AS_IS, password_hashing=FAST_HASHING))
    assert "RuntimeError" in err.value.detail and "disk full" in err.value.detail


def test_a_plan_is_refused_when_the_store_changed_since(importer, users_csv):
    store = DictStore([user("ada", email="ada@example.com", roles=["Admin"])])
    plan = importer.plan_path(users_csv, store)
    store.users["grace"] = user("grace", email="grace@example.com")  # someone else was faster
    with pytest.raises(ui.UserImportError.StalePlan) as err:
        plan.apply(store, ui.ApplyOptions(policy=ui.ErrorPolicy.CONTINUE_AS_IS, password_hashing=FAST_HASHING))
    assert "make the plan again" in err.value.detail
    # Checked inside the transaction (another import may commit just before it): nothing written.
    assert store.events == ["begin", "rollback"]


def test_the_sqlite_store_by_path(importer, users_csv, tmp_path):
    path = str(tmp_path / "users.db")
    store = ui.SqliteStore.open(path)
    options = ui.ApplyOptions(policy=ui.ErrorPolicy.ALL_OR_NOTHING, comment="initial", password_hashing=FAST_HASHING)
    outcome = importer.plan_path(users_csv, store.as_directory()).apply_sqlite(store, options)
    assert outcome.summary().created == 5
    assert store.count() == 5
    stored = store.get("GRACE")
    assert stored.user.superior == "ada" and stored.version == 1
    assert ui.verify_password("Compiler#2", stored.user.password_hash)
    assert [u.login for u in store.list(0, 2)] == ["ada", "elodie"]
    assert [u.login for u in store.search("hopper")] == ["grace"]
    assert [f.name for f in store.custom_fields()] == ["start_date"]
    assert [(e.comment, e.created) for e in store.import_log()] == [("initial", 5)]
    assert store.deactivate("soren") and not store.deactivate("nobody")
    assert store.get("soren").user.status == ui.Status.DISABLED
    assert store.mark_invitation_resent("zoe")

    # Reopened by path: the same file again changes nothing (a deactivation is kept: the file
    # has no status column), a changed file updates, and a plan older than a write is refused.
    reopened = ui.SqliteStore.open(path)
    assert importer.plan_path(users_csv, reopened.as_directory()).summary().unchanged == 5
    changed = (DATA / "users.csv").read_bytes().replace(b"Hopper", b"Hopper-Murray")
    first = importer.plan_bytes(changed, reopened.as_directory())
    second = importer.plan_bytes(changed, reopened.as_directory())
    assert first.summary().update == 1
    assert first.apply_sqlite(reopened, options).summary().updated == 1
    assert reopened.get("grace").user.last_name == "Hopper-Murray" and reopened.get("grace").version == 2
    with pytest.raises(ui.UserImportError.StalePlan):
        second.apply_sqlite(reopened, options)
    with pytest.raises(ui.UserImportError.Store):
        ui.SqliteStore.open(str(tmp_path / "no" / "such" / "dir" / "users.db"))


def test_built_in_directories_from_users_and_from_an_export(importer, users_csv, tmp_path):
    export = tmp_path / "existing.csv"
    export.write_text("Login,E-mail,First Name,Last Name\nada,ada@example.com,Ada,Byron\n", encoding="utf-8")
    plan = importer.plan_path(users_csv, ui.directory_from_path(str(export)))
    assert plan.rows(0, 1)[0].action == ui.Action.UPDATE
    with pytest.raises(ui.UserImportError.InvalidArgument):
        ui.memory_directory([user("ada", timezone="Nowhere/Atlantis")])


def test_host_rules_add_issues_and_their_exceptions_arrive(users_csv):
    class HouseRules(ui.Rule):
        def check_row(self, record):
            if record.user.reference == "10049":
                return [ui.RuleIssue(code="custom:reserved_reference", message="10049 is reserved",
                                     severity=ui.Severity.ERROR, field="reference")]
            return []

        def check_table(self, records):
            admins = [r for r in records if "Admin" in r.user.roles]
            return [ui.RuleIssue(code="too_many_admins", message="at most 1 admin per file",
                                 severity=ui.Severity.WARNING, row=r.row, field="roles") for r in admins[1:]]

    importer = ui.Importer.from_toml(USERS_TOML).with_rule(HouseRules())
    validation = importer.validate_path(users_csv)
    issues = [(i.row, i.code, i.severity, i.column) for i in validation.issues(0, 10)]
    assert (6, "custom:reserved_reference", ui.Severity.ERROR, "Employee ID") in issues
    assert (3, "custom:too_many_admins", ui.Severity.WARNING, "Roles") in issues
    assert validation.summary().invalid == 1

    class Raising(ui.Rule):
        def check_row(self, record):
            raise ValueError("rule engine offline")

        def check_table(self, records):
            return []

    with pytest.raises(ui.UserImportError.Callback) as err:
        ui.Importer.from_toml(USERS_TOML).with_rule(Raising()).validate_path(users_csv)
    assert "rule engine offline" in err.value.detail


def test_a_check_reports_what_a_validation_reports_without_keeping_records(importer, users_csv):
    existing = [user("user4", email="user4@example.com"), user("owner", email="user7@example.com")]
    directory = DictDirectory(existing)
    upload = big_upload(3000) + b"Dup,Row,USER1,dup@example.com,Viewer\nBad,Mail,bad,bad@,Viewer\n"
    validated = importer.validate_bytes(upload, directory).report()
    checked = importer.check_bytes(upload, directory)
    assert checked.to_json() == validated.to_json()
    summary = checked.summary()
    assert (summary.rows, summary.valid, summary.invalid) == (3002, 2999, 3)
    codes = {i.code for i in checked.issues(0, 100)}
    assert {"duplicate_in_file", "exists_in_directory", "invalid_email"} <= codes
    assert directory.calls, "the directory was asked"
    assert importer.check_path(users_csv).to_json() == importer.validate_path(users_csv).report().to_json()
    token = ui.CancelToken()
    token.cancel()
    with pytest.raises(ui.UserImportError.Cancelled):
        importer.check_bytes(upload, cancel=token)
