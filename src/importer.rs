//! The one-call facade over the stages.

use std::path::Path;
use std::sync::Arc;

use crate::config::ImportConfig;
use crate::directory::Directory;
use crate::error::Result;
use crate::mapping::Mapping;
use crate::report::Report;
use crate::schema::{normalize_name, Field, Target};
use crate::source::{SourceBuilder, Table};
use crate::validate::{RowOutcome, Rule, Validation, Validator};

/// Runs the stages with one configuration: `validate_path` for the common case, or the stages
/// one by one ([`Importer::open`], [`Importer::map`], [`Importer::validate`]) to inspect or change
/// what each produced.
///
/// ```
/// use user_import::{Field, ImportConfig, Importer, MemoryDirectory, Schema};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let mut config = ImportConfig::default();
/// config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Email]);
/// let importer = Importer::new(config);
/// let csv = "first name,last name,email\nAda,Lovelace,ada@example.com\nGrace,Hopper,grace@\n";
/// let validation = importer.validate_bytes(csv, &MemoryDirectory::new())?;
/// assert_eq!((validation.valid(), validation.invalid()), (1, 1));
/// assert_eq!(
///     validation.issues()[0].to_string(),
///     "row 3, column 'email': 'grace@' is not an email address"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Importer {
    config: Arc<ImportConfig>,
    rules: Vec<Arc<dyn Rule>>,
    progress: Option<Arc<dyn crate::validate::Progress>>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer").field("config", &self.config).field("rules", &self.rules.len()).finish()
    }
}

impl Importer {
    /// An importer for this configuration.
    pub fn new(config: ImportConfig) -> Self {
        Importer { config: Arc::new(config), rules: Vec::new(), progress: None }
    }

    /// Adds a host rule, run with the built-in checks.
    #[must_use]
    pub fn with_rule(mut self, rule: impl Rule + 'static) -> Self {
        self.rules.push(Arc::new(rule));
        self
    }

    /// Reports progress (rows read, a few times a second) and lets the listener cancel.
    #[must_use]
    pub fn with_progress(mut self, progress: Arc<dyn crate::validate::Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ImportConfig {
        &self.config
    }

    /// The parse-stage options of this configuration: sheet, header row, limits, and the column
    /// names the header row is recognised by.
    pub fn source_builder(&self) -> SourceBuilder {
        let mut builder = SourceBuilder::new();
        let options = &self.config.options;
        builder.sheet(options.sheet.clone()).header_row(options.header_row).limits(options.limits.clone());
        let mut names: Vec<String> = crate::schema::builtin_header_names();
        for spec in &self.config.schema.fields {
            names.push(normalize_name(spec.label()));
            names.extend(spec.aliases.iter().map(|a| normalize_name(a)));
        }
        for product in &self.config.catalog.products {
            names.push(normalize_name(product.name()));
            names.push(normalize_name(product.id()));
        }
        for custom in &self.config.schema.custom_fields {
            names.push(normalize_name(custom.label()));
            names.push(normalize_name(&custom.name));
            names.extend(custom.aliases.iter().map(|a| normalize_name(a)));
        }
        builder.header_names(names);
        builder
    }

    /// Parse stage: opens a file.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Table> {
        self.source_builder().from_path(path)
    }

    /// Map stage: maps a table's header.
    pub fn map(&self, table: &Table) -> Result<Mapping> {
        Mapping::new(table.headers(), &self.config)
    }

    /// A validator for a table and a (possibly edited) mapping, with this importer's rules.
    pub fn validator(&self, table: &Table, mapping: Mapping) -> Validator {
        let mut validator = Validator::new(Arc::clone(&self.config), mapping, table.headers().to_vec());
        for rule in &self.rules {
            validator.add_rule(Arc::clone(rule));
        }
        if let Some(progress) = &self.progress {
            validator.set_progress(Arc::clone(progress));
        }
        validator
    }

    /// Validate stage over a table, with a mapping.
    pub fn validate(&self, table: &mut Table, mapping: Mapping, directory: &dyn Directory) -> Result<Validation> {
        self.validator(table, mapping).validate(table, directory)
    }

    /// Parse, map and validate a file in one call.
    pub fn validate_path(&self, path: impl AsRef<Path>, directory: &dyn Directory) -> Result<Validation> {
        self.on_path(path.as_ref(), |table, mapping| self.validate(table, mapping, directory))
    }

