use super::*;
use crate::User;
use crate::{Catalog, CustomField, CustomKind, Importer, MemoryDirectory, Product, Schema};

fn config() -> ImportConfig {
    let mut config = ImportConfig::default();
    config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login]).optional([
        Field::Email,
        Field::Password,
        Field::Roles,
        Field::Superior,
        Field::Timezone,
        Field::Status,
    ]);
    config.catalog = Catalog::new().roles(["Admin", "Editor", "Viewer"]);
    config
}

fn run(config: ImportConfig, csv: &'static str) -> Validation {
    Importer::new(config).validate_bytes(csv, &MemoryDirectory::new()).unwrap()
}

/// (row, column, code) of every issue.
fn found(v: &Validation) -> Vec<(Option<u64>, Option<String>, String)> {
    v.issues().iter().map(|i| (i.row, i.column.as_deref().map(str::to_string), i.code.to_string())).collect()
}

fn has(v: &Validation, row: u64, column: &str, code: &str) -> bool {
    found(v).contains(&(Some(row), Some(column.to_string()), code.to_string()))
}

#[test]
fn a_clean_row_becomes_a_typed_record() {
    let v = run(
        config(),
        "First Name,Last Name,Login,Email,Roles,Time Zone,Status\n\u{A0}Ada  Mary ,Lovelace,ada,Ada@Example.COM,admin; viewer,europe/paris,Invited\n",
    );
    assert!(v.issues().is_empty(), "{:?}", v.issues());
    let r = &v.records()[0];
    assert_eq!((r.first_name(), r.last_name(), r.login()), ("Ada Mary", "Lovelace", "ada"));
    assert_eq!(r.email(), Some("Ada@example.com"));
    let roles: Vec<&str> = r.roles().iter().map(Role::name).collect();
    assert_eq!(roles, ["Admin", "Viewer"]);
    assert_eq!(r.timezone(), Some(chrono_tz::Europe::Paris));
    assert_eq!(r.status(), Some(Status::Pending));
    assert_eq!(r.row(), 2);
}

