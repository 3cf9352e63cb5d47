use super::*;
use crate::{Catalog, GroupRule, Importer, MemoryDirectory, Product, Role, Schema};

fn config() -> ImportConfig {
    let mut config = ImportConfig::default();
    config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login]).optional([
        Field::Email,
        Field::Password,
        Field::Roles,
        Field::Superior,
        Field::Groups,
        Field::Status,
    ]);
    config.catalog = Catalog::new()
        .roles(["Admin", "Editor", "Viewer"])
        .product(Product::new("hire", "Trakstar Hire", ["Interviewer", "Recruiter", "Admin"]))
        .product(Product::new("learn", "Learn", ["Learner"]).with_empty_access(crate::EmptyAccess::NoAccess));
    config
}

fn plan(config: ImportConfig, csv: &'static str, directory: &MemoryDirectory) -> Plan {
    Importer::new(config).plan_bytes(csv, directory).unwrap()
}

fn actions(plan: &Plan) -> Vec<(u64, Action)> {
    plan.rows().map(|r| (r.row, r.action)).collect()
}

#[test]
fn every_row_gets_exactly_one_action() {
    let csv = "First Name,Last Name,Login,Superior User\nA,A,a,b\nB,B,b,\nC,C,,\nD,D,d,c\nE,E,e,e\n";
    let p = plan(config(), csv, &MemoryDirectory::new());
    assert_eq!(
        actions(&p),
        [(2, Action::Create), (3, Action::Create), (4, Action::Fail), (5, Action::Fail), (6, Action::Fail)]
    );
    let s = p.summary();
    assert_eq!((s.rows, s.valid, s.invalid, s.create, s.fail), (5, 4, 1, 2, 3));
    assert_eq!(s.create + s.update + s.unchanged + s.skip + s.fail, s.rows);
    // Row 5's superior 'c' is row 4, which is invalid: not found would be wrong.
    let d = p.issues().iter().find(|i| i.row == Some(5)).unwrap();
    assert_eq!(d.code, IssueCode::SuperiorNotFound, "row 4 has no login at all: {d:?}");
    let e = p.issues().iter().find(|i| i.row == Some(6)).unwrap();
    assert_eq!(e.code, IssueCode::SelfReference);
    assert_eq!(e.column.as_deref(), Some("Superior User"));
    // Superiors come first.
    let writes: Vec<String> = p.writes().map(|(_, _, u)| u.login).collect();
    assert_eq!(writes, ["b", "a"]);
}

#[test]
fn a_superior_that_is_an_invalid_row_is_not_imported() {
    let csv = "First Name,Last Name,Login,Email,Superior User\nBoss,B,boss,bad@,\nAda,L,ada,,boss\nEve,E,eve,,ada\n";
    let p = plan(config(), csv, &MemoryDirectory::new());
    assert_eq!(actions(&p), [(2, Action::Fail), (3, Action::Fail), (4, Action::Fail)]);
    let codes: Vec<(Option<u64>, &IssueCode)> = p.issues().iter().map(|i| (i.row, &i.code)).collect();
    assert!(codes.contains(&(Some(3), &IssueCode::SuperiorNotImported)), "{codes:?}");
    assert!(codes.contains(&(Some(4), &IssueCode::SuperiorNotImported)), "{codes:?}");
    let eve = p.issues().iter().find(|i| i.row == Some(4) && i.code == IssueCode::SuperiorNotImported).unwrap();
    assert_eq!(eve.message, "the superior 'ada' (row 3) cannot be imported, so this user cannot be either");
    let rows: Vec<_> = p.rows().collect();
    assert_eq!((rows[0].login.as_deref(), rows[0].reason.as_deref()), (Some("boss"), Some("the row has errors")));
    assert!(rows[1].reason.as_deref().unwrap().contains("'boss' (row 2) cannot be imported"));
    assert!(rows[2].reason.as_deref().unwrap().contains("'ada' (row 3) cannot be imported"), "{:?}", rows[2]);
    // The issues say the same as the rows.
    let eve = p.issues().iter().find(|i| i.row == Some(4)).unwrap();
    assert_eq!(Some(eve.message.as_str()), rows[2].reason.as_deref());
}

