//! Each seed product's import flow, driven by its shipped config and sample file.

use std::path::PathBuf;

use user_import::{
    Field, HqRole, ImportConfig, Importer, IssueCode, MemoryDirectory, Mode, ProductAccess, Role, Severity, Status,
    Target, User,
};

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn importer(config: &str) -> Importer {
    Importer::new(ImportConfig::from_path(path(config)).unwrap_or_else(|e| panic!("{config}: {e}")))
}

fn errors(v: &user_import::Validation) -> Vec<String> {
    v.issues().iter().filter(|i| i.is_error()).map(ToString::to_string).collect()
}

#[test]
fn cmo_first_last_login_password_roles_and_superior() {
    let importer = importer("examples/configs/cmo.toml");
    let v = importer.validate_path(path("examples/data/cmo_users.xlsx"), &MemoryDirectory::new()).unwrap();
    assert!(errors(&v).is_empty(), "{:?}", errors(&v));
    assert_eq!(v.valid(), 5);
    let grace = &v.records()[0];
    assert_eq!((grace.login(), grace.superior()), ("ghopper", Some("alovelace")), "a forward reference is kept");
    let katherine = &v.records()[3];
    let roles: Vec<&str> = katherine.roles().iter().map(Role::name).collect();
    assert_eq!(roles, ["Attorney", "Paralegal"]);
    assert!(katherine.has_password());
    // Every mandatory column is mapped.
    for field in [Field::FirstName, Field::LastName, Field::Login, Field::Password, Field::Roles, Field::Superior] {
        assert!(v.mapping().column_of_field(field).is_some(), "{field}");
    }
}

#[test]
fn cmo_without_a_password_column_cannot_be_imported() {
    let importer = importer("examples/configs/cmo.toml");
    let csv = "First Name,Last Name,Login Name,Roles\nAda,Lovelace,alovelace,Administrator\n";
    let v = importer.validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    assert!(!v.can_import());
    assert_eq!(v.issues()[0].code, IssueCode::RequiredMissing);
    assert_eq!(v.issues()[0].field.as_deref(), Some("password"));
}

#[test]
fn hq_name_last_name_email_hq_role_and_products() {
    let importer = importer("examples/configs/hq.toml");
    let v = importer.validate_path(path("examples/data/hq_users.csv"), &MemoryDirectory::new()).unwrap();
    assert!(errors(&v).is_empty(), "{:?}", errors(&v));
    assert_eq!(v.valid(), 4);
    let ada = &v.records()[0];
    assert_eq!(ada.first_name(), "Ada", "'Name' is the first name");
    assert_eq!(ada.login(), "ada@example.com", "no login column: the email is the login");
    assert_eq!(ada.hq_role(), Some(HqRole::Admin));
    let products: Vec<(&str, ProductAccess)> = ada.products().collect();
    assert_eq!(
        products,
        [
            ("hire", ProductAccess::Role(Role::new("Admin"))),
            ("learn", ProductAccess::Role(Role::new("Learner"))),
            ("perform", ProductAccess::Role(Role::new("HR Admin"))),
        ]
    );
    let alan = &v.records()[2];
    assert_eq!(alan.products().find(|(id, _)| *id == "hire").map(|(_, a)| a), Some(ProductAccess::None));
    assert!(alan.products().all(|(id, _)| id != "perform"), "empty cell: the plan gives the default");
    let radia = &v.records()[3];
    assert_eq!(radia.timezone(), Some(chrono_tz::America::Los_Angeles));
}

#[test]
fn hq_rejects_an_unknown_product_role_with_a_suggestion() {
    let importer = importer("examples/configs/hq.toml");
    let csv = "Name,Last Name,Email,Role in Mitratech HQ,Trakstar Hire\nAda,L,ada@example.com,admin,Recruter\nBo,B,bo@example.com,owner,yes\n";
    let v = importer.validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    let first = v.issues_for_row(2)[0].to_string();
    assert_eq!(
        first,
        "row 2, column 'Trakstar Hire': 'Recruter' is neither yes/no nor a role of Trakstar Hire (Interviewer, Recruiter, Admin) — did you mean 'Recruiter'?"
    );
    assert_eq!(v.issues_for_row(3)[0].code, IssueCode::InvalidValue);
}