/// The cells `check_cached` checks (emails, roles, time zones, statuses, custom values): each
/// gets its expected outcome — its record, or its issue — the first time and again when seen
/// later (what the caches remember is what the first check found), and `check_cell` checks them
/// alike (it hands them over).
#[test]
fn cached_cells_are_checked_alike_when_seen_again() {
    use IssueCode::{InvalidEmail, InvalidTimezone, InvalidValue, UnknownRole};
    let mut config = config();
    config.schema = config.schema.custom(CustomField::new("start", CustomKind::Date));
    config.catalog.statuses = vec![Status::Active, Status::Pending];
    let importer = Importer::new(config);
    let csv =
        "Login,Roles,Time Zone,Status,Email,Start,First Name\nada,Admin,UTC,active,ada@example.com,2024-01-15,Ada\n";
    let table = importer.source_builder().from_bytes(csv).unwrap();
    let mapping = importer.map(&table).unwrap();
    let mut validator = importer.validator(&table, mapping);
    type Cells<'a> = &'a [(&'a str, Option<IssueCode>)];
    let cells: [(&str, Cells); 5] = [
        (
            "Roles",
            &[
                ("Admin", None),
                ("admin; viewer", None),
                ("Editor|Viewer", None),
                ("Superuser", Some(UnknownRole)),
                ("Admin,Boss", Some(UnknownRole)),
            ],
        ),
        (
            "Time Zone",
            &[
                ("Europe/Paris", None),
                ("europe/paris", None),
                ("UTC", None),
                ("Mars/Olympus", Some(InvalidTimezone)),
                ("Europe/Pari", Some(InvalidTimezone)),
            ],
        ),
        (
            "Status",
            &[
                ("active", None),
                ("Invited", None),
                ("expired", Some(InvalidValue)),
                ("blocked", Some(InvalidValue)),
                ("bogus", Some(InvalidValue)),
            ],
        ),
        (
            "Email",
            &[
                ("ada@example.com", None),
                ("Ada@Example.COM", None),
                ("élodie@example.com", None),
                ("bob@", Some(InvalidEmail)),
                ("x@bücher.de", None),
                ("a b@c.d", Some(InvalidEmail)),
            ],
        ),
        (
            "Start",
            &[
                ("2024-01-15", None),
                ("2024-02-30", Some(InvalidValue)),
                ("15/01/2024", Some(InvalidValue)),
                ("2024-01-15T08:00:00", None),
            ],
        ),
    ];
    let record = |builder: &mut RecordBuilder, names: &Arc<[Arc<str>]>, empty: &Arc<RoleSet>| {
        let mut pager = Pager::new(names);
        builder.set(Text::Login, "ada");
        let pending = builder.write(2, &mut pager, empty);
        pending.seal(&pager.seal())
    };
    let (names, empty) = (validator.names.clone(), validator.caches.role_sets.empty.clone());
    for (header, values) in cells {
        let column = validator.columns.iter().find(|c| &*c.header == header).unwrap().clone();
        let mut first = Vec::new();
        // Twice: the caches learn from the first pass.
        for pass in 0..2 {
            for (i, (value, expected)) in values.iter().enumerate() {
                let (value, expected) = (*value, expected.clone());
                let (mut cached, mut full) = (RecordBuilder::default(), RecordBuilder::default());
                let mut issues = Vec::new();
                let taken =
                    validator.caches.check_cached(&validator.config, 2, &column, value, &mut cached, &mut issues);
                assert!(taken, "{header} '{value}'");
                let issue =
                    Validator::check_cell(&validator.config, &mut validator.caches, 2, &column, value, &mut full);
                assert_eq!(issues.len(), usize::from(expected.is_some()), "{header} '{value}': {issues:?}");
                assert_eq!(issues.last(), issue.as_ref(), "{header} '{value}'");
                assert_eq!(issue.as_ref().map(|i| i.code.clone()), expected, "{header} '{value}'");
                let outcome = (issue, record(&mut cached, &names, &empty));
                assert_eq!(outcome.1, record(&mut full, &names, &empty), "{header} '{value}'");
                if pass == 0 {
                    first.push(outcome);
                } else {
                    assert_eq!(outcome, first[i], "{header} '{value}' seen again");
                }
            }
        }
    }
    // Refused role and time-zone cells are remembered with their reason, like the valid ones.
    let caches = &validator.caches;
    assert!(matches!(caches.role_cells.get("Superuser"), Some(Err(m)) if m.starts_with("unknown role 'Superuser'")));
    assert!(matches!(caches.role_cells.get("admin; viewer"), Some(Ok(set)) if set.0.len() == 2));
    assert!(matches!(caches.timezones.get("Mars/Olympus"), Some(Err(_))));
    // Other kinds are left to `check_cell`.
    let column = validator.columns.iter().find(|c| &*c.header == "First Name").unwrap().clone();
    let mut issues = Vec::new();
    let taken =
        validator.caches.check_cached(&validator.config, 2, &column, "Ada", &mut RecordBuilder::default(), &mut issues);
    assert!(!taken && issues.is_empty());
}

#[test]
fn a_memo_finds_what_it_was_given_and_nothing_else() {
    // Lengths around each way of taking the prints (3, 4, 7, 8, 16, 17 bytes), and texts that
    // differ only in their middle, where longer prints do not look.
    let texts = [
        "",
        "a",
        "UTC",
        "Utc",
        "Asia",
        "Asia/",
        "Editor;",
        "Europe/P",
        "Europe/L",
        "America/New_York",
        "America/New_Yorc",
        "Australia/Sydney",
        "Europe/xxxxxx/Paris",
        "Europe/yyyyyy/Paris",
        "é",
        "éa",
    ];
    let mut memo = Memo::default();
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(memo.get(text), None, "{text}");
        memo.insert(text, i);
    }
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(memo.get(text), Some(&i), "{text}");
    }
    for unseen in ["UTc", "Asie", "Europe/M", "America/New_Yor", "Europe/zzzzzz/Paris", "Australia/Sydne"] {
        assert_eq!(memo.get(unseen), None, "{unseen}");
    }
    // Past the first few, a map.
    for i in 0..40 {
        memo.insert(&format!("zone {i}"), 100 + i);
    }
    assert_eq!(memo.get("zone 39"), Some(&139));
    assert_eq!(memo.get("UTC"), Some(&2));
}