    /// Parse, map and validate bytes in memory (an upload) in one call.
    pub fn validate_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        &self,
        bytes: B,
        directory: &dyn Directory,
    ) -> Result<Validation> {
        self.on_bytes(bytes, |table, mapping| self.validate(table, mapping, directory))
    }

    /// Parse, map and validate a file for its report only: the issues and counts of
    /// [`Importer::validate_path`], without keeping the valid records (the 1M-row bench file
    /// peaks at 124 MiB instead of 173 MiB). What an admin checking a file before importing it
    /// wants; to plan the import, validate with [`Importer::validate_path`] or
    /// [`Importer::plan_path`].
    ///
    /// ```
    /// use user_import::{ImportConfig, Importer, MemoryDirectory};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let importer = Importer::new(ImportConfig::default());
    /// let report = importer.check_path("examples/data/users.csv", &MemoryDirectory::new())?;
    /// assert_eq!((report.summary.rows, report.summary.valid), (5, 5));
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_path(&self, path: impl AsRef<Path>, directory: &dyn Directory) -> Result<Report> {
        self.on_path(path.as_ref(), |table, mapping| self.check(table, mapping, directory))
    }

    /// [`Importer::check_path`] for bytes in memory (an upload).
    ///
    /// ```
    /// use user_import::{ImportConfig, Importer, MemoryDirectory};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let importer = Importer::new(ImportConfig::default());
    /// let csv = "Login,First Name,Last Name,Email\nada,Ada,Lovelace,ada@example.com\nbob,Bob,B,bob@\n";
    /// let report = importer.check_bytes(csv, &MemoryDirectory::new())?;
    /// assert_eq!((report.summary.rows, report.summary.valid, report.summary.invalid), (2, 1, 1));
    /// assert_eq!(report.issues[0].to_string(), "row 3, column 'Email': 'bob@' is not an email address");
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        &self,
        bytes: B,
        directory: &dyn Directory,
    ) -> Result<Report> {
        self.on_bytes(bytes, |table, mapping| self.check(table, mapping, directory))
    }

    /// Opens and maps a file, then runs `stage` on it; the stage's errors name the file.
    fn on_path<T>(&self, path: &Path, stage: impl FnOnce(&mut Table, Mapping) -> Result<T>) -> Result<T> {
        let mut table = self.open(path)?;
        let mapping = self.map(&table)?;
        stage(&mut table, mapping).map_err(|e| e.with_file(path.display().to_string()))
    }

    /// Opens and maps bytes in memory, then runs `stage` on them.
    fn on_bytes<B: AsRef<[u8]> + Send + Sync + 'static, T>(
        &self,
        bytes: B,
        stage: impl FnOnce(&mut Table, Mapping) -> Result<T>,
    ) -> Result<T> {
        let mut table = self.source_builder().from_bytes(bytes)?;
        let mapping = self.map(&table)?;
        stage(&mut table, mapping)
    }

    /// [`Importer::check_path`] for a table opened and mapped by the caller (the stages one by
    /// one).
    pub fn check(&self, table: &mut Table, mapping: Mapping, directory: &dyn Directory) -> Result<Report> {
        let mut validator = self.validator(table, mapping);
        validator.keep_records(false);
        Ok(Report::from_validation(&validator.validate(table, directory)?))
    }

    /// Parse, map, validate and plan a file: the preview of an import (a dry run).
    pub fn plan_path(&self, path: impl AsRef<Path>, directory: &dyn Directory) -> Result<crate::plan::Plan> {
        let validation = self.validate_path(path, directory)?;
        crate::plan::Plan::new(validation, &self.config, directory)
    }

    /// Parse, map, validate and plan bytes in memory.
    pub fn plan_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        &self,
        bytes: B,
        directory: &dyn Directory,
    ) -> Result<crate::plan::Plan> {
        let validation = self.validate_bytes(bytes, directory)?;
        crate::plan::Plan::new(validation, &self.config, directory)
    }

    /// Checks one user typed into a form with exactly the checks of a bulk import.
    ///
    /// ```
    /// use user_import::{Field, ImportConfig, Importer, IssueCode, MemoryDirectory, Target};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let importer = Importer::new(ImportConfig::default());
    /// let form = [(Target::Field(Field::Login), "ada"), (Target::Field(Field::Email), "ada@")];
    /// let outcome = importer.check_user(&form, &MemoryDirectory::new())?;
    /// assert!(outcome.record.is_none());
    /// assert_eq!(outcome.issues[0].code, IssueCode::InvalidEmail);
    /// assert_eq!(outcome.issues[0].row, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_user(&self, values: &[(Target, &str)], directory: &dyn Directory) -> Result<RowOutcome> {
        Validator::check_form(Arc::clone(&self.config), values, directory)
    }

    /// The built-in fields this configuration expects, for hosts that build forms.
    pub fn fields(&self) -> Vec<Field> {
        self.config.schema.field_specs().iter().map(|s| s.field).collect()
    }
}