#[test]
fn product_defaults_hq_independent_and_invitations() {
    let csv = "First Name,Last Name,Login,Password,Trakstar Hire\nA,A,a,Secret#123,Recruiter\nB,B,b,,\n";
    let p = plan(config(), csv, &MemoryDirectory::new());
    let a = p.user(2).unwrap();
    assert_eq!(a.products["hire"], ProductAccess::Role(Role::new("Recruiter")));
    assert_eq!(a.products["learn"], ProductAccess::None, "empty means no access for learn");
    assert_eq!(a.status, Status::Active);
    let b = p.user(3).unwrap();
    assert_eq!(b.products["hire"], ProductAccess::Role(Role::new("Interviewer")), "empty: the lowest role");
    assert_eq!(b.status, Status::Pending, "no password: invited");
    assert_eq!(p.invitations(), ["b"]);
    assert_eq!(p.summary().invitations, 1);
    assert!(p.rows().nth(1).unwrap().invitation);
}

#[test]
fn updates_show_a_diff_and_reimporting_is_unchanged() {
    let mut directory = MemoryDirectory::new();
    let mut ada = User::new("ada", "Ada", "Byron");
    ada.email = Some("ada@old.io".into());
    ada.roles = vec![Role::new("Viewer")];
    ada.products.insert("hire".into(), ProductAccess::Role(Role::new("Interviewer")));
    ada.products.insert("learn".into(), ProductAccess::None);
    directory.insert(ada);
    let csv = "First Name,Last Name,Login,Email,Roles\nAda,Lovelace,ada,ada@new.io,Admin\n";
    let p = plan(config(), csv, &directory);
    let row = p.rows().next().unwrap();
    assert_eq!(row.action, Action::Update);
    let fields: Vec<(&str, &str, &str)> =
        row.changes.iter().map(|c| (c.field.as_str(), c.old.as_str(), c.new.as_str())).collect();
    assert_eq!(
        fields,
        [("last_name", "Byron", "Lovelace"), ("email", "ada@old.io", "ada@new.io"), ("roles", "Viewer", "Admin")]
    );
    // Apply the update to the directory by hand: the same file is then unchanged.
    let updated = p.user(2).unwrap();
    directory.insert(updated);
    let again = plan(config(), csv, &directory);
    assert_eq!(actions(&again), [(2, Action::Unchanged)]);
}

#[test]
fn fill_empty_keeps_stored_values() {
    let mut directory = MemoryDirectory::new();
    let mut ada = User::new("ada", "Ada", "Byron");
    ada.email = None;
    directory.insert(ada);
    let mut config = config();
    config.options.merge = MergePolicy::FillEmpty;
    let p = plan(config, "First Name,Last Name,Login,Email\nAda,Lovelace,ada,ada@x.io\n", &directory);
    let fields: Vec<String> = p.rows().next().unwrap().changes.iter().map(|c| c.field.clone()).collect();
    assert_eq!(fields, ["email"], "the last name is not empty in the store: kept");
}

#[test]
fn modes() {
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("old", "O", "O"));
    directory.insert(User::new("kid", "K", "K"));
    let csv = "First Name,Last Name,Login,Superior User\nO,O,old,\nN,N,new,\nK,K,kid,new\n";
    let mut update_only = config();
    update_only.options.mode = Mode::UpdateOnly;
    let p = plan(update_only, csv, &directory);
    assert_eq!(actions(&p), [(2, Action::Unchanged), (3, Action::Skip), (4, Action::Skip)]);
    let kid = p.rows().nth(2).unwrap();
    assert!(kid.reason.unwrap().contains("superior 'new' (row 3) is not imported"), "skip cascades");
    let issue = p.issues().iter().find(|i| i.row == Some(4)).unwrap();
    assert_eq!(
        (&issue.code, issue.field.as_deref(), issue.value.as_deref()),
        (&IssueCode::SuperiorNotImported, Some("superior"), Some("new"))
    );
    assert!(issue.message.contains("superior 'new' (row 3) is not imported"), "{issue}");
    let mut create_only = config();
    create_only.options.mode = Mode::CreateOnly;
    let p = plan(create_only, csv, &directory);
    assert_eq!(actions(&p), [(2, Action::Fail), (3, Action::Create), (4, Action::Fail)]);
}

