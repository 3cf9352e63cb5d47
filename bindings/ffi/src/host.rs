//! What the host implements (foreign traits: `Directory`, `UserStore`, `ProgressListener`,
//! `Rule`), the cancel token, and the adapters that turn them into the core's traits.
//!
//! Every callback returns `Result<_, HostError>`: an exception raised in Python or Kotlin
//! arrives here as an `Err` (never a panic), and the call that ran the callback fails with a
//! [`UserImportError`] carrying the host's text.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use user_import as core;

use crate::error::{directory_failed, lock, store_failed, HostError, UserImportError};
use crate::records::{CustomFieldSpec, ImportLogEntry, Severity, User, ValidRecord};

/// The host's existing users, looked up in batches (a few hundred to a thousand keys a call).
///
/// Return the users found, in any order; keys not found are simply absent. Logins and emails are
/// compared ignoring case and surrounding spaces. Raise `HostError.Failed` (or any exception) when
/// the lookup cannot be done: the run stops with `UserImportError.Directory`.
#[uniffi::export(with_foreign)]
pub trait Directory: Any + Send + Sync {
    /// The existing users with these logins.
    fn find_by_logins(&self, logins: Vec<String>) -> Result<Vec<User>, HostError>;
    /// The existing users with these email addresses.
    fn find_by_emails(&self, emails: Vec<String>) -> Result<Vec<User>, HostError>;
}

/// The host's own persistence: a plan is applied to it in one transaction.
///
/// Called in this order: `begin`, then any of `add_custom_fields`, `create_groups`,
/// `create_users` (superiors always before their subordinates), `update_users`, `log_import`,
/// and finally `commit` — or `rollback` when anything failed. Users are matched by login,
/// ignoring case; `password_hash` is an argon2id hash, or none (the user is invited; on update:
/// keep the stored password). The lookups are those of a [`Directory`]: before writing, the
/// import checks through them that the users did not change since the plan was made.
#[uniffi::export(with_foreign)]
pub trait UserStore: Send + Sync {
    /// The stored users with these logins.
    fn find_by_logins(&self, logins: Vec<String>) -> Result<Vec<User>, HostError>;
    /// The stored users with these email addresses.
    fn find_by_emails(&self, emails: Vec<String>) -> Result<Vec<User>, HostError>;
    /// Starts the import's transaction.
    fn begin(&self) -> Result<(), HostError>;
    /// Creates users.
    fn create_users(&self, users: Vec<User>) -> Result<(), HostError>;
    /// Replaces every stored field of these existing users.
    fn update_users(&self, users: Vec<User>) -> Result<(), HostError>;
    /// Creates groups that do not exist yet.
    fn create_groups(&self, groups: Vec<String>) -> Result<(), HostError>;
    /// Adds custom fields to every user of the store.
    fn add_custom_fields(&self, fields: Vec<CustomFieldSpec>) -> Result<(), HostError>;
    /// Records the import in the store's log.
    fn log_import(&self, entry: ImportLogEntry) -> Result<(), HostError>;
    /// Makes everything since `begin` durable and visible.
    fn commit(&self) -> Result<(), HostError>;
    /// Forgets everything since `begin`.
    fn rollback(&self) -> Result<(), HostError>;
}

/// Told how far a run has read, a few times a second at most (never per row).
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `rows` data rows have been read so far; return `false` to cancel the run.
    fn rows_read(&self, rows: u64) -> Result<bool, HostError>;
}

/// An issue a host rule reports.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RuleIssue {
    /// A built-in code, or the host's own as `custom:<name>` (a bare name gets the prefix).
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// Error (the row is refused) or warning.
    pub severity: Severity,
    /// The field concerned (`email`, `custom:department`): its column is filled in.
    #[uniffi(default = None)]
    pub field: Option<String>,
    /// The row, for table rules (row rules get the row of the record they check).
    #[uniffi(default = None)]
    pub row: Option<u64>,
}

/// A host's own check, run with the built-in ones. Each call crosses the boundary, so keep
/// rules for files of modest size, or make them table rules (one call per file).
#[uniffi::export(with_foreign)]
pub trait Rule: Send + Sync {
    /// Checks a row that passed every built-in check.
    fn check_row(&self, record: ValidRecord) -> Result<Vec<RuleIssue>, HostError>;
    /// Checks all valid rows together, after the cross-row checks.
    fn check_table(&self, records: Vec<ValidRecord>) -> Result<Vec<RuleIssue>, HostError>;
}

/// Cancels a run from any thread: the run stops within a fraction of a second with
/// `UserImportError.Cancelled`.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    cancelled: AtomicBool,
}

