//! What the host implements (foreign traits: `PackedDirectory`, `UserStore`, `ProgressListener`,
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

/// Where a run looks existing users up, a batch of keys (up to a couple of thousand) a call: a
/// host's `Directory`, or a built-in one (`memory_directory`, `directory_from_path`,
/// `SqliteStore.as_directory()`).
///
/// Hosts implement `Directory` — `user_import.Directory` in Python, `org.userimport.Directory`
/// in Kotlin: `find_by_logins(list of logins) -> list of User` and `find_by_emails` — which
/// packs each batch into the form of this trait. Packing is what keeps a large directory cheap:
/// the generated code converts lists and records one value at a time (in Python 0.5–0.9 µs a key
/// and about 56 µs a `User`), whereas a packed batch crosses as two strings (in Python about
/// 0.03 µs a key and 1 µs a user).
///
/// The packed form, for a host that implements this trait itself:
/// * the keys: one string, one key a line (`\n`). Logins and emails never hold a line break
///   (the checks refuse control characters; a key that does is refused before any call), and
///   there is never a call without keys;
/// * the answer: the users found, in any order, as the JSON text of an array of users; keys not
///   found are simply absent. A user is an object with the fields of [`User`] (snake_case;
///   `login` and `status` required), or an array of all its fields in their order (what the
///   Python and Kotlin layers send: half the text, and faster to write).
///
/// Logins and emails are compared ignoring case and surrounding spaces. Raise `HostError.Failed`
/// (or any exception) when the lookup cannot be done: the run stops with
/// `UserImportError.Directory`, as it does when the answer is not such an array.
#[uniffi::export(with_foreign)]
pub trait PackedDirectory: Any + Send + Sync {
    /// The existing users with these logins (one a line), as a JSON array of users.
    fn find_packed_by_logins(&self, logins: String) -> Result<String, HostError>;
    /// The existing users with these email addresses (one a line), as a JSON array of users.
    fn find_packed_by_emails(&self, emails: String) -> Result<String, HostError>;
}

/// The host's own persistence: a plan is applied to it in one transaction.
///
/// Called in this order: `begin`, then any of `add_custom_fields`, `create_groups`,
/// `create_users` (superiors always before their subordinates), `update_users`, `log_import`,
/// and finally `commit` — or `rollback` when anything failed. Users are matched by login,
/// ignoring case; `password_hash` is an argon2id hash, or none (the user is invited; on update:
/// keep the stored password). The lookups are those of a `Directory`: before writing, the
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

/// The keys of one lookup in the packed form: one a line.
pub(crate) fn pack_keys(keys: &[&str]) -> Result<String, String> {
    match keys.iter().find(|key| key.contains('\n')) {
        Some(key) => Err(format!("cannot look up {key:?}: a login or an email address holds no line break")),
        None => Ok(keys.join("\n")),
    }
}

/// The keys of a packed lookup.
pub(crate) fn unpack_keys(keys: &str) -> Vec<&str> {
    keys.split('\n').collect()
}

/// The users of a packed answer (a JSON array of users), checked and converted.
pub(crate) fn unpack_users(json: &str) -> Result<Vec<core::User>, String> {
    let users: Vec<User> =
        serde_json::from_str(json).map_err(|err| format!("expected a JSON array of users: {err}"))?;
    users.into_iter().map(User::into_core).collect()
}

/// Users in the packed form of an answer.
pub(crate) fn pack_users(users: &[User]) -> Result<String, String> {
    serde_json::to_string(users).map_err(|err| format!("cannot pack users: {err}"))
}

/// A host's packed directory as the core's `Directory`.
pub(crate) struct HostDirectory<'a>(pub(crate) &'a dyn PackedDirectory);

impl HostDirectory<'_> {
    fn find(
        &self,
        keys: &[&str],
        lookup: impl FnOnce(&dyn PackedDirectory, String) -> Result<String, HostError>,
    ) -> core::Result<Vec<core::User>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let packed = pack_keys(keys).map_err(directory_failed)?;
        let answer = lookup(self.0, packed).map_err(directory_failed)?;
        unpack_users(&answer).map_err(directory_failed)
    }
}

