//! `bench_validate`: the Rust side of `bindings/bench.sh` — the same runs the Python and Kotlin
//! benchmarks make through the bindings, made here on the core directly.
//!
//! ```text
//! cargo run --release -p user-import-ffi --example bench_validate -- CSV CONFIG [RUNS]
//! ```
//!
//! Prints, for `Importer::validate_path` of the file: the best and the median of `RUNS` runs
//! with no existing users, then with a directory of 100,000 existing users whose logins are in
//! the file, and with 100,000 whose logins are not.

use std::process::ExitCode;
use std::time::Instant;

use user_import::{Directory, ImportConfig, Importer, MemoryDirectory, User};

fn existing(prefix: &str) -> MemoryDirectory {
    MemoryDirectory::from_users((0..100_000).map(|i| {
        let mut user = User::new(format!("{prefix}{i:07}"), "First", "Last");
        user.email = Some(format!("existing{i}@example.com"));
        user
    }))
}

fn measure(
    label: &str,
    runs: usize,
    mut run: impl FnMut() -> Result<u64, user_import::Error>,
) -> Result<(), user_import::Error> {
    let mut times = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        rows = run()?;
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!("rust   {label:<42} best {:.3} s  median {:.3} s  ({rows} rows, {runs} runs)", times[0], times[runs / 2]);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(csv), Some(config)) = (args.first(), args.get(1)) else {
        eprintln!("usage: bench_validate CSV CONFIG [RUNS]");
        return ExitCode::from(2);
    };
    let runs = args.get(2).and_then(|r| r.parse::<usize>().ok()).unwrap_or(5).max(1);
    let result = (|| {
        let importer = Importer::new(ImportConfig::from_path(config)?);
        let none = MemoryDirectory::new();
        measure("validate_path, no existing users", runs, || Ok(importer.validate_path(csv, &none)?.rows()))?;
        for (label, directory) in [
            ("validate_path, 100k existing (in the file)", existing("user")),
            ("validate_path, 100k existing (not in it)", existing("other")),
        ] {
            let directory: &dyn Directory = &directory;
            measure(label, runs, || Ok(importer.validate_path(csv, directory)?.rows()))?;
        }
        Ok::<(), user_import::Error>(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