proptest::proptest! {
    /// Two texts have the same prints when they are equal, and only then when they are short
    /// enough for the prints to cover them.
    #[test]
    fn prints_tell_short_texts_apart(a in "[ab/é]{0,20}", b in "[ab/é]{0,20}") {
        let (pa, pb) = (Prints::of(&a), Prints::of(&b));
        if a == b {
            proptest::prop_assert_eq!(pa, pb);
        } else if pa.whole() || pb.whole() {
            proptest::prop_assert_ne!(pa, pb);
        }
    }
}

#[test]
fn required_cells_and_required_columns() {
    let v = run(config(), "First Name,Last Name,Login\nAda,,ada\n");
    assert!(has(&v, 2, "Last Name", "required_missing"));
    assert_eq!(v.invalid_rows(), [2]);
    let v = run(config(), "First Name,Login\nAda,ada\n");
    assert!(!v.can_import());
    assert_eq!(v.issues()[0].row, None);
    assert_eq!(v.issues()[0].code, IssueCode::RequiredMissing);
}

#[test]
fn emails_logins_and_names() {
    let v = run(
        config(),
        "First Name,Last Name,Login,Email\nA,B,ok,bob@\nC,D,has space,c@example.com\nE,F,ü.ser,ü@bücher.de\nG,H,g,g@bücher.de\n",
    );
    assert!(has(&v, 2, "Email", "invalid_email"));
    let message = &v.issues_for_row(2)[0].message;
    assert_eq!(message, "'bob@' is not an email address");
    assert!(has(&v, 3, "Login", "invalid_value"));
    assert!(v.issues_for_row(4).is_empty(), "an internationalised address is accepted: {:?}", v.issues_for_row(4));
    assert!(v.issues_for_row(5).is_empty(), "an internationalised domain is accepted");
}

#[test]
fn unknown_roles_get_a_suggestion() {
    let v = run(config(), "First Name,Last Name,Login,Roles\nAda,L,ada,Admn\nBob,B,bob,Owner|Viewer\n");
    let issue = &v.issues_for_row(2)[0];
    assert_eq!(issue.code, IssueCode::UnknownRole);
    assert!(issue.message.starts_with("unknown role 'Admn' — did you mean 'Admin'?"), "{}", issue.message);
    assert_eq!(issue.value.as_deref(), Some("Admn"));
    assert!(v.issues_for_row(3)[0].message.starts_with("unknown role 'Owner';"));
}

#[test]
fn timezones_statuses_and_superiors() {
    let v = run(
        config(),
        "First Name,Last Name,Login,Time Zone,Status,Superior User\nA,B,a,Mars/Olympus,active,\nC,D,c,UTC,gone,\nE,F,e,,,Ada Lovelace\n",
    );
    assert!(has(&v, 2, "Time Zone", "invalid_timezone"));
    assert!(has(&v, 3, "Status", "invalid_value"));
    let superior = &v.issues_for_row(4)[0];
    assert!(superior.message.contains("looks like a name; give the superior's login name"), "{}", superior.message);
}