#[test]
fn group_rules_first_or_every_match_and_mirror_users() {
    let mut directory = MemoryDirectory::new();
    let mut model = User::new("model", "M", "M");
    model.roles = vec![Role::new("Editor")];
    model.groups = vec!["Editors".into()];
    model.products.insert("hire".into(), ProductAccess::Role(Role::new("Admin")));
    directory.insert(model);
    let mut config = config();
    config.schema = config.schema.optional([Field::Mirror]);
    config.options.group_rules = vec![
        GroupRule {
            field: Target::Field(Field::Email),
            when: Condition::Matches(".*@sales\\.io".into()),
            group: "Sales".into(),
        },
        GroupRule {
            field: Target::Field(Field::LastName),
            when: Condition::StartsWith("Lo".into()),
            group: "L-team".into(),
        },
    ];
    let csv =
        "First Name,Last Name,Login,Email,Mirror User\nAda,Lovelace,ada,ada@sales.io,model\nBob,Low,bob,bob@x.io,\n";
    let p = plan(config.clone(), csv, &directory);
    let ada = p.user(2).unwrap();
    assert_eq!(ada.groups, ["Sales", "Editors"], "first match, then the mirror's groups");
    assert_eq!(ada.roles, [Role::new("Editor")], "roles from the mirror");
    assert_eq!(ada.products["hire"], ProductAccess::Role(Role::new("Admin")));
    assert_eq!(p.user(3).unwrap().groups, ["L-team"]);
    config.options.group_rule_match = RuleMatch::Every;
    let p = plan(config, csv, &directory);
    assert_eq!(p.user(2).unwrap().groups, ["Sales", "L-team", "Editors"]);
}

#[test]
fn logins_from_a_template_are_unique() {
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("ada.lovelace", "Ada", "Lovelace"));
    let mut config = ImportConfig::default();
    config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Email]);
    config.options.login_template = Some("{first}.{last}".into());
    let csv = "First Name,Last Name,Email\nAda,Lovelace,a1@x.io\nÉlodie,Müller-Weiß,e@x.io\nAda,Lovelace,a2@x.io\n";
    let p = plan(config, csv, &directory);
    let logins: Vec<String> = p.rows().map(|r| r.login.unwrap()).collect();
    assert_eq!(logins, ["ada.lovelace2", "elodie.muller-wei", "ada.lovelace3"]);
}

#[test]
fn login_templates_are_checked() {
    assert!(check_login_template("{first}.{last}").is_ok());
    assert!(check_login_template("{first}.{surname}").unwrap_err().contains("unknown placeholder {surname}"));
    assert!(check_login_template("admin").is_err());
    assert!(ImportConfig::from_toml_str("[options]\nlogin_template = \"{nope}\"").is_err());
}

#[test]
fn a_plan_knows_the_directory_state_it_was_made_against() {
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("ada", "Ada", "L"));
    let csv = "First Name,Last Name,Login\nAda,Lovelace,ada\n";
    let p = plan(config(), csv, &directory);
    let refs: Vec<&str> = p.fingerprint_logins();
    assert_eq!(directory.fingerprint(&refs).unwrap(), p.fingerprint());
    directory.insert(User::new("ada", "Ada", "Changed"));
    assert_ne!(directory.fingerprint(&refs).unwrap(), p.fingerprint());
}

