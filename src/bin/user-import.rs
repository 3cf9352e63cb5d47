//! `user-import`: the command line, a thin user of the `user-import` library.
//!
//! ```text
//! user-import validate FILE [--config F] [--directory users.db|existing.csv] [--report OUT]
//! user-import import FILE --db users.db [--mode …] [--on-error abort|continue] [--dry-run]
//! user-import template --config F --format csv|xlsx -o OUT
//! user-import users --db users.db list|search QUERY|deactivate LOGIN|resend-invitation LOGIN
//! ```
//!
//! Exit codes: 0 when every row is fine, 1 when some rows have issues (or an import was refused),
//! 2 when a file, the configuration or the database cannot be used.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use user_import::{
    apply, write_csv_template, write_xlsx_template, ApplyOptions, Directory, ErrorPolicy, HeaderRow, ImportConfig,
    Importer, MemoryDirectory, Mode, Progress, Report, SheetSelector, SqliteStore, Status,
};

/// A spinner on stderr with the rows read, when stderr is a terminal (never in pipes or logs).
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn rows_read(&self, rows: u64) -> bool {
        self.0.set_message(format!("{rows} rows read"));
        self.0.tick();
        true
    }
}

fn with_bar(cli: &Cli, importer: Importer) -> (Importer, Option<indicatif::ProgressBar>) {
    if cli.quiet || cli.json || !std::io::stderr().is_terminal() {
        return (importer, None);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let importer = importer.with_progress(Arc::new(Bar(bar.clone())));
    (importer, Some(bar))
}

/// Import users in bulk from the CSV and Excel files administrators really send.
#[derive(Parser)]
#[command(name = "user-import", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but errors.
    #[arg(long, global = true)]
    quiet: bool,
    /// Print the report as JSON on standard output.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Check a file: every row and every cell, without writing anything.
    Validate(ValidateArgs),
    /// Import a file into a SQLite user store (or preview it with --dry-run).
    Import(ImportArgs),
    /// Write an import template (headers, an example row, drop-downs) from a configuration.
    Template(TemplateArgs),
    /// List, search and manage the users of a store.
    Users(UsersArgs),
}

/// What every command that reads a file takes.
#[derive(Args)]
struct SourceArgs {
    /// The CSV, XLSX, XLS, XLSB or ODS file.
    file: PathBuf,
    /// The import configuration (TOML or JSON); default: every field optional.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The sheet of a workbook: a name, or a number counted from 1.
    #[arg(long)]
    sheet: Option<String>,
    /// The header's row number (default: found automatically).
    #[arg(long)]
    header_row: Option<u64>,
    /// Map a column by hand: 'Column=field' ('E-mail=email', '#3=login', 'Notes=ignore').
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// Write a report: .json, .csv or .xlsx (the rows as sent, bad cells highlighted).
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Args)]
struct ValidateArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Existing users: a SQLite store (.db) or a CSV/Excel export of users.
    #[arg(long)]
    directory: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Create,
    Update,
    Upsert,
}

#[derive(Clone, Copy, ValueEnum)]
enum OnError {
    /// Write nothing if any row fails.
    Abort,
    /// Write the valid rows, skip the others.
    Continue,
}

#[derive(Args)]
struct ImportArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The SQLite user store (created if it does not exist).
    #[arg(long)]
    db: PathBuf,
    /// Create, update or both (default: the configuration's, else upsert).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// What to do when some rows fail.
    #[arg(long, value_enum, default_value = "abort")]
    on_error: OnError,
    /// Show what would happen, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// A comment kept in the store's import log.
    #[arg(long)]
    comment: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum TemplateFormat {
    Csv,
    Xlsx,
}