#[test]
fn legacy_statuses_only_for_existing_users() {
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("old", "Old", "User"));
    let importer = Importer::new(config());
    let csv = "First Name,Last Name,Login,Status\nO,U,old,blocked\nN,U,new,disabled\n";
    let v = importer.validate_bytes(csv, &directory).unwrap();
    assert!(v.issues_for_row(2).is_empty());
    assert!(has(&v, 3, "Status", "legacy_status"));
    assert!(v.records()[0].exists());
}

#[test]
fn weak_passwords_never_echo_the_password() {
    let v = run(config(), "First Name,Last Name,Login,Password\nA,B,ada,short\nC,D,bob,xxbobxxyy\n");
    let weak: Vec<&Issue> = v.issues().iter().filter(|i| i.code == IssueCode::WeakPassword).collect();
    assert_eq!(weak.len(), 2);
    for issue in weak {
        assert_eq!(issue.value, None);
        assert!(!issue.message.contains("short") || issue.message.contains("characters"));
        assert!(!issue.message.contains("xxbobxxyy"));
    }
}

#[test]
fn duplicates_keep_the_first_row_valid() {
    let v = run(
        config(),
        "First Name,Last Name,Login,Email\nA,B,ada,a@x.io\nC,D,ADA ,c@x.io\nE,F,eve,A@X.IO\nG,H,gus,g@\nI,J,gus,i@x.io\n",
    );
    assert_eq!(v.records().iter().map(UserRecord::row).collect::<Vec<_>>(), [2]);
    let dup = v.issues_for_row(3).iter().find(|i| i.code == IssueCode::DuplicateInFile).unwrap();
    assert_eq!(dup.message, "the login 'ADA' is already used by row 2");
    assert_eq!(dup.column.as_deref(), Some("Login"));
    assert!(has(&v, 4, "Email", "duplicate_in_file"));
    // Row 5 is invalid (bad email) but still owns 'gus': row 6 is its duplicate.
    assert!(has(&v, 6, "Login", "duplicate_in_file"));
    assert_eq!(v.invalid_rows(), [3, 4, 5, 6]);
}

#[test]
fn conflicts_with_the_directory() {
    let mut directory = MemoryDirectory::new();
    let mut bob = User::new("bob", "Bob", "B");
    bob.email = Some("bob@x.io".into());
    directory.insert(bob);
    let mut create_only = config();
    create_only.options.mode = Mode::CreateOnly;
    let csv = "First Name,Last Name,Login,Email\nB,B,bob,bob@x.io\nN,N,new,BOB@x.io\n";
    let v = Importer::new(create_only).validate_bytes(csv, &directory).unwrap();
    assert!(has(&v, 2, "Login", "exists_in_directory"));
    let taken = v.issues_for_row(3)[0].clone();
    assert_eq!(taken.message, "the email 'BOB@x.io' already belongs to the existing user 'bob'");
    let v = Importer::new(config()).validate_bytes(csv, &directory).unwrap();
    assert!(v.issues_for_row(2).is_empty(), "upsert: an existing login is an update");
    assert!(v.records()[0].exists());
}

