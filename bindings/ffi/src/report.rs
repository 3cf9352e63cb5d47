//! Reports of any stage, as JSON, CSV or an XLSX workbook a person fixes and imports again.

use std::sync::Arc;

use user_import as core;

use crate::error::UserImportError;
use crate::records::{page, Issue, ReportColumn, Summary};

/// The report of a validation, a plan or an import: counts, issues, mapping, custom fields.
#[derive(Debug, uniffi::Object)]
pub struct Report {
    inner: core::Report,
    source: core::SourceBuilder,
}

impl Report {
    pub(crate) fn wrap(report: core::Report, config: &core::ImportConfig) -> Arc<Self> {
        let source = core::Importer::new(config.clone()).source_builder();
        Arc::new(Report { inner: report, source })
    }

    fn create(path: &str) -> Result<std::fs::File, UserImportError> {
        std::fs::File::create(path).map_err(|err| UserImportError::write_failed(path, err))
    }
}

#[uniffi::export]
impl Report {
    /// The counts (a validation fills only rows, valid and invalid).
    pub fn summary(&self) -> Summary {
        self.inner.summary.into()
    }

    /// One line for a person, e.g. `1,204 rows: 1,180 created, 12 updated, 12 failed (…)`.
    pub fn describe(&self) -> String {
        self.inner.to_string()
    }

    /// A page of the issues.
    pub fn issues(&self, offset: u64, limit: u64) -> Vec<Issue> {
        page(&self.inner.issues, offset, limit, Issue::from)
    }

    /// Every column of the file and the field it maps to.
    pub fn mapping(&self) -> Vec<ReportColumn> {
        self.inner
            .mapping
            .iter()
            .map(|(column, field)| ReportColumn { column: column.clone(), field: field.clone() })
            .collect()
    }

    /// The headers of the unknown columns offered or accepted as custom fields.
    pub fn custom_fields(&self) -> Vec<String> {
        self.inner.custom_fields.clone()
    }

    /// The report as JSON: `{"summary", "issues", "mapping", "custom_fields"}`.
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The issues as CSV, one line each (texts neutralised for spreadsheet programs).
    pub fn to_csv(&self) -> Result<String, UserImportError> {
        let mut out = Vec::new();
        self.inner.write_csv(&mut out).map_err(|err| UserImportError::write_failed("the CSV report", err))?;
        String::from_utf8(out).map_err(|err| UserImportError::write_failed("the CSV report", err))
    }

    /// Writes the JSON report to a file.
    pub fn write_json(&self, path: String) -> Result<(), UserImportError> {
        self.inner.write_json(Report::create(&path)?).map_err(|err| UserImportError::write_failed(&path, err))
    }

    /// Writes the CSV report to a file.
    pub fn write_csv(&self, path: String) -> Result<(), UserImportError> {
        self.inner.write_csv(Report::create(&path)?).map_err(|err| UserImportError::write_failed(&path, err))
    }

    /// Writes the XLSX report: the rows of `source` (the file that was imported) as they were
    /// sent, bad cells filled red with the reason in a note, an errors column, and a first
    /// summary sheet. A person fixes the red cells and imports the sheet again.
    pub fn write_xlsx(&self, source: String, path: String) -> Result<(), UserImportError> {
        Ok(self.inner.write_xlsx(source, &self.source, path)?)
    }
}
