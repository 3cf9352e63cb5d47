//! The importer and the stages up to validation: open (parse), map, validate, and the
//! hierarchy on its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use user_import as core;

use crate::config::ImportConfig;
use crate::error::{lock, UserImportError};
use crate::host::{with_directory, CancelToken, HostRule, PackedDirectory, ProgressListener, Rule, RunProgress};
use crate::plan::Plan;
use crate::records::{
    page, FormCheck, Issue, MappingEntry, SavedColumn, SavedMapping, SourceInfo, User, ValidRecord, ValidationSummary,
};
use crate::report::Report;

/// Runs an import with one configuration: a file path (or bytes, for uploads) in, a summary and
/// pages of issues and planned users out. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct Importer {
    config: Arc<core::ImportConfig>,
    rules: Vec<Arc<dyn Rule>>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer").field("config", &self.config).field("rules", &self.rules.len()).finish()
    }
}

/// One run's core importer, with the host's rules and progress as adapters whose failures are
/// read once the run is over.
struct Run {
    importer: core::Importer,
    rules: Vec<Arc<crate::host::FailureSlot>>,
    progress: Option<Arc<RunProgress>>,
}

impl Run {
    /// The run's result, with a host callback's failure (or a cancellation) taking precedence.
    fn finish<T>(&self, result: Result<T, core::Error>) -> Result<T, UserImportError> {
        if let Some(progress) = &self.progress {
            if let Some(failure) = progress.failure.take() {
                return Err(UserImportError::Callback { detail: failure });
            }
        }
        for slot in &self.rules {
            if let Some(failure) = slot.take() {
                return Err(UserImportError::Callback { detail: failure });
            }
        }
        Ok(result?)
    }

    fn check_not_cancelled(&self) -> Result<(), UserImportError> {
        match &self.progress {
            Some(progress) if progress.is_cancelled() => {
                Err(UserImportError::Cancelled { detail: "cancelled before it started".to_string() })
            }
            _ => Ok(()),
        }
    }
}

impl Importer {
    /// One call of the core importer with the host's directory, progress listener and cancel
    /// token: refused when already cancelled; a host callback's failure wins over the result.
    fn call<T>(
        &self,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
        f: impl FnOnce(&core::Importer, &dyn core::Directory) -> Result<T, core::Error>,
    ) -> Result<T, UserImportError> {
        let run = self.run(progress, cancel);
        run.check_not_cancelled()?;
        with_directory(directory.as_ref(), |dir| run.finish(f(&run.importer, dir)))
    }

    fn run(&self, progress: Option<Arc<dyn ProgressListener>>, cancel: Option<Arc<CancelToken>>) -> Run {
        let mut importer = core::Importer::new((*self.config).clone());
        let mut slots = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            let rule = HostRule::new(Arc::clone(rule));
            slots.push(Arc::clone(&rule.failure));
            importer = importer.with_rule(rule);
        }
        let progress = RunProgress::new(progress, cancel).map(Arc::new);
        if let Some(progress) = &progress {
            importer = importer.with_progress(Arc::clone(progress) as Arc<dyn core::Progress>);
        }
        Run { importer, rules: slots, progress }
    }

    fn core(&self) -> core::Importer {
        core::Importer::new((*self.config).clone())
    }

    fn validation(&self, validation: core::Validation) -> Arc<Validation> {
        Arc::new(Validation { inner: validation, config: Arc::clone(&self.config) })
    }

    fn plan_of(&self, plan: core::Plan) -> Arc<Plan> {
        Plan::wrap(plan, Arc::clone(&self.config))
    }
}

#[uniffi::export]
impl Importer {
    /// An importer for this configuration (a copy of it is taken).
    #[uniffi::constructor]
    pub fn new(config: Arc<ImportConfig>) -> Result<Arc<Self>, UserImportError> {
        let config = config.snapshot();
        config.check()?;
        Ok(Arc::new(Importer { config: Arc::new(config), rules: Vec::new() }))
    }

    /// An importer for a TOML configuration.
    #[uniffi::constructor]
    pub fn from_toml(text: String) -> Result<Arc<Self>, UserImportError> {
        Importer::new(ImportConfig::from_toml(text)?)
    }