#[test]
fn product_columns_and_the_products_list() {
    let mut config = ImportConfig::default();
    config.schema = Schema::new()
        .require([Field::FirstName, Field::LastName, Field::Email])
        .optional([Field::HqRole, Field::Products]);
    config.catalog = Catalog::new()
        .product(Product::new("hire", "Trakstar Hire", ["Viewer", "Recruiter", "Admin"]))
        .product(Product::new("perform", "Perform", ["Employee", "Manager"]));
    let v = run(
        config.clone(),
        "Name,Last Name,Email,Role in Mitratech HQ,Trakstar Hire,Perform\nAda,L,a@x.io,Admin,yes,Manager\nBob,B,b@x.io,basic,no,\nCy,C,c@x.io,basic,Recruter,maybe\n",
    );
    let ada = &v.records()[0];
    assert_eq!(ada.hq_role(), Some(HqRole::Admin));
    let access: Vec<(&str, ProductAccess)> = ada.products().collect();
    assert_eq!(access[0], ("hire", ProductAccess::Role(Role::new("Viewer"))));
    assert_eq!(access[1], ("perform", ProductAccess::Role(Role::new("Manager"))));
    let bob = &v.records()[1];
    assert_eq!(bob.products().collect::<Vec<_>>(), [("hire", ProductAccess::None)], "empty cell: default later");
    // Each bad cell has its own issue, with the product's roles and a suggestion.
    let cy: Vec<(&str, &IssueCode)> =
        v.issues_for_row(4).iter().map(|i| (i.field.as_deref().unwrap_or(""), &i.code)).collect();
    assert_eq!(cy, [("product:hire", &IssueCode::UnknownRole), ("product:perform", &IssueCode::UnknownRole)]);
    assert!(v.issues_for_row(4)[0].message.ends_with("did you mean 'Recruiter'?"));

    let v = run(config, "Name,Last Name,Email,Products\nAda,L,a@x.io,Hire: Recruiter; Perform\nBob,B,b@x.io,Hyre\n");
    let access: Vec<(&str, ProductAccess)> = v.records()[0].products().collect();
    assert_eq!(
        access,
        [
            ("hire", ProductAccess::Role(Role::new("Recruiter"))),
            ("perform", ProductAccess::Role(Role::new("Employee")))
        ]
    );
    let issue = &v.issues_for_row(3)[0];
    assert_eq!(issue.code, IssueCode::UnknownProduct);
}

#[test]
fn custom_fields_and_groups() {
    let mut config = config();
    config.schema =
        config.schema.optional([Field::Groups]).custom(CustomField::new("start", CustomKind::Date).required());
    config.catalog = config.catalog.groups(["Sales", "R&D"]);
    let v = run(
        config.clone(),
        "First Name,Last Name,Login,Start,Groups\nA,B,a,2024-01-15,sales\nC,D,c,15/01/2024,Salse\n",
    );
    assert_eq!(v.records()[0].groups().collect::<Vec<_>>(), ["Sales"]);
    assert!(has(&v, 3, "Start", "invalid_value"));
    assert!(has(&v, 3, "Groups", "unknown_group"));
    config.options.create_missing_groups = true;
    let v = run(config, "First Name,Last Name,Login,Start,Groups\nC,D,c,2024-01-15,Marketing\n");
    assert_eq!(v.valid(), 1);
    assert_eq!(v.issues()[0].severity, Severity::Warning);
}

#[test]
fn error_cells_are_not_checked_twice() {
    let table = Table::from_rows(["First Name", "Last Name", "Login", "Email"], {
        let mut row = Row::new(2, ["A", "B", "a", "#N/A"]);
        row.push_issue(Issue::error(IssueCode::InvalidValue, "error cell").in_column(3, ""));
        vec![row]
    });
    let importer = Importer::new(config());
    let mut table = table;
    let mapping = importer.map(&table).unwrap();
    let v = importer.validate(&mut table, mapping, &MemoryDirectory::new()).unwrap();
    assert_eq!(v.issues().len(), 1, "{:?}", v.issues());
    assert_eq!(v.issues()[0].field.as_deref(), Some("email"));
}

#[test]
fn every_row_is_a_record_or_an_invalid_row() {
    let v = run(config(), "First Name,Last Name,Login\nA,B,a\n,,\nC,,c\nD,E,d\n");
    assert_eq!(v.rows(), 3);
    assert_eq!(v.valid() + v.invalid(), v.rows());
}

