//! `error_report`: write the XLSX error report a person opens, fixes and re-imports.
//!
//! ```text
//! cargo run --example error_report -- [FILE] [OUT.xlsx]   (default: a file with mistakes → error_report.xlsx)
//! ```
//!
//! The report's first sheet sums up what is wrong; the second holds the rows as they were sent,
//! each bad cell red with the reason in a note and an `Import errors` column at the end of each
//! bad row. Passwords are not copied into it. Once fixed, the same file imports as it is.

use std::path::PathBuf;
use std::process::ExitCode;

use user_import::{ImportConfig, Importer, MemoryDirectory, Report};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::env::temp_dir();
    let file = match args.next() {
        Some(file) => PathBuf::from(file),
        None => {
            // A file with the mistakes admins make: a bad email, an unknown role, a typo in a zone.
            let file = dir.join("users_with_mistakes.csv");
            std::fs::write(
                &file,
                "First Name,Last Name,Login Name,Email,Password,Roles,Time Zone\n\
                 Ada,Lovelace,alovelace,ada@example.com,Analytical#1843,Administrator,Europe/London\n\
                 Grace,Hopper,ghopper,grace@,Compiler#1952,Attorney,America/New_York\n\
                 Alan,Turing,aturing,alan@example.com,Enigma#1912,Atorney,Europe/Londn\n",
            )?;
            file
        }
    };
    let out = args.next().map_or_else(|| PathBuf::from("error_report.xlsx"), PathBuf::from);
    let mut config = ImportConfig::from_path("examples/configs/cmo.toml")?;
    config.schema = config.schema.optional([user_import::Field::Timezone]);
    let importer = Importer::new(config);
    let validation = importer.validate_path(&file, &MemoryDirectory::new())?;
    let report = Report::from_validation(&validation);
    report.write_xlsx(&file, &importer.source_builder(), &out)?;
    println!("{report}");
    println!("wrote {}", out.display());
    Ok(())
}