    /// An importer for a JSON configuration.
    #[uniffi::constructor]
    pub fn from_json(text: String) -> Result<Arc<Self>, UserImportError> {
        Importer::new(ImportConfig::from_json(text)?)
    }

    /// An importer for a `.toml` or `.json` configuration file.
    #[uniffi::constructor]
    pub fn from_path(path: String) -> Result<Arc<Self>, UserImportError> {
        Importer::new(ImportConfig::from_path(path)?)
    }

    /// A copy of the configuration.
    pub fn config(&self) -> Arc<ImportConfig> {
        ImportConfig::wrap((*self.config).clone())
    }

    /// A new importer that also runs this host rule.
    pub fn with_rule(&self, rule: Arc<dyn Rule>) -> Arc<Importer> {
        let mut rules = self.rules.clone();
        rules.push(rule);
        Arc::new(Importer { config: Arc::clone(&self.config), rules })
    }

    /// The keys of the built-in fields this configuration expects (for hosts that build forms).
    pub fn fields(&self) -> Vec<String> {
        self.core().fields().iter().map(|f| f.key().to_string()).collect()
    }

    /// Parse stage: opens a file (the format is found from its content).
    pub fn open_path(&self, path: String) -> Result<Arc<Source>, UserImportError> {
        Ok(Source::wrap(self.core().open(path)?))
    }

    /// Parse stage: opens bytes in memory (an upload).
    pub fn open_bytes(&self, bytes: Vec<u8>) -> Result<Arc<Source>, UserImportError> {
        Ok(Source::wrap(self.core().source_builder().from_bytes(bytes)?))
    }

    /// Map stage: which column of the source holds which field.
    pub fn map(&self, source: Arc<Source>) -> Result<Arc<Mapping>, UserImportError> {
        Ok(Arc::new(Mapping { inner: Mutex::new(Mapping::of(&self.core(), &Mapping::headers_of(&source))?) }))
    }

