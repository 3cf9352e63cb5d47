//! The plan (the preview a person confirms) and applying it: to a host `UserStore`, or to the
//! built-in SQLite store.

use std::sync::Arc;

use user_import as core;

use crate::error::{lock, UserImportError};
use crate::host::{HostStore, UserStore};
use crate::records::{
    page, ApplyOptions, CustomFieldSpec, Issue, MappingEntry, PlanSummary, PlannedRow, PlannedWrite, RowOutcome,
    Summary, User,
};
use crate::report::Report;
use crate::store::SqliteStore;

/// What an import would do, row by row: create, update, unchanged, skip or fail, with the
/// reasons and, for updates, a field-by-field diff. Kept on the Rust side; read a page at a time.
#[derive(Debug, uniffi::Object)]
pub struct Plan {
    inner: core::Plan,
    config: Arc<core::ImportConfig>,
}

impl Plan {
    pub(crate) fn wrap(plan: core::Plan, config: Arc<core::ImportConfig>) -> Arc<Self> {
        Arc::new(Plan { inner: plan, config })
    }

    fn outcome(&self, outcome: core::Outcome) -> Arc<Outcome> {
        let report = core::Report::from_outcome(&self.inner, &outcome);
        Arc::new(Outcome { inner: outcome, report: Report::wrap(report, &self.config) })
    }
}

#[uniffi::export]
impl Plan {
    /// The counts.
    pub fn summary(&self) -> PlanSummary {
        let s = self.inner.summary();
        PlanSummary {
            rows: s.rows,
            valid: s.valid,
            invalid: s.invalid,
            create: s.create,
            update: s.update,
            unchanged: s.unchanged,
            skip: s.skip,
            fail: s.fail,
            invitations: s.invitations,
            issues: self.inner.issue_count() as u64,
            can_import: self.inner.can_import(),
        }
    }

    /// A page of the rows, in file order.
    pub fn rows(&self, offset: u64, limit: u64) -> Vec<PlannedRow> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        self.inner.rows().skip(offset).take(limit).map(PlannedRow::from).collect()
    }

    /// A page of the rows that update a user, in file order, with their changes: a dry run's
    /// list of updates without paging through every row of the file.
    pub fn updates(&self, offset: u64, limit: u64) -> Vec<PlannedRow> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        self.inner.updates().skip(offset).take(limit).map(PlannedRow::from).collect()
    }

    /// A page of the issues: validation, hierarchy and plan, file-level first, then by row.
    pub fn issues(&self, offset: u64, limit: u64) -> Vec<Issue> {
        page(self.inner.issues(), offset, limit, Issue::from)
    }

    /// The user a row writes (create or update) as the preview shows it (no password).
    pub fn user(&self, row: u64) -> Option<User> {
        self.inner.user(row).as_ref().map(User::preview)
    }

    /// A page of the users to write, in creation order (every superior before its subordinates).
    pub fn writes(&self, offset: u64, limit: u64) -> Vec<PlannedWrite> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        self.inner
            .writes()
            .skip(offset)
            .take(limit)
            .map(|(row, action, user)| PlannedWrite { row, action: action.into(), user: User::preview(&user) })
            .collect()
    }

    /// The logins of the new users to invite (no password), in creation order.
    pub fn invitations(&self) -> Vec<String> {
        self.inner.invitations()
    }

    /// The groups the import creates.
    pub fn groups_to_create(&self) -> Vec<String> {
        self.inner.groups_to_create().to_vec()
    }

    /// The custom fields the store gets.
    pub fn custom_fields(&self) -> Vec<CustomFieldSpec> {
        self.inner.custom_fields().iter().map(CustomFieldSpec::from).collect()
    }

    /// True when nothing at file level blocks the import.
    pub fn can_import(&self) -> bool {
        self.inner.can_import()
    }

    /// The mapping of the file's columns the plan was made from.
    pub fn mapping(&self) -> Vec<MappingEntry> {
        self.inner.mapping().columns().iter().map(MappingEntry::from).collect()
    }

    /// The report of this plan (a dry run).
    pub fn report(&self) -> Arc<Report> {
        Report::wrap(core::Report::from_plan(&self.inner), &self.config)
    }

    /// Applies the plan to a host's store, in one transaction (`begin` … `commit`, or `rollback`
    /// on any failure). Refused with `StalePlan` when the store's users changed since the plan was
    /// made; a store callback that raises ends as `UserImportError.Store`.
    pub fn apply(&self, store: Arc<dyn UserStore>, options: ApplyOptions) -> Result<Arc<Outcome>, UserImportError> {
        let mut store = HostStore(&*store);
        let outcome = core::apply(&self.inner, &mut store, &options.to_core())?;
        Ok(self.outcome(outcome))
    }

    /// Applies the plan to the built-in SQLite store.
    pub fn apply_sqlite(
        &self,
        store: Arc<SqliteStore>,
        options: ApplyOptions,
    ) -> Result<Arc<Outcome>, UserImportError> {
        let mut store = lock(&store.inner);
        let outcome = core::apply(&self.inner, &mut *store, &options.to_core())?;
        Ok(self.outcome(outcome))
    }
}

/// What applying a plan did: the counts, every row's result, and why nothing was written if so.
#[derive(Debug, uniffi::Object)]
pub struct Outcome {
    inner: core::Outcome,
    report: Arc<Report>,
}

#[uniffi::export]
impl Outcome {
    /// The counts; `created + updated + unchanged + skipped + failed == rows`.
    pub fn summary(&self) -> Summary {
        self.inner.summary.into()
    }

    /// Why nothing was written, when the error policy or the threshold refused the import.
    pub fn refused(&self) -> Option<String> {
        self.inner.refused.clone()
    }

    /// The logins of the new users to invite (no password).
    pub fn invitations(&self) -> Vec<String> {
        self.inner.invitations.clone()
    }

    /// A page of the rows' results, in file order.
    pub fn rows(&self, offset: u64, limit: u64) -> Vec<RowOutcome> {
        page(&self.inner.rows, offset, limit, |(row, result)| RowOutcome { row: *row, result: (*result).into() })
    }

    /// The report of this import.
    pub fn report(&self) -> Arc<Report> {
        Arc::clone(&self.report)
    }
}