#[test]
fn training_email_username_reference_and_custom_fields() {
    let importer = importer("examples/configs/training.toml");
    let v = importer.validate_path(path("examples/data/training_users.xlsx"), &MemoryDirectory::new()).unwrap();
    assert!(errors(&v).is_empty(), "{:?}", errors(&v));
    assert_eq!(v.valid(), 4);
    let ada = &v.records()[0];
    assert_eq!((ada.login(), ada.reference()), ("ada", Some("10045")), "a number cell read as text");
    let custom: Vec<(&str, String)> = ada.custom().map(|(k, v)| (k, v.to_string())).collect();
    assert_eq!(custom, [("department", "Engineering".to_string()), ("hire_date", "2024-01-15".to_string())]);
    assert_eq!(v.records()[1].groups().collect::<Vec<_>>(), ["New hires", "Compliance 2026"]);
    // The unknown column is offered as a custom field, not lost.
    let candidates: Vec<&str> = v.mapping().custom_candidates().map(|c| c.header.as_str()).collect();
    assert_eq!(candidates, ["T-shirt size"]);
    let warning = v.issues().iter().find(|i| i.code == IssueCode::UnknownColumn).unwrap();
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(importer.config().options.mode, Mode::CreateOnly);
}

#[test]
fn training_create_only_refuses_existing_users() {
    let importer = importer("examples/configs/training.toml");
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("ada", "Ada", "Lovelace"));
    let v = importer.validate_path(path("examples/data/training_users.xlsx"), &directory).unwrap();
    assert_eq!(v.invalid_rows(), [2]);
    assert_eq!(v.issues_for_row(2)[0].code, IssueCode::ExistsInDirectory);
}

#[test]
fn portal_strict_headers_groups_mirror_and_statuses() {
    let importer = importer("examples/configs/portal.toml");
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("admin", "Portal", "Admin"));
    let v = importer.validate_path(path("examples/data/portal_users.csv"), &directory).unwrap();
    assert!(errors(&v).is_empty(), "{:?}", errors(&v));
    assert_eq!(v.valid(), 3);
    assert_eq!(v.records()[1].mirror(), Some("admin"));
    assert_eq!(v.records()[1].status(), Some(Status::Pending));

    // A renamed column is reported, not guessed; a legacy status is refused for a new user.
    let csv = "First Name,last name,email,status\nAda,Lovelace,ada@example.com,blocked\n";
    let v = importer.validate_bytes(csv, &directory).unwrap();
    assert!(!v.can_import());
    let codes: Vec<(Option<u64>, String)> = v.issues().iter().map(|i| (i.row, i.code.to_string())).collect();
    assert!(codes.contains(&(None, "unknown_column".into())), "{codes:?}");
    assert!(codes.contains(&(None, "required_missing".into())), "{codes:?}");
    assert!(codes.contains(&(Some(2), "legacy_status".into())), "{codes:?}");
}

#[test]
fn portal_mirror_user_must_exist() {
    let importer = importer("examples/configs/portal.toml");
    let csv = "first name,last name,email,mirror user\nAda,Lovelace,ada@example.com,nobody\n";
    let v = importer.validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    let issue = &v.issues_for_row(2)[0];
    assert_eq!(issue.field.as_deref(), Some("mirror"));
    assert!(issue.message.contains("no existing user 'nobody'"));
}

#[test]
fn every_shipped_config_loads_and_round_trips() {
    for name in ["cmo", "hq", "training", "portal"] {
        let config = ImportConfig::from_path(path(&format!("examples/configs/{name}.toml"))).unwrap();
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(ImportConfig::from_json_str(&json).unwrap(), config, "{name}");
        let importer = Importer::new(config);
        assert!(!importer.fields().is_empty());
        let _ = Target::Field(Field::Email);
    }
}