#[test]
fn the_fingerprint_covers_the_configured_mirror_user_even_when_missing() {
    let mut directory = MemoryDirectory::new();
    let mut config = config();
    config.options.mirror_user = Some("template.user".into());
    let p = plan(config, "First Name,Last Name,Login\nAda,Lovelace,ada\n", &directory);
    assert!(p.issues().iter().any(|i| i.message.contains("'template.user'")), "{:?}", p.issues());
    assert!(p.fingerprint_logins().contains(&"template.user"));
    let refs = p.fingerprint_logins();
    assert_eq!(directory.fingerprint(&refs).unwrap(), p.fingerprint());
    directory.insert(User::new("template.user", "Template", "User"));
    assert_ne!(directory.fingerprint(&refs).unwrap(), p.fingerprint(), "creating the mirror user is a change");
}

/// A directory that notes what the plan stage asks of it, in order.
struct Recorder {
    inner: MemoryDirectory,
    calls: std::cell::RefCell<Vec<&'static str>>,
}

impl Directory for Recorder {
    fn find_by_logins(&self, logins: &[&str]) -> crate::Result<Vec<User>> {
        self.calls.borrow_mut().push("find_by_logins");
        self.inner.find_by_logins(logins)
    }
    fn find_by_emails(&self, emails: &[&str]) -> crate::Result<Vec<User>> {
        self.calls.borrow_mut().push("find_by_emails");
        self.inner.find_by_emails(emails)
    }
    fn fingerprint(&self, logins: &[&str]) -> crate::Result<u64> {
        self.calls.borrow_mut().push("fingerprint");
        self.inner.fingerprint(logins)
    }
}

/// The plan takes the directory's fingerprint before it reads anything from it: a change made
/// while it reads makes the plan stale instead of being overwritten by it.
#[test]
fn the_fingerprint_is_taken_before_the_plan_reads_the_directory() {
    let mut inner = MemoryDirectory::new();
    inner.insert(User::new("boss", "Boss", "B"));
    inner.insert(User::new("ada", "Ada", "Byron"));
    let directory = Recorder { inner, calls: std::cell::RefCell::new(Vec::new()) };
    let csv = "First Name,Last Name,Login,Superior User\nAda,Lovelace,ada,boss\nBob,B,bob,outside\n";
    let importer = Importer::new(config());
    let validation = importer.validate_bytes(csv, &directory).unwrap();
    directory.calls.borrow_mut().clear();
    let p = Plan::new(validation, importer.config(), &directory).unwrap();
    let calls = directory.calls.borrow();
    assert_eq!(calls.first(), Some(&"fingerprint"), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| **c == "fingerprint").count(), 1, "{calls:?}");
    assert!(calls.contains(&"find_by_logins"), "the plan read the directory: {calls:?}");
    assert_eq!(actions(&p), [(2, Action::Update), (3, Action::Fail)]);
}

#[test]
fn a_skip_cascades_down_a_long_chain_in_one_pass() {
    // 20,000 existing users in one chain under a new user: update-only skips the new user, and
    // with it the whole chain (the cascade is settled in hierarchy order, not by repeated scans).
    let depth = 20_000;
    let mut directory = MemoryDirectory::new();
    let mut csv = String::from("First Name,Last Name,Login,Superior User\nTop,T,top,\n");
    for i in 0..depth {
        directory.insert(User::new(format!("u{i}"), "U", "U"));
        let superior = if i == 0 { "top".to_string() } else { format!("u{}", i - 1) };
        csv.push_str(&format!("U,Changed,u{i},{superior}\n"));
    }
    let mut update_only = config();
    update_only.options.mode = Mode::UpdateOnly;
    let p = Importer::new(update_only).plan_bytes(csv, &directory).unwrap();
    let s = p.summary();
    assert_eq!((s.skip, s.update, s.unchanged), (depth + 1, 0, 0));
    let last = p.rows().last().unwrap();
    assert!(last.reason.unwrap().contains(&format!("'u{}'", depth - 2)));
    assert_eq!(p.writes().count(), 0);
    let cascaded = p.issues().iter().filter(|i| i.code == IssueCode::SuperiorNotImported).count();
    assert_eq!(cascaded as u64, depth);
}