#[uniffi::export]
impl CancelToken {
    /// A token not cancelled yet.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelToken::default())
    }

    /// Asks every run given this token to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// True once `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// The first failure a callback reported during a run (the core's traits cannot return one).
#[derive(Debug, Default)]
pub(crate) struct FailureSlot(Mutex<Option<String>>);

impl FailureSlot {
    fn record(&self, failure: String) {
        let mut slot = lock(&self.0);
        if slot.is_none() {
            *slot = Some(failure);
        }
    }

    pub(crate) fn take(&self) -> Option<String> {
        lock(&self.0).take()
    }
}

/// The progress of one run: the host's listener and the cancel token, as the core's `Progress`.
pub(crate) struct RunProgress {
    listener: Option<Arc<dyn ProgressListener>>,
    cancel: Option<Arc<CancelToken>>,
    pub(crate) failure: FailureSlot,
}

impl RunProgress {
    pub(crate) fn new(listener: Option<Arc<dyn ProgressListener>>, cancel: Option<Arc<CancelToken>>) -> Option<Self> {
        (listener.is_some() || cancel.is_some()).then(|| RunProgress {
            listener,
            cancel,
            failure: FailureSlot::default(),
        })
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|token| token.is_cancelled())
    }
}

impl core::Progress for RunProgress {
    fn rows_read(&self, rows: u64) -> bool {
        if self.is_cancelled() {
            return false;
        }
        let keep_going = match &self.listener {
            None => true,
            Some(listener) => match listener.rows_read(rows) {
                Ok(keep_going) => keep_going,
                Err(err) => {
                    self.failure.record(format!("the progress listener raised: {err}"));
                    false
                }
            },
        };
        // The listener may have cancelled the token itself.
        keep_going && !self.is_cancelled()
    }
}

/// A host rule as the core's `Rule`; its failures wait in a slot for the end of the run.
pub(crate) struct HostRule {
    rule: Arc<dyn Rule>,
    pub(crate) failure: Arc<FailureSlot>,
}

impl HostRule {
    pub(crate) fn new(rule: Arc<dyn Rule>) -> Self {
        HostRule { rule, failure: Arc::new(FailureSlot::default()) }
    }

    fn issues(&self, result: Result<Vec<RuleIssue>, HostError>, row: Option<u64>) -> Vec<core::Issue> {
        match result {
            Ok(issues) => issues.into_iter().map(|issue| rule_issue(issue, row)).collect(),
            Err(err) => {
                self.failure.record(format!("a rule raised: {err}"));
                Vec::new()
            }
        }
    }
}

fn valid_record(record: &core::UserRecord) -> ValidRecord {
    ValidRecord { row: record.row(), user: User::preview(&record.to_user()) }
}

fn rule_issue(issue: RuleIssue, row: Option<u64>) -> core::Issue {
    let code = match issue.code.parse::<core::IssueCode>() {
        Ok(code) => code,
        Err(_) => core::IssueCode::Custom(issue.code.trim().trim_start_matches("custom:").to_string()),
    };
    let mut out = core::Issue::new(code, issue.severity.into(), issue.message);
    if let Some(row) = issue.row.or(row) {
        out = out.at_row(row);
    }
    if let Some(field) = issue.field {
        out = out.for_field(field);
    }
    out
}

impl core::Rule for HostRule {
    fn check_row(&self, record: &core::UserRecord) -> Vec<core::Issue> {
        self.issues(self.rule.check_row(valid_record(record)), Some(record.row()))
    }

    fn check_table(&self, records: &[core::UserRecord]) -> Vec<core::Issue> {
        self.issues(self.rule.check_table(records.iter().map(valid_record).collect()), None)
    }
}

/// Users from a host, checked and converted; `what` names the failure's kind.
fn core_users(users: Vec<User>, fail: fn(String) -> core::Error) -> core::Result<Vec<core::User>> {
    users.into_iter().map(|user| user.into_core().map_err(fail)).collect()
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|key| (*key).to_string()).collect()
}

/// A host `Directory` as the core's.
pub(crate) struct HostDirectory<'a>(pub(crate) &'a dyn Directory);

impl core::Directory for HostDirectory<'_> {
    fn find_by_logins(&self, logins: &[&str]) -> core::Result<Vec<core::User>> {
        let users = self.0.find_by_logins(keys(logins)).map_err(directory_failed)?;
        core_users(users, directory_failed)
    }

    fn find_by_emails(&self, emails: &[&str]) -> core::Result<Vec<core::User>> {
        let users = self.0.find_by_emails(keys(emails)).map_err(directory_failed)?;
        core_users(users, directory_failed)
    }
}

