//! Invariants of map + validate over generated tables.

use proptest::prelude::*;
use user_import::{Catalog, Field, ImportConfig, Importer, MemoryDirectory, Product, Row, Schema, Table};

const HEADERS: [&str; 12] = [
    "First Name",
    "Last Name",
    "Login",
    "Email",
    "Password",
    "Roles",
    "Superior User",
    "Time Zone",
    "Status",
    "Trakstar Hire",
    "Groups",
    "Role in HQ",
];

fn importer() -> Importer {
    let mut config = ImportConfig::default();
    config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login]).optional([
        Field::Email,
        Field::Password,
        Field::Roles,
        Field::Superior,
        Field::Timezone,
        Field::Status,
        Field::Groups,
        Field::HqRole,
    ]);
    config.catalog = Catalog::new()
        .roles(["Admin", "Editor", "Viewer"])
        .groups(["Sales", "R&D"])
        .product(Product::new("hire", "Trakstar Hire", ["Viewer", "Admin"]));
    Importer::new(config)
}

/// Cell values: empty, plausible, nasty.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,8}",
        "[a-z]{1,6}@[a-z]{1,6}\\.(com|io)",
        Just("Admin; viewer".to_string()),
        Just("Europe/Paris".to_string()),
        Just("yes".to_string()),
        Just("blocked".to_string()),
        Just("=cmd|' /C calc'!A0".to_string()),
        "\\PC{0,12}",
        "[ \u{A0}\t;,|]{0,4}",
    ]
}

fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    proptest::collection::vec(proptest::collection::vec(cell(), 8..14), 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_row_is_one_outcome_and_issues_name_real_columns(rows in table()) {
        let headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
        let rows: Vec<Row> = rows.iter().enumerate().map(|(i, cells)| Row::new(i as u64 + 2, cells)).collect();
        let non_blank = rows.iter().filter(|r| !r.is_blank()).count() as u64;
        let importer = importer();
        let mut table = Table::from_rows(headers.clone(), rows);
        let mapping = importer.map(&table).unwrap();
        let v = importer.validate(&mut table, mapping, &MemoryDirectory::new()).unwrap();

        prop_assert_eq!(v.rows(), non_blank);
        prop_assert_eq!(v.valid() + v.invalid(), v.rows());
        for record in v.records() {
            prop_assert!(!v.issues_for_row(record.row()).iter().any(|i| i.is_error()), "a valid row has no error");
        }
        for &row in v.invalid_rows() {
            prop_assert!(v.issues_for_row(row).iter().any(|i| i.is_error()), "an invalid row has an error");
        }
        for issue in v.issues() {
            if let Some(index) = issue.column_index {
                prop_assert!(index < headers.len().max(14), "{issue:?}");
                if index < headers.len() {
                    prop_assert_eq!(issue.column.as_deref(), Some(headers[index].as_str()));
                }
            }
            if issue.field.as_deref() == Some("password") {
                prop_assert_eq!(&issue.value, &None, "never the password");
            }
        }
        // Issues come sorted: file-level first, then by row.
        let rows_in_order: Vec<Option<u64>> = v.issues().iter().map(|i| i.row).collect();
        let mut sorted = rows_in_order.clone();
        sorted.sort_by_key(|r| (r.is_some(), *r));
        prop_assert_eq!(rows_in_order, sorted);
    }

    #[test]
    fn any_csv_text_validates_without_panicking(text in "[a-zA-Z@.;,|\"\n ]{0,400}") {
        let importer = importer();
        let csv = format!("First Name,Last Name,Login,Email,Roles\n{text}");
        if let Ok(v) = importer.validate_bytes(csv, &MemoryDirectory::new()) {
            prop_assert_eq!(v.valid() + v.invalid(), v.rows());
        }
    }
}