#[test]
fn matches_conditions_are_compiled_once_and_anchored_to_the_whole_value() {
    let condition = Condition::Matches("sales|ops".into());
    let pattern = condition.regex().and_then(Result::ok);
    assert!(pattern.is_some());
    let matches = |value: Option<&str>| rule_matches(&condition, pattern.as_ref(), value);
    assert!(matches(Some("sales")) && matches(Some("ops")));
    assert!(!matches(Some("salesforce")) && !matches(Some("devops")), "the whole value, both branches");
    assert!(!matches(None));
    assert!(Condition::Present.regex().is_none());
    assert!(rule_matches(&Condition::Present, None, Some("x")));
}

#[test]
fn blocked_users_issues_are_written_when_asked_for_in_report_order() {
    // Two bad superiors (an invalid row and a row that fails its hierarchy), each over several
    // users, one of whom has a warning of its own; one subordinate writes its superior
    // differently. Every way of reading the issues gives the same list, in report order.
    let csv = "First Name,Last Name,Login,Email,Superior User,Groups\n\
               Boss,B,boss,bad@,,\n\
               Ada,A,ada,,boss,\n\
               Cy,C,cy,,ada,Sales\n\
               Loop,L,loop,,loop,\n\
               Di,D,di,,ada,\n\
               Ed,E,ed,,LOOP ,\n\
               Fay,F,fay,,loop,\n";
    let mut config = config();
    config.catalog = config.catalog.groups(["Support"]);
    config.options.create_missing_groups = true;
    let p = plan(config.clone(), csv, &MemoryDirectory::new());
    assert_eq!(p.issue_count(), p.issues().len(), "counted before and after they are written");
    let blocked: Vec<(u64, &str, Option<&str>)> = p
        .issues()
        .iter()
        .filter(|i| i.code == IssueCode::SuperiorNotImported)
        .map(|i| (i.row.unwrap(), i.message.as_str(), i.value.as_deref()))
        .collect();
    let ada = "the superior 'ada' (row 3) cannot be imported, so this user cannot be either";
    let lp = "the superior 'loop' (row 5) cannot be imported, so this user cannot be either";
    assert_eq!(
        blocked,
        [
            (3, "the superior 'boss' (row 2) cannot be imported, so this user cannot be either", Some("boss")),
            (4, ada, Some("ada")),
            (6, ada, Some("ada")),
            (7, lp, Some("LOOP")),
            (8, lp, Some("loop")),
        ]
    );
    assert!(p
        .issues()
        .iter()
        .filter(|i| i.code == IssueCode::SuperiorNotImported)
        .all(|i| i.column.as_deref() == Some("Superior User")
            && i.field.as_deref() == Some("superior")
            && i.is_error()));
    let order: Vec<(u64, usize)> = p.issues().iter().map(issue_order).collect();
    assert!(order.windows(2).all(|pair| pair[0] <= pair[1]), "{order:?}");
    // Row 4's warning on its groups comes after the issue of its superior's cell.
    let row4: Vec<&IssueCode> = p.issues().iter().filter(|i| i.row == Some(4)).map(|i| &i.code).collect();
    assert_eq!(row4, [&IssueCode::SuperiorNotImported, &IssueCode::UnknownGroup]);

    let fresh = plan(config, csv, &MemoryDirectory::new());
    // One sentence for the users of one superior who write it alike.
    let blocked = fresh.blocked_issues();
    let texts: Vec<&str> = (0..4).filter_map(|k| blocked.text(k)).map(|(_, value)| value).collect();
    assert_eq!(texts, ["boss", "ada", "LOOP", "loop"]);
    assert!(blocked.text(4).is_none());
    let first = blocked.text(0).and_then(|(superior, _)| superior);
    assert_eq!(first, Some(BlockingSuperior { login: "boss", row: 2, fails: true }));
    assert_eq!(fresh.collect_issues(), p.issues(), "a copy, whether written before or not");
    assert_eq!(fresh.clone().into_issues(), p.issues(), "written once the records are gone");
    assert_eq!(p.clone().into_issues(), p.issues(), "taken when already written");
    assert!(fresh.all_issues.get().is_none(), "a copy keeps nothing in the plan");
}