/// A host `UserStore` as the core's.
pub(crate) struct HostStore<'a>(pub(crate) &'a dyn UserStore);

impl core::Directory for HostStore<'_> {
    fn find_by_logins(&self, logins: &[&str]) -> core::Result<Vec<core::User>> {
        let users = self.0.find_by_logins(keys(logins)).map_err(store_failed)?;
        core_users(users, store_failed)
    }

    fn find_by_emails(&self, emails: &[&str]) -> core::Result<Vec<core::User>> {
        let users = self.0.find_by_emails(keys(emails)).map_err(store_failed)?;
        core_users(users, store_failed)
    }
}

impl core::UserStore for HostStore<'_> {
    fn begin(&mut self) -> core::Result<()> {
        self.0.begin().map_err(store_failed)
    }

    fn create_users(&mut self, users: &[core::User]) -> core::Result<()> {
        self.0.create_users(users.iter().map(User::from_core).collect()).map_err(store_failed)
    }

    fn update_users(&mut self, users: &[core::User]) -> core::Result<()> {
        self.0.update_users(users.iter().map(User::from_core).collect()).map_err(store_failed)
    }

    fn create_groups(&mut self, groups: &[String]) -> core::Result<()> {
        self.0.create_groups(groups.to_vec()).map_err(store_failed)
    }

    fn add_custom_fields(&mut self, fields: &[core::CustomField]) -> core::Result<()> {
        self.0.add_custom_fields(fields.iter().map(CustomFieldSpec::from).collect()).map_err(store_failed)
    }

    fn log_import(&mut self, entry: &core::ImportLogEntry) -> core::Result<()> {
        self.0.log_import(ImportLogEntry::from(entry)).map_err(store_failed)
    }

    fn commit(&mut self) -> core::Result<()> {
        self.0.commit().map_err(store_failed)
    }

    fn rollback(&mut self) -> core::Result<()> {
        self.0.rollback().map_err(store_failed)
    }
}

/// Runs `f` with a directory as the core sees it: the built-in ones directly (so that a plan made
/// against the SQLite store carries that store's own fingerprint), a host's through the adapter,
/// none as an empty directory.
pub(crate) fn with_directory<T>(
    directory: Option<&Arc<dyn Directory>>,
    f: impl FnOnce(&dyn core::Directory) -> Result<T, UserImportError>,
) -> Result<T, UserImportError> {
    let Some(directory) = directory else {
        return f(&core::MemoryDirectory::new());
    };
    let any: &dyn Any = &**directory;
    if let Some(sqlite) = any.downcast_ref::<crate::store::SqliteDirectory>() {
        let store = lock(&sqlite.store.inner);
        return f(&*store);
    }
    if let Some(memory) = any.downcast_ref::<crate::store::MemoryDirectory>() {
        return f(&memory.inner);
    }
    f(&HostDirectory(&**directory))
}

#[cfg(test)]
mod tests {
    use super::*;
    use user_import::Progress as _;

    #[test]
    fn rule_issues_keep_built_in_codes_and_prefix_the_host_ones() {
        let issue = |code: &str| RuleIssue {
            code: code.into(),
            message: "m".into(),
            severity: Severity::Warning,
            field: Some("email".into()),
            row: None,
        };
        let built_in = rule_issue(issue("invalid_email"), Some(4));
        assert_eq!((built_in.code, built_in.row), (core::IssueCode::InvalidEmail, Some(4)));
        assert_eq!(rule_issue(issue("max_admins"), None).code.to_string(), "custom:max_admins");
        assert_eq!(rule_issue(issue("custom:max_admins"), None).code.to_string(), "custom:max_admins");
        assert_eq!(rule_issue(issue("x"), None).severity, core::Severity::Warning);
    }

    struct Raising;

    impl ProgressListener for Raising {
        fn rows_read(&self, _rows: u64) -> Result<bool, HostError> {
            Err(HostError::Unexpected { detail: "ValueError('bar')".into() })
        }
    }

    #[test]
    fn a_failing_listener_stops_the_run_and_keeps_its_message() {
        let progress = RunProgress::new(Some(Arc::new(Raising)), None).expect("a progress");
        assert!(!progress.rows_read(10));
        assert!(progress.failure.take().is_some_and(|f| f.contains("ValueError('bar')")));
        let token = CancelToken::new();
        let progress = RunProgress::new(None, Some(Arc::clone(&token))).expect("a progress");
        assert!(progress.rows_read(10));
        token.cancel();
        assert!(!progress.rows_read(20) && progress.is_cancelled());
        assert!(RunProgress::new(None, None).is_none());
    }
}