#[test]
fn host_rules_at_every_level() {
    struct NoBobs;
    impl Rule for NoBobs {
        fn check_cell(&self, target: &Target, value: &str) -> Option<Issue> {
            (target == &Target::Field(Field::FirstName) && value == "Bob")
                .then(|| Issue::error(IssueCode::Custom("no_bobs".into()), "no Bobs"))
        }
        fn check_row(&self, record: &UserRecord) -> Vec<Issue> {
            if record.superior().is_none() && record.login() != "boss" {
                vec![Issue::warning(IssueCode::Custom("no_superior".into()), "no superior").for_field("superior")]
            } else {
                Vec::new()
            }
        }
        fn check_table(&self, records: &[UserRecord]) -> Vec<Issue> {
            records
                .iter()
                .skip(1)
                .map(|r| {
                    Issue::error(IssueCode::Custom("one_only".into()), "one per file")
                        .at_row(r.row())
                        .for_field("login")
                })
                .collect()
        }
    }
    let importer = Importer::new(config()).with_rule(NoBobs);
    let csv = "First Name,Last Name,Login,Superior User\nBob,B,bob,boss\nAl,A,boss,\nCy,C,cy,boss\n";
    let v = importer.validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    assert!(has(&v, 2, "First Name", "custom:no_bobs"));
    assert_eq!(v.issues_for_row(2)[0].value.as_deref(), Some("Bob"));
    assert!(v.issues_for_row(3).is_empty());
    assert!(has(&v, 4, "Login", "custom:one_only"));
    assert_eq!(v.records().iter().map(UserRecord::row).collect::<Vec<_>>(), [3]);
}

#[test]
fn a_form_gets_the_same_checks() {
    let importer = Importer::new(config());
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("taken", "T", "T"));
    let form = [
        (Target::Field(Field::FirstName), "Ada"),
        (Target::Field(Field::LastName), "Lovelace"),
        (Target::Field(Field::Login), "ada"),
        (Target::Field(Field::Roles), "Admin"),
    ];
    let ok = importer.check_user(&form, &directory).unwrap();
    assert!(ok.issues.is_empty(), "{:?}", ok.issues);
    assert_eq!(ok.record.unwrap().roles()[0].name(), "Admin");
    let form = [(Target::Field(Field::FirstName), "Ada"), (Target::Field(Field::Roles), "Admn")];
    let bad = importer.check_user(&form, &directory).unwrap();
    let codes: Vec<String> = bad.issues.iter().map(|i| i.code.to_string()).collect();
    assert_eq!(codes, ["unknown_role", "required_missing", "required_missing"]);
    assert!(bad.issues.iter().all(|i| i.row.is_none()));
}

#[test]
fn the_email_becomes_the_login_when_there_is_none() {
    let mut config = ImportConfig::default();
    config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Email]);
    let v = run(config, "first name,last name,email\nA,B,a@x.io\nC,D,A@X.IO\nE,F,\n");
    assert_eq!(v.records()[0].login(), "a@x.io");
    let dup = v.issues_for_row(3).iter().find(|i| i.code == IssueCode::DuplicateInFile).unwrap();
    assert_eq!(dup.column.as_deref(), Some("email"));
    assert_eq!(v.issues_for_row(3).len(), 1, "one duplicate issue, not two: {:?}", v.issues_for_row(3));
    assert!(has(&v, 4, "email", "required_missing"));
}

#[test]
fn key_hashes_ignore_case() {
    // Keys are trimmed before they are hashed (cells are trimmed when they are read).
    assert_eq!(key_hash("Ada.Lovelace@Example.com"), key_hash("ada.lovelace@example.COM"));
    assert_eq!(key_hash("ÉLODIE"), key_hash("élodie"));
    assert_eq!(key_hash("søren.MÜLLER@x.io"), key_hash("SØREN.müller@X.IO"));
    // Latin-1 letters whose case partner is outside Latin-1 take the other path: same hash.
    assert_eq!(key_hash("\u{178}ves"), key_hash("ÿves"));
    assert_eq!(key_hash("ΑΘΗΝΑ"), key_hash("αθηνα"));
    assert_eq!(key_hash("Straße"), key_hash("STRAßE"));
    // The Kelvin sign lowercases to an ASCII 'k': still the same key.
    assert_eq!(key_hash("\u{212A}ate"), key_hash("kate"));
    assert_ne!(key_hash("ada"), key_hash("adb"));
}