#[test]
fn users_skipped_under_a_skipped_superior_get_their_issue_too() {
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("ada", "Ada", "A"));
    let csv = "First Name,Last Name,Login,Superior User\nNew,N,new,\nAda,Changed,ada,new\n";
    let mut update_only = config();
    update_only.options.mode = Mode::UpdateOnly;
    let p = Importer::new(update_only).plan_bytes(csv, &directory).unwrap();
    assert_eq!(actions(&p), [(2, Action::Skip), (3, Action::Skip)]);
    assert_eq!(p.issue_count(), 1);
    let issue = &p.issues()[0];
    assert_eq!((issue.row, &issue.code), (Some(3), &IssueCode::SuperiorNotImported));
    assert_eq!(issue.message, "the superior 'new' (row 2) is not imported, so this user cannot be either");
    // Ada's last name differs, but she is skipped: not an update to show.
    assert_eq!(p.updates().count(), 0);
}

#[test]
fn updates_are_the_rows_that_update_in_file_order() {
    let mut directory = MemoryDirectory::new();
    for login in ["cy", "ada", "bob"] {
        directory.insert(User::new(login, "Same", "Same"));
    }
    let csv = "First Name,Last Name,Login\nNew,N,new\nSame,Changed,cy\nSame,Same,bob\nAda,Changed,ada\n";
    let p = plan(config(), csv, &directory);
    assert!(p.updated.get().is_none(), "sorted when first asked for");
    let updates: Vec<(u64, Option<String>, Vec<String>)> =
        p.updates().map(|r| (r.row, r.login, r.changes.into_iter().map(|c| c.field).collect())).collect();
    assert_eq!(
        updates,
        [
            (3, Some("cy".into()), vec!["last_name".to_string()]),
            (5, Some("ada".into()), vec!["first_name".to_string(), "last_name".to_string()])
        ]
    );
    let from_rows: Vec<PlannedRow> = p.rows().filter(|r| r.action == Action::Update).collect();
    assert_eq!(p.updates().collect::<Vec<_>>(), from_rows);
    // Pages (skip builds none of the rows it passes over), as the bindings read them; the
    // updated records are sorted once.
    assert_eq!(p.updated.get().map(Vec::len), Some(2));
    assert_eq!(p.updates().len(), 2);
    for skip in 0..=3 {
        let page: Vec<PlannedRow> = p.updates().skip(skip).take(1).collect();
        assert_eq!(page, from_rows.iter().skip(skip).take(1).cloned().collect::<Vec<_>>(), "skip {skip}");
        assert_eq!(p.updates().nth(skip), from_rows.get(skip).cloned());
    }
}

#[test]
fn blocked_texts_are_kept_across_pages() {
    let mut blocked = BlockedIssues::default();
    let long = "x".repeat(BlockedIssues::PAGE + 10);
    let texts: Vec<(String, String)> = (0..3_000)
        .map(|k| (format!("boss{k}"), if k == 1_500 { long.clone() } else { format!("Boss{k} ") }))
        .chain([(String::new(), String::new())])
        .collect();
    // Every third superior is skipped, every seventh has none to name.
    fn superior(k: usize, login: &str) -> Option<BlockingSuperior<'_>> {
        Some(BlockingSuperior { login, row: k as u64 + 2, fails: !k.is_multiple_of(3) })
            .filter(|_| !k.is_multiple_of(7))
    }
    for (k, (login, value)) in texts.iter().enumerate() {
        assert_eq!(blocked.add_text(superior(k, login), value), k as u32);
    }
    assert!(blocked.pages.len() > 2, "{} pages", blocked.pages.len());
    for (k, (login, value)) in texts.iter().enumerate() {
        assert_eq!(blocked.text(k as u32), Some((superior(k, login), value.as_str())), "text {k}");
    }
    assert_eq!(blocked.text(texts.len() as u32), None);
}