    /// Validate stage over an opened source with a (possibly edited) mapping. A source is read
    /// once: open the file again to validate it again.
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn validate_source(
        &self,
        source: Arc<Source>,
        mapping: Arc<Mapping>,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Validation>, UserImportError> {
        let mut table = lock(&source.table).take().ok_or_else(|| {
            UserImportError::invalid_argument("this source has been read already; open the file again to read it again")
        })?;
        let mapping = lock(&mapping.inner).clone();
        let validation =
            self.call(directory, progress, cancel, |importer, dir| importer.validate(&mut table, mapping, dir))?;
        Ok(self.validation(validation))
    }

    /// Parses, maps and validates a file in one call.
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn validate_path(
        &self,
        path: String,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Validation>, UserImportError> {
        let validation = self.call(directory, progress, cancel, |importer, dir| importer.validate_path(&path, dir))?;
        Ok(self.validation(validation))
    }

    /// Parses, maps and validates bytes in memory (an upload) in one call.
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn validate_bytes(
        &self,
        bytes: Vec<u8>,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Validation>, UserImportError> {
        let validation = self.call(directory, progress, cancel, |importer, dir| importer.validate_bytes(bytes, dir))?;
        Ok(self.validation(validation))
    }

    /// Parses, maps and validates a file for its report only: the issues and counts of
    /// `validate_path`, without keeping the valid records (124 MiB instead of 173 MiB at the
    /// peak for a 1M-row file). To plan the import, validate with `validate_path` or plan with
    /// `plan_path`.
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn check_path(
        &self,
        path: String,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Report>, UserImportError> {
        let report = self.call(directory, progress, cancel, |importer, dir| importer.check_path(&path, dir))?;
        Ok(Report::wrap(report, &self.config))
    }

    /// `check_path` for bytes in memory (an upload).
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn check_bytes(
        &self,
        bytes: Vec<u8>,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Report>, UserImportError> {
        let report = self.call(directory, progress, cancel, |importer, dir| importer.check_bytes(bytes, dir))?;
        Ok(Report::wrap(report, &self.config))
    }

    /// Plan stage over a validation: what an import would do, row by row (a dry run).
    #[uniffi::method(default(directory = None))]
    pub fn plan(
        &self,
        validation: Arc<Validation>,
        directory: Option<Arc<dyn PackedDirectory>>,
    ) -> Result<Arc<Plan>, UserImportError> {
        let plan = with_directory(directory.as_ref(), |dir| {
            Ok(core::Plan::new(validation.inner.clone(), &self.config, dir)?)
        })?;
        Ok(self.plan_of(plan))
    }

    /// Parses, maps, validates and plans a file: the preview of an import.
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn plan_path(
        &self,
        path: String,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Plan>, UserImportError> {
        let plan = self.call(directory, progress, cancel, |importer, dir| importer.plan_path(&path, dir))?;
        Ok(self.plan_of(plan))
    }

    /// Parses, maps, validates and plans bytes in memory.
    #[uniffi::method(default(directory = None, progress = None, cancel = None))]
    pub fn plan_bytes(
        &self,
        bytes: Vec<u8>,
        directory: Option<Arc<dyn PackedDirectory>>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Arc<Plan>, UserImportError> {
        let plan = self.call(directory, progress, cancel, |importer, dir| importer.plan_bytes(bytes, dir))?;
        Ok(self.plan_of(plan))
    }

    /// Checks one user typed into a form with exactly the checks of a bulk import. `values` maps
    /// a field (`login`, `email`, `product:hire`, `custom:department`) to what was typed.
    #[uniffi::method(default(directory = None))]
    pub fn check_user(
        &self,
        values: HashMap<String, String>,
        directory: Option<Arc<dyn PackedDirectory>>,
    ) -> Result<FormCheck, UserImportError> {
        let mut form = Vec::with_capacity(values.len());
        let mut sorted: Vec<(&String, &String)> = values.iter().collect();
        sorted.sort();
        for (field, value) in sorted {
            let target =
                field.parse::<core::Target>().map_err(|err| UserImportError::invalid_argument(err.to_string()))?;
            form.push((target, value.as_str()));
        }
        let outcome = self.call(directory, None, None, |importer, dir| importer.check_user(&form, dir))?;
        Ok(FormCheck {
            user: outcome.record.as_ref().map(|r| User::preview(&r.to_user())),
            issues: outcome.issues.iter().map(Issue::from).collect(),
        })
    }

    /// A CSV import template: the header in the configuration's labels and an example row.
    pub fn csv_template(&self) -> Result<String, UserImportError> {
        let mut out = Vec::new();
        core::write_csv_template(&self.config, &mut out)
            .map_err(|err| UserImportError::write_failed("the template", err))?;
        String::from_utf8(out).map_err(|err| UserImportError::write_failed("the template", err))
    }

    /// Writes the CSV import template to a file.
    pub fn write_csv_template(&self, path: String) -> Result<(), UserImportError> {
        let file = std::fs::File::create(&path).map_err(|err| UserImportError::write_failed(&path, err))?;
        core::write_csv_template(&self.config, file).map_err(|err| UserImportError::write_failed(&path, err))
    }

    /// Writes the XLSX import template (header, example row, drop-down lists, instructions).
    pub fn write_xlsx_template(&self, path: String) -> Result<(), UserImportError> {
        Ok(core::write_xlsx_template(&self.config, path)?)
    }
}

/// An opened file (parse stage): its header and what was found out about it; the rows are read
/// when it is validated.
#[derive(uniffi::Object)]
pub struct Source {
    table: Mutex<Option<core::Table>>,
    headers: Vec<String>,
    info: SourceInfo,
    issues: Vec<Issue>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source").field("headers", &self.headers).field("info", &self.info).finish_non_exhaustive()
    }
}

impl Source {
    fn wrap(table: core::Table) -> Arc<Self> {
        Arc::new(Source {
            headers: table.headers().to_vec(),
            info: table.info().into(),
            issues: table.issues().iter().map(Issue::from).collect(),
            table: Mutex::new(Some(table)),
        })
    }
}

#[uniffi::export]
impl Source {
    /// The header cells, in file order.
    pub fn headers(&self) -> Vec<String> {
        self.headers.clone()
    }

    /// The format, encoding, delimiter, sheet and header row found.
    pub fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    /// File-level issues found while opening it (warnings such as skipped title rows).
    pub fn issues(&self) -> Vec<Issue> {
        self.issues.clone()
    }
}

/// What each column of a file holds (map stage), editable as a person does with drop-downs.
#[derive(Debug, uniffi::Object)]
pub struct Mapping {
    pub(crate) inner: Mutex<core::Mapping>,
}

impl Mapping {
    fn headers_of(source: &Source) -> Vec<String> {
        source.headers.clone()
    }

    fn of(importer: &core::Importer, headers: &[String]) -> Result<core::Mapping, UserImportError> {
        Ok(core::Mapping::new(headers, importer.config())?)
    }
}

fn column_ref(column: &str) -> core::ColumnRef {
    core::ColumnRef::parse(column)
}

#[uniffi::export]
impl Mapping {
    /// Every column, in file order.
    pub fn columns(&self) -> Vec<MappingEntry> {
        lock(&self.inner).columns().iter().map(MappingEntry::from).collect()
    }

    /// Maps a column by hand: `column` is a header name or `#3` (the 3rd column), `target` a
    /// field, `product:<id>`, `custom:<name>`, or none to ignore the column.
    pub fn set(&self, column: String, target: Option<String>) -> Result<(), UserImportError> {
        let target = match target.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.eq_ignore_ascii_case("ignore") => None,
            Some(t) => {
                Some(t.parse::<core::Target>().map_err(|err| UserImportError::invalid_argument(err.to_string()))?)
            }
        };
        lock(&self.inner)
            .set(&column_ref(&column), target)
            .map_err(|err| UserImportError::invalid_argument(err.to_string()))
    }

    /// Accepts an unmapped column as a custom field named after its header.
    pub fn accept_custom(&self, column: String) -> Result<(), UserImportError> {
        lock(&self.inner)
            .accept_custom(&column_ref(&column))
            .map_err(|err| UserImportError::invalid_argument(err.to_string()))
    }

    /// Required fields no column provides.
    pub fn missing_required(&self) -> Vec<String> {
        lock(&self.inner).missing_required().iter().map(ToString::to_string).collect()
    }

    /// Unmapped columns with a header: candidates for custom fields.
    pub fn custom_candidates(&self) -> Vec<MappingEntry> {
        lock(&self.inner).custom_candidates().map(MappingEntry::from).collect()
    }

    /// File-level issues of the mapping (missing required fields, duplicate or unknown columns).
    pub fn issues(&self) -> Vec<Issue> {
        lock(&self.inner).issues().iter().map(Issue::from).collect()
    }

    /// True when nothing blocks the import.
    pub fn is_complete(&self) -> bool {
        lock(&self.inner).is_complete()
    }

    /// The signature of the header row: store a confirmed mapping under it.
    pub fn signature(&self) -> String {
        lock(&self.inner).signature().to_string()
    }

    /// The mapping as a host saves it.
    pub fn to_saved(&self) -> SavedMapping {
        let saved = lock(&self.inner).to_saved();
        SavedMapping {
            signature: saved.signature,
            columns: saved
                .columns
                .into_iter()
                .map(|(header, target)| SavedColumn { header, target: target.map(|t| t.to_string()) })
                .collect(),
        }
    }

    /// Reapplies a saved mapping if it was saved for this header; returns whether it applied.
    pub fn apply_saved(&self, saved: SavedMapping) -> Result<bool, UserImportError> {
        let mut columns = Vec::with_capacity(saved.columns.len());
        for column in saved.columns {
            let target = match column.target {
                None => None,
                Some(t) => {
                    Some(t.parse::<core::Target>().map_err(|err| UserImportError::invalid_argument(err.to_string()))?)
                }
            };
            columns.push((column.header, target));
        }
        // `SavedMapping` is non-exhaustive: build it through its serde form.
        let json = serde_json::json!({ "signature": saved.signature, "columns": columns });
        let saved: core::SavedMapping = serde_json::from_value(json)
            .map_err(|err| UserImportError::invalid_argument(format!("saved mapping: {err}")))?;
        Ok(lock(&self.inner).apply_saved(&saved))
    }
}

/// The result of the validate stage: counts, issues and valid records, kept on the Rust side
/// and read a page at a time.
#[derive(Debug, uniffi::Object)]
pub struct Validation {
    pub(crate) inner: core::Validation,
    config: Arc<core::ImportConfig>,
}

#[uniffi::export]
impl Validation {
    /// The counts.
    pub fn summary(&self) -> ValidationSummary {
        let issues = self.inner.issues();
        ValidationSummary {
            rows: self.inner.rows(),
            valid: self.inner.valid(),
            invalid: self.inner.invalid(),
            issues: issues.len() as u64,
            errors: issues.iter().filter(|i| i.is_error()).count() as u64,
            can_import: self.inner.can_import(),
        }
    }

    /// A page of issues, file-level first, then by row and column.
    pub fn issues(&self, offset: u64, limit: u64) -> Vec<Issue> {
        page(self.inner.issues(), offset, limit, Issue::from)
    }

    /// The issues of one row.
    pub fn issues_for_row(&self, row: u64) -> Vec<Issue> {
        self.inner.issues_for_row(row).iter().map(Issue::from).collect()
    }

    /// The number of issues of each code, e.g. `{"invalid_email": 8}`.
    pub fn counts_by_code(&self) -> HashMap<String, u64> {
        self.inner.counts_by_code().into_iter().map(|(code, n)| (code, n as u64)).collect()
    }

    /// A page of the valid rows, as users (no passwords).
    pub fn records(&self, offset: u64, limit: u64) -> Vec<ValidRecord> {
        page(self.inner.records(), offset, limit, |r| ValidRecord { row: r.row(), user: User::preview(&r.to_user()) })
    }

    /// A page of the row numbers of the invalid rows.
    pub fn invalid_rows(&self, offset: u64, limit: u64) -> Vec<u64> {
        page(self.inner.invalid_rows(), offset, limit, |r| *r)
    }

    /// The header cells of the file.
    pub fn headers(&self) -> Vec<String> {
        self.inner.headers().to_vec()
    }

    /// The mapping the rows were read with.
    pub fn mapping(&self) -> Vec<MappingEntry> {
        self.inner.mapping().columns().iter().map(MappingEntry::from).collect()
    }

    /// What the parse stage found out about the file.
    pub fn source_info(&self) -> Option<SourceInfo> {
        self.inner.info().map(SourceInfo::from)
    }

    /// The hierarchy of the valid rows: superiors resolved (in the file, or existing users of
    /// the directory), cycles and dangling references flagged, a creation order.
    #[uniffi::method(default(directory = None))]
    pub fn hierarchy(
        &self,
        directory: Option<Arc<dyn PackedDirectory>>,
    ) -> Result<crate::hierarchy::HierarchyResult, UserImportError> {
        let records = self.inner.records();
        let rows: Vec<crate::hierarchy::HierarchyRow> = records
            .iter()
            .map(|r| crate::hierarchy::HierarchyRow {
                row: r.row(),
                login: r.login().to_string(),
                superior: r.superior().map(str::to_string),
            })
            .collect();
        let in_file: std::collections::HashSet<String> = records.iter().map(|r| r.login_key()).collect();
        let mut outside: Vec<&str> =
            records.iter().filter_map(|r| r.superior()).filter(|s| !in_file.contains(&core::login_key(s))).collect();
        outside.sort_unstable();
        outside.dedup();
        let existing = with_directory(directory.as_ref(), |dir| {
            let mut found = Vec::new();
            for chunk in outside.chunks(1000) {
                found.extend(dir.find_by_logins(chunk)?.into_iter().map(|u| u.login));
            }
            Ok(found)
        })?;
        Ok(crate::hierarchy::resolve_hierarchy(rows, existing))
    }

    /// The report of this validation (JSON, CSV, XLSX).
    pub fn report(&self) -> Arc<Report> {
        Report::wrap(core::Report::from_validation(&self.inner), &self.config)
    }
}