impl core::Directory for HostDirectory<'_> {
    fn find_by_logins(&self, logins: &[&str]) -> core::Result<Vec<core::User>> {
        self.find(logins, |directory, keys| directory.find_packed_by_logins(keys))
    }

    fn find_by_emails(&self, emails: &[&str]) -> core::Result<Vec<core::User>> {
        self.find(emails, |directory, keys| directory.find_packed_by_emails(keys))
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
    directory: Option<&Arc<dyn PackedDirectory>>,
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

    /// A packed directory that answers every lookup with the same text and counts its calls.
    struct Canned(&'static str, Mutex<Vec<String>>);

    impl PackedDirectory for Canned {
        fn find_packed_by_logins(&self, logins: String) -> Result<String, HostError> {
            lock(&self.1).push(logins);
            Ok(self.0.to_string())
        }

        fn find_packed_by_emails(&self, emails: String) -> Result<String, HostError> {
            lock(&self.1).push(emails);
            Ok(self.0.to_string())
        }
    }

    fn lookup(answer: &'static str, keys: &[&str]) -> (core::Result<Vec<core::User>>, Vec<String>) {
        let canned = Canned(answer, Mutex::new(Vec::new()));
        let found = core::Directory::find_by_logins(&HostDirectory(&canned), keys);
        let calls = lock(&canned.1).clone();
        (found, calls)
    }

    #[test]
    fn packed_lookups_send_one_key_a_line_and_read_a_json_array_of_users() {
        let answer = r#"[{"login": "ada", "status": "ACTIVE", "email": "ada@example.com", "hq_role": "admin",
            "products": {"hire": {"ROLE": {"name": "Recruiter"}}, "pay": "GRANTED"},
            "custom": {"start": {"DATE": {"iso": "2020-01-01"}}, "remote": {"BOOLEAN": {"value": true}}}},
            {"login": "bob", "first_name": "Bob", "status": "disabled", "password_hash": null},
            ["carol", "Carol", "Shaw", "PENDING", "carol@example.com", ["Viewer"], "ada", "Europe/Paris", "BASIC",
             "10042", ["Sales"], {"hire": "NO_ACCESS"}, {"size": {"NUMBER": {"value": 4.5}}}, null]]"#;
        let (found, calls) = lookup(answer, &["ada", " Bob ", "carol@example.com"]);
        let found = found.expect("users");
        assert_eq!(calls, ["ada\n Bob \ncarol@example.com"]);
        assert_eq!(found.len(), 3);
        let carol = &found[2];
        assert_eq!(
            (carol.login.as_str(), carol.status, carol.superior.as_deref()),
            ("carol", core::Status::Pending, Some("ada"))
        );
        assert_eq!((carol.timezone, carol.hq_role), (Some(chrono_tz::Europe::Paris), Some(core::HqRole::Basic)));
        assert_eq!((carol.groups.len(), carol.products.len(), carol.custom.len()), (1, 1, 1));
        assert_eq!((found[0].hq_role, found[0].email.as_deref()), (Some(core::HqRole::Admin), Some("ada@example.com")));
        assert_eq!(found[0].products.len(), 2);
        assert_eq!(found[0].custom.len(), 2);
        assert_eq!((found[1].first_name.as_str(), found[1].status), ("Bob", core::Status::Disabled));

        // No keys, no call; an empty key is still a key.
        let (found, calls) = lookup("[]", &[]);
        assert!(found.expect("nothing").is_empty() && calls.is_empty());
        assert_eq!(lookup("[]", &[""]).1, [""]);
    }

    #[test]
    fn packed_lookups_refuse_line_breaks_and_answers_that_are_not_users() {
        let (found, calls) = lookup("[]", &["ada", "evil\nbob"]);
        assert!(found.expect_err("refused").to_string().contains("line break") && calls.is_empty());
        for answer in [
            "",
            "null",
            r#"["not a user"]"#,
            r#"[{"login": "ada"}]"#,
            r#"[{"login": "ada", "status": "ACTIVE", "frist_name": "Ada"}]"#,
            r#"[["ada", "Ada", "Lovelace", "ACTIVE", null, [], null, null, null, null, [], {}, {}, null, "extra"]]"#,
        ] {
            let err = lookup(answer, &["ada"]).0.expect_err(answer).to_string();
            assert!(err.contains("JSON array of users"), "{answer}: {err}");
        }
        // Never a password in a message, whether it is of the wrong type or not a hash.
        let err = lookup(r#"[{"login": "ada", "status": "ACTIVE", "password_hash": 12345678}]"#, &["ada"]).0;
        let err = err.expect_err("a number").to_string();
        assert!(err.contains("password_hash must be a string") && !err.contains("12345678"), "{err}");
        let err = lookup(r#"[{"login": "ada", "status": "ACTIVE", "password_hash": "hunter22"}]"#, &["ada"]).0;
        let err = err.expect_err("not a hash").to_string();
        assert!(err.contains("not a password hash") && !err.contains("hunter22"), "{err}");
    }

    #[test]
    fn users_packed_by_the_library_read_back_the_same() {
        let mut user = core::User::new("ada", "Ada", "Lovelace");
        user.email = Some("ada@example.com".into());
        user.hq_role = Some(core::HqRole::Basic);
        user.timezone = Some(chrono_tz::Europe::Paris);
        user.products.insert("hire".into(), core::ProductAccess::Role(core::Role::new("Recruiter")));
        user.custom.insert("size".into(), core::CustomValue::Number(4.5));
        let packed = pack_users(&[User::from_core(&user)]).expect("packed");
        let back = unpack_users(&packed).expect("read back");
        assert_eq!(back.len(), 1);
        assert_eq!(User::from_core(&back[0]), User::from_core(&user));
        assert_eq!(unpack_keys(&pack_keys(&["a", "", "b"]).expect("packed")), ["a", "", "b"]);
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
