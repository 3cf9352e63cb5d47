//! (c) Configuration loading from arbitrary TOML or JSON text.
//!
//! The first byte chooses the syntax (even: TOML, odd: JSON). A configuration that loads must
//! pass its own checks, write itself back as TOML that loads to the same value, write a CSV
//! template, and run a small file through the pipeline without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use user_import::{write_csv_template, ImportConfig, Importer, MemoryDirectory, Report};
use user_import_fuzz::{check_error, contain_reader_panics, split_options};

const SAMPLE: &str = "First Name,Last Name,Login Name,Email,Roles,Superior User,Time Zone,Status,Department\n\
Ada,Lovelace,ada,ada@example.com,Admin,,Europe/London,active,R&D\n\
Grace,Hopper,grace,grace@,Editor,ada,Mars/Olympus,pending,Sales\n";

fuzz_target!(|data: &[u8]| {
    contain_reader_panics();
    let (options, text) = split_options(data);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let loaded = if options & 1 == 0 { ImportConfig::from_toml_str(text) } else { ImportConfig::from_json_str(text) };
    let config = match loaded {
        Ok(config) => config,
        Err(err) => return check_error(&err),
    };
    config.check().expect("a loaded configuration passes its checks");
    let _ = format!("{config:?}");
    if let Ok(toml) = config.to_toml_string() {
        let back = ImportConfig::from_toml_str(&toml).expect("a configuration's own TOML loads");
        assert_eq!(back, config, "TOML round trip");
    }
    let mut template = Vec::new();
    write_csv_template(&config, &mut template).expect("a CSV template is written to memory");
    let importer = Importer::new(config);
    match importer.plan_bytes(SAMPLE, &MemoryDirectory::new()) {
        Ok(plan) => {
            let summary = plan.summary();
            assert_eq!(summary.create + summary.update + summary.unchanged + summary.skip + summary.fail, summary.rows);
            let _ = Report::from_plan(&plan).to_json();
        }
        Err(err) => check_error(&err),
    }
});