#[test]
fn merged_issues_keep_report_order_as_a_stable_sort_would() {
    let columns = FieldColumns(vec![("superior".to_string(), Arc::from("Superior User"), 3)]);
    let own_at = |row: Option<u64>, column: usize| {
        let mut issue = Issue::error(IssueCode::InvalidEmail, format!("own {row:?} {column}"));
        issue.row = row;
        issue.column_index = Some(column);
        issue
    };
    let blocked_at = |rows: &[u32]| {
        let mut blocked = BlockedIssues::default();
        for &row in rows {
            let superior = BlockingSuperior { login: "boss", row: u64::from(row) + 100, fails: true };
            let text = blocked.add_text(Some(superior), "Boss");
            blocked.rows.push((row, text));
        }
        blocked
    };
    // File-level first; a tie (row 5, the superior's column) keeps the own issue first; own
    // issues before, between and after the blocked ones.
    let own = vec![own_at(None, 0), own_at(Some(5), 1), own_at(Some(5), 3), own_at(Some(5), 7), own_at(Some(9), 0)];
    let cases = [
        (own.clone(), vec![2, 5, 7]),
        (own.clone(), vec![]),
        (own.clone(), vec![4]),
        (vec![], vec![2, 5, 7]),
        (own.clone(), vec![10, 11]),
        (own.clone(), vec![0, 1]),
        (own.clone(), vec![1, 4, 5, 6, 9, 12]),
        (own, vec![5, 9]),
    ];
    for (own, rows) in cases {
        let merged = merge_issues(own.clone(), blocked_at(&rows), &columns);
        let mut expected = own;
        expected.extend(blocked_at(&rows).rows.iter().map(|&(row, _)| {
            let sentence =
                format!("the superior 'boss' (row {}) cannot be imported, so this user cannot be either", row + 100);
            let mut issue = Issue::error(IssueCode::SuperiorNotImported, sentence)
                .for_field(Field::Superior.key())
                .with_value("Boss");
            issue.row = Some(u64::from(row));
            columns.fill(&mut issue);
            issue
        }));
        expected.sort_by_key(issue_order);
        assert_eq!(merged, expected, "blocked rows {rows:?}");
    }
}

/// Rows read whole, and skipped to any place (as a page does, with `nth` finding how many of the
/// rows skipped are records by a binary search): the same rows.
#[test]
fn rows_skip_to_any_place_as_if_read_one_by_one() {
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("u8", "Same", "Old"));
    let mut csv = String::from("First Name,Last Name,Login,Email,Superior User\n");
    for k in 0..60 {
        // Runs of rows with errors (bad emails), superiors that fail (and so block their
        // subordinates), an update, and plain creates.
        let email =
            if k % 7 == 3 || k % 7 == 4 || k % 11 == 0 { "bad@".to_string() } else { format!("u{k}@example.com") };
        let superior = if k > 0 && k % 5 == 0 { format!("u{}", k - 2) } else { String::new() };
        csv.push_str(&format!("Same,New,u{k},{email},{superior}\n"));
    }
    let p = Importer::new(config()).plan_bytes(csv.into_bytes(), &directory).unwrap();
    let all: Vec<PlannedRow> = p.rows().collect();
    assert_eq!(all.len(), 60);
    assert!(all.iter().any(|r| r.action == Action::Fail && r.reason.as_deref() == Some("the row has errors")));
    assert!(all.iter().any(|r| r.action == Action::Update));
    assert!(all.iter().any(|r| r.reason.as_deref().is_some_and(|reason| reason.contains("cannot be imported"))));
    for skip in 0..=62 {
        let skipped: Vec<PlannedRow> = p.rows().skip(skip).collect();
        assert_eq!(skipped, all.get(skip..).unwrap_or_default(), "skip {skip}");
        assert_eq!(p.rows().nth(skip), all.get(skip).cloned(), "nth {skip}");
        // Skipping twice from a place already reached.
        let mut rows = p.rows();
        let _ = rows.nth(skip / 2);
        assert_eq!(rows.nth(skip - skip / 2), all.get(skip + 1).cloned(), "nth {} then {}", skip / 2, skip - skip / 2);
    }
}
