//! `stages`: a custom importer that runs the stages one by one and adds its own rule.
//!
//! ```text
//! cargo run --example stages -- [FILE]      (default: examples/data/cmo_users.xlsx)
//! ```
//!
//! 1. parse the file (the sheet and header row are found automatically);
//! 2. map its columns, then fix one mapping by hand, as a person does with a drop-down;
//! 3. validate with the built-in checks plus a host rule ("at most 2 administrators per file");
//! 4. resolve the hierarchy and print the creation order;
//! 5. plan (the preview a person confirms) and apply to an in-memory store.

use std::process::ExitCode;

use user_import::{
    apply, resolve_hierarchy, ApplyOptions, ColumnRef, ErrorPolicy, Field, HierarchyInput, ImportConfig, Importer,
    Issue, IssueCode, MemoryStore, Plan, Rule, Target, UserRecord,
};

/// The host's own rule: at most `max` administrators in one import.
struct MaxAdministrators {
    max: usize,
}

impl Rule for MaxAdministrators {
    fn check_table(&self, records: &[UserRecord]) -> Vec<Issue> {
        records
            .iter()
            .filter(|r| r.roles().iter().any(|role| role.name() == "Administrator"))
            .skip(self.max)
            .map(|r| {
                Issue::error(
                    IssueCode::Custom("max_administrators".into()),
                    format!("more than {} administrators in one import", self.max),
                )
                .at_row(r.row())
                .for_field("roles")
            })
            .collect()
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), user_import::Error> {
    let file = std::env::args().nth(1).unwrap_or_else(|| "examples/data/cmo_users.xlsx".into());
    let config = ImportConfig::from_path("examples/configs/cmo.toml")?;
    let importer = Importer::new(config).with_rule(MaxAdministrators { max: 2 });

    // 1. Parse.
    let mut table = importer.open(&file)?;
    println!("parsed {} ({}), header on row {}", file, table.info().format, table.header_row());

    // 2. Map, then correct a column by hand.
    let mut mapping = importer.map(&table)?;
    mapping.set(&ColumnRef::Name("Email".into()), Some(Target::Field(Field::Email)))?;
    for column in mapping.columns() {
        let target = column.target.as_ref().map_or_else(|| "(ignored)".to_string(), ToString::to_string);
        println!("  {:<15} -> {target}", column.header);
    }

    // 3. Validate (built-in checks + the host rule).
    let store = MemoryStore::new();
    let validation = importer.validate(&mut table, mapping, &store)?;
    println!("validated: {} valid, {} invalid", validation.valid(), validation.invalid());

    // 4. The hierarchy on its own (the plan does this too).
    let inputs: Vec<HierarchyInput<'_>> =
        validation.records().iter().map(|r| HierarchyInput::new(r.row(), r.login(), r.superior())).collect();
    let hierarchy = resolve_hierarchy(&inputs, |_| false);
    let order: Vec<&str> = hierarchy.order.iter().map(|&i| inputs[i].login).collect();
    println!("creation order: {}", order.join(" → "));

    // 5. Plan (the preview), then apply.
    let plan = Plan::new(validation, importer.config(), &store)?;
    for row in plan.rows() {
        println!("  row {}: {} {}", row.row, row.action, row.login.unwrap_or_default());
    }
    let mut store = store;
    let mut options = ApplyOptions::default();
    options.policy = ErrorPolicy::ContinueAsIs;
    let outcome = apply(&plan, &mut store, &options)?;
    println!(
        "applied: {} created, {} failed; {} users in the store",
        outcome.summary.created,
        outcome.summary.failed,
        store.len()
    );
    Ok(())
}