#[derive(Args)]
struct TemplateArgs {
    /// The import configuration (TOML or JSON).
    #[arg(long)]
    config: PathBuf,
    /// CSV or XLSX.
    #[arg(long, value_enum)]
    format: TemplateFormat,
    /// Where to write the template.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Args)]
struct UsersArgs {
    /// The SQLite user store.
    #[arg(long)]
    db: PathBuf,
    #[command(subcommand)]
    action: UsersAction,
}

#[derive(Subcommand)]
enum UsersAction {
    /// List the users (optionally of one status: active, pending, expired, blocked, disabled).
    List {
        #[arg(long)]
        status: Option<String>,
    },
    /// Find users by name, email or login.
    Search { query: String },
    /// Deactivate a user (status disabled).
    Deactivate { login: String },
    /// Mark a user's invitation as sent again.
    ResendInvitation { login: String },
}

/// A failure that stops the command: printed on one line, exit code 2.
struct Failure(String);

impl From<user_import::Error> for Failure {
    fn from(err: user_import::Error) -> Self {
        Failure(err.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Failure(err.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Validate(args) => validate(&cli, args),
        Command::Import(args) => import(&cli, args),
        Command::Template(args) => template(args),
        Command::Users(args) => users(&cli, args),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("user-import: {message}");
            ExitCode::from(2)
        }
    }
}

/// The configuration with the command line's options on top.
fn importer(source: &SourceArgs, mode: Option<ModeArg>) -> Result<Importer, Failure> {
    let mut config = match &source.config {
        Some(path) => ImportConfig::from_path(path)?,
        None => ImportConfig::default(),
    };
    if let Some(sheet) = &source.sheet {
        config.options.sheet = match sheet.parse::<usize>() {
            Ok(n) if n >= 1 => SheetSelector::Index(n - 1),
            _ => SheetSelector::Name(sheet.clone()),
        };
    }
    if let Some(row) = source.header_row {
        config.options.header_row = HeaderRow::At(row);
    }
    for pair in &source.map {
        let Some((column, field)) = pair.rsplit_once('=') else {
            return Err(Failure(format!("--map '{pair}': write it as 'Column=field'")));
        };
        config.options.mapping.insert(column.to_string(), field.to_string());
    }
    if let Some(mode) = mode {
        config.options.mode = match mode {
            ModeArg::Create => Mode::CreateOnly,
            ModeArg::Update => Mode::UpdateOnly,
            ModeArg::Upsert => Mode::Upsert,
        };
    }
    config.check()?;
    Ok(Importer::new(config))
}

fn write_report(report: &Report, importer: &Importer, source: &SourceArgs) -> Result<(), Failure> {
    let Some(out) = &source.report else {
        return Ok(());
    };
    let extension = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let name = out.display();
    match extension.as_str() {
        "json" => report.write_json(std::fs::File::create(out).map_err(|e| Failure(format!("{name}: {e}")))?)?,
        "csv" => report.write_csv(std::fs::File::create(out).map_err(|e| Failure(format!("{name}: {e}")))?)?,
        "xlsx" => report.write_xlsx(&source.file, &importer.source_builder(), out)?,
        _ => return Err(Failure(format!("{name}: a report is .json, .csv or .xlsx"))),
    }
    Ok(())
}

fn print(cli: &Cli, report: &Report, extra: &[String]) {
    if cli.json {
        println!("{}", report.to_json());
        return;
    }
    if cli.quiet {
        return;
    }
    println!("{report}");
    for line in extra {
        println!("{line}");
    }
    const SHOWN: usize = 20;
    for issue in report.issues.iter().take(SHOWN) {
        println!("  [{}] {issue}", issue.code);
    }
    if report.issues.len() > SHOWN {
        println!("  … and {} more (write them all with --report)", report.issues.len() - SHOWN);
    }
}

fn has_errors(report: &Report) -> bool {
    report.issues.iter().any(|i| i.is_error())
}

fn validate(cli: &Cli, args: &ValidateArgs) -> Result<ExitCode, Failure> {
    let (importer, bar) = with_bar(cli, importer(&args.source, None)?);
    let directory: Box<dyn Directory> = match &args.directory {
        None => Box::new(MemoryDirectory::new()),
        Some(path) if is_database(path) => {
            if !path.exists() {
                return Err(Failure(format!("{}: no such database", path.display())));
            }
            Box::new(SqliteStore::open(path)?)
        }
        Some(path) => Box::new(MemoryDirectory::from_path(path)?),
    };
    // Only the report is wanted: the valid records are counted, not kept.
    let report = importer.check_path(&args.source.file, directory.as_ref());
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    write_report(&report, &importer, &args.source)?;
    print(cli, &report, &[]);
    Ok(if has_errors(&report) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn is_database(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("db" | "sqlite" | "sqlite3"))
}

fn import(cli: &Cli, args: &ImportArgs) -> Result<ExitCode, Failure> {
    let (importer, bar) = with_bar(cli, importer(&args.source, args.mode)?);
    let mut store = SqliteStore::open(&args.db)?;
    let plan = importer.plan_path(&args.source.file, &store);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let plan = plan?;
    if args.dry_run {
        let mut lines = vec!["dry run: nothing was written".to_string()];
        for row in plan.updates().take(20) {
            lines.push(format!("  row {}: update {}", row.row, row.login.unwrap_or_default()));
            for change in &row.changes {
                lines.push(format!("      {}: '{}' -> '{}'", change.field, change.old, change.new));
            }
        }
        let failed = plan.summary().fail > 0;
        // The plan is not needed any more: its issues move into the report, its records go.
        let report = Report::from_plan_owned(plan);
        write_report(&report, &importer, &args.source)?;
        print(cli, &report, &lines);
        return Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS });
    }
    let mut options = ApplyOptions::default();
    options.policy = match args.on_error {
        OnError::Abort => ErrorPolicy::AllOrNothing,
        OnError::Continue => ErrorPolicy::ContinueAsIs,
    };
    options.file_name = args.source.file.file_name().map(|n| n.to_string_lossy().into_owned());
    options.comment.clone_from(&args.comment);
    let outcome = apply(&plan, &mut store, &options)?;
    let report = Report::from_outcome(&plan, &outcome);
    write_report(&report, &importer, &args.source)?;
    let mut lines = Vec::new();
    if let Some(refused) = &outcome.refused {
        lines.push(format!("not imported: {refused}"));
    }
    if !outcome.invitations.is_empty() {
        lines.push(format!("{} invitation(s) to send: {}", outcome.invitations.len(), outcome.invitations.join(", ")));
    }
    print(cli, &report, &lines);
    let failed = outcome.refused.is_some() || outcome.summary.failed > 0;
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn template(args: &TemplateArgs) -> Result<ExitCode, Failure> {
    let config = ImportConfig::from_path(&args.config)?;
    match args.format {
        TemplateFormat::Csv => {
            let file =
                std::fs::File::create(&args.output).map_err(|e| Failure(format!("{}: {e}", args.output.display())))?;
            write_csv_template(&config, file)?;
        }
        TemplateFormat::Xlsx => write_xlsx_template(&config, &args.output)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn users(cli: &Cli, args: &UsersArgs) -> Result<ExitCode, Failure> {
    if !args.db.exists() {
        return Err(Failure(format!("{}: no such database", args.db.display())));
    }
    let store = SqliteStore::open(&args.db)?;
    let listed = match &args.action {
        UsersAction::List { status: None } => store.list(0, usize::MAX)?,
        UsersAction::List { status: Some(status) } => {
            let status: Status = status.parse().map_err(|e: user_import::ParseEnumError| Failure(e.to_string()))?;
            store.list_by_status(status)?
        }
        UsersAction::Search { query } => store.search(query)?,
        UsersAction::Deactivate { login } => {
            return Ok(done(cli, store.deactivate(login)?, &format!("deactivated {login}"), login));
        }
        UsersAction::ResendInvitation { login } => {
            return Ok(done(
                cli,
                store.mark_invitation_resent(login)?,
                &format!("invitation to {login} marked as sent again"),
                login,
            ));
        }
    };
    if cli.json {
        let users: Vec<_> = listed.iter().map(|u| &u.user).collect();
        println!("{}", serde_json::to_string_pretty(&users).unwrap_or_default());
    } else if !cli.quiet {
        for stored in &listed {
            let user = &stored.user;
            println!(
                "{:<24} {:<28} {:<32} {}",
                user.login,
                user.full_name(),
                user.email.as_deref().unwrap_or(""),
                user.status
            );
        }
        println!("{} user(s)", listed.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn done(cli: &Cli, found: bool, message: &str, login: &str) -> ExitCode {
    if !found {
        eprintln!("user-import: there is no user '{login}'");
        return ExitCode::from(1);
    }
    if !cli.quiet {
        println!("{message}");
    }
    ExitCode::SUCCESS
}