#[test]
fn an_issue_is_small_enough_to_sort_in_place() {
    // sort_issues' doc gives this size: a plan of a million rows holds 151,000 issues.
    assert!(std::mem::size_of::<Issue>() <= 160, "{}", std::mem::size_of::<Issue>());
}

proptest::proptest! {
    /// Issues come out file-level first, then by row and column (an issue without a column after
    /// those with one), issues with equal keys in the order they came: what a stable sort by the
    /// key gives.
    #[test]
    fn issues_sort_by_row_and_column_keeping_ties_in_order(
        keys in proptest::collection::vec((proptest::option::of(0u64..6), proptest::option::of(0usize..4)), 0..60),
    ) {
        let issues: Vec<Issue> = keys
            .iter()
            .enumerate()
            .map(|(n, &(row, column))| {
                let mut issue = Issue::error(IssueCode::InvalidValue, n.to_string());
                if let Some(row) = row {
                    issue = issue.at_row(row);
                }
                if let Some(column) = column {
                    issue = issue.in_column(column, format!("c{column}"));
                }
                issue
            })
            .collect();
        let mut expected = issues.clone();
        expected.sort_by_key(|i| (i.row.map_or(0, |r| r + 1), i.column_index.unwrap_or(usize::MAX)));
        let mut sorted = issues;
        sort_issues(&mut sorted);
        let order = |v: &[Issue]| v.iter().map(|i| i.message.clone()).collect::<Vec<_>>();
        proptest::prop_assert_eq!(order(&sorted), order(&expected));
    }

    /// Any key, of any length (word boundaries included), hashes as its lowercase and its
    /// uppercase forms do, and a changed last byte changes the hash.
    #[test]
    fn key_hashes_ignore_case_at_any_length(key in "[a-zA-Z0-9.@_é]{0,40}") {
        proptest::prop_assert_eq!(key_hash(&key), key_hash(&key.to_lowercase()));
        proptest::prop_assert_eq!(key_hash(&key), key_hash(&key.to_uppercase()));
        let other = format!("{key}-");
        let changed = format!("{key}+");
        proptest::prop_assert_ne!(key_hash(&other), key_hash(&changed));
    }
}

#[test]
fn password_hashes_only_when_the_config_accepts_them() {
    let csv = "First Name,Last Name,Login,Password\nA,B,ada,\"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\"\n";
    let v = run(config(), csv);
    let issue = &v.issues_for_row(2)[0];
    assert_eq!(issue.code, IssueCode::InvalidValue);
    assert!(issue.message.contains("accept_password_hashes"));
    assert_eq!(issue.value, None, "never the hash either");
    let mut accepting = config();
    accepting.options.accept_password_hashes = true;
    let v = run(accepting, csv);
    assert!(v.issues().is_empty(), "{:?}", v.issues());
    assert!(v.records()[0].password().unwrap().is_phc_hash());
}

#[test]
fn progress_is_reported_and_can_cancel() {
    use std::sync::atomic::{AtomicU64, Ordering};
    struct Listener {
        seen: AtomicU64,
        go_on: bool,
    }
    impl Progress for Listener {
        fn rows_read(&self, rows: u64) -> bool {
            self.seen.store(rows, Ordering::Relaxed);
            self.go_on
        }
    }
    let csv = "First Name,Last Name,Login\nA,B,a\nC,D,c\nE,F,e\n";
    let listener = Arc::new(Listener { seen: AtomicU64::new(0), go_on: true });
    let importer = Importer::new(config()).with_progress(listener.clone());
    importer.validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    assert_eq!(listener.seen.load(Ordering::Relaxed), 3, "told the final count");
    let stop = Arc::new(Listener { seen: AtomicU64::new(0), go_on: false });
    let err = Importer::new(config()).with_progress(stop).validate_bytes(csv, &MemoryDirectory::new()).unwrap_err();
    assert_eq!(err.code(), IssueCode::Cancelled);
}

