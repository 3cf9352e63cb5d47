//! `quickstart`: validate a file in one call and print what a person needs to fix.
//!
//! ```text
//! cargo run --example quickstart -- FILE [CONFIG.toml|CONFIG.json]
//! cargo run --example quickstart -- examples/data/hq_users.csv examples/configs/hq.toml
//! ```
//!
//! Without a config, every built-in field is optional and any role is accepted. Exits with 0 when
//! every row is valid, 1 when some rows have issues, 2 when the file or config cannot be read.

use std::process::ExitCode;

use user_import::{ImportConfig, Importer, MemoryDirectory};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: quickstart FILE [CONFIG]");
        return ExitCode::from(2);
    };
    let config = match args.get(1).map(ImportConfig::from_path).transpose() {
        Ok(config) => config.unwrap_or_default(),
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let importer = Importer::new(config);
    let validation = match importer.validate_path(file, &MemoryDirectory::new()) {
        Ok(validation) => validation,
        Err(err) => {
            eprintln!("error [{}]: {err}", err.code());
            return ExitCode::from(2);
        }
    };
    println!("{} rows: {} valid, {} invalid", validation.rows(), validation.valid(), validation.invalid());
    for issue in validation.issues().iter().take(20) {
        println!("  [{}] {issue}", issue.code);
    }
    if validation.issues().len() > 20 {
        println!("  … and {} more", validation.issues().len() - 20);
    }
    if !validation.can_import() {
        println!("the file cannot be imported as it is: see the file-level issues above");
    }
    if validation.issues().iter().any(|i| i.is_error()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