#[test]
fn duplicates_among_many_keys_are_all_found() {
    // Enough rows for the duplicate search to filter hashes first; every 97th row repeats the
    // login of the row before (in capitals) and every 89th the email of the row two before.
    let mut csv = String::from("First Name,Last Name,Login,Email\n");
    let mut expected = Vec::new();
    for i in 0..20_000u64 {
        let row = i + 2;
        let (repeats_login, repeats_email) = (i > 0 && i % 97 == 0, i > 0 && i % 89 == 0 && i % 97 != 0);
        let login = if repeats_login { format!("USER{}", i - 1) } else { format!("user{i}") };
        let email = if repeats_email { format!("u{}@x.io", i - 2) } else { format!("u{i}@x.io") };
        if repeats_login {
            expected.push((row, "Login", row - 1));
        } else if repeats_email {
            expected.push((row, "Email", row - 2));
        }
        csv.push_str(&format!("A,B,{login},{email}\n"));
    }
    let v = Importer::new(config()).validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    let found: Vec<(u64, &str, String)> = v
        .issues()
        .iter()
        .filter(|i| i.code == IssueCode::DuplicateInFile)
        .map(|i| (i.row.unwrap_or(0), i.column.as_deref().unwrap_or(""), i.message.clone()))
        .collect();
    assert_eq!(found.len(), expected.len(), "{:?}", &found[..found.len().min(5)]);
    for ((row, column, message), (expected_row, expected_column, first)) in found.iter().zip(&expected) {
        assert_eq!((row, column), (expected_row, expected_column));
        assert!(message.ends_with(&format!("row {first}")), "{message}");
    }
}

#[test]
fn records_keep_their_roles_when_a_page_has_hundreds_of_role_sets() {
    // 600 rows, each with one of 511 role combinations of 9 roles: pages name at most 256 sets,
    // so some are sealed for their role sets before their text is full.
    let names: Vec<String> = (0..9).map(|i| format!("R{i}")).collect();
    let mut config = config();
    config.catalog = Catalog::new().roles(names.clone());
    let mut csv = String::from("First Name,Last Name,Login,Roles\n");
    let mut expected = Vec::new();
    for row in 0..600usize {
        let mask = row % 511 + 1;
        let roles: Vec<&str> = (0..9).filter(|b| mask & (1 << b) != 0).map(|b| names[b].as_str()).collect();
        csv.push_str(&format!("A,B,user{row},{}\n", roles.join(";")));
        expected.push(roles.join(";"));
    }
    for threads in [1, 2] {
        let mut config = config.clone();
        config.options.threads = threads;
        let v = Importer::new(config).validate_bytes(csv.clone(), &MemoryDirectory::new()).unwrap();
        assert!(v.issues().is_empty(), "{:?}", v.issues().first());
        let got: Vec<String> =
            v.records().iter().map(|r| r.roles().iter().map(Role::name).collect::<Vec<_>>().join(";")).collect();
        assert_eq!(got, expected, "{threads} thread(s)");
    }
}

#[test]
fn key_hashes_follow_login_keys_for_a_final_sigma() {
    assert_eq!(login_key("ΟΔΥΣΣΕΑΣ"), login_key("οδυσσεας"));
    assert_eq!(key_hash("ΟΔΥΣΣΕΑΣ"), key_hash("οδυσσεας"));
    // And so the duplicate check finds them (it missed them when it lowercased char by char).
    let v = run(config(), "First Name,Last Name,Login\nA,B,ΟΔΥΣΣΕΑΣ\nC,D,οδυσσεας\n");
    assert!(has(&v, 3, "Login", "duplicate_in_file"), "{:?}", v.issues());
}
