//! The apply stage: a [`Plan`] written to a [`UserStore`], in one transaction (see [`apply`]).

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::issue::Issue;
use crate::model::User;
use crate::plan::{Action, Plan};
use crate::store::{hash_passwords, Argon2Params, ImportLogEntry, UserStore};

/// What to do when some rows fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorPolicy {
    /// Any failing row: nothing is written.
    #[default]
    AllOrNothing,
    /// The valid rows are written; failing rows and their subordinates are skipped.
    ContinueAsIs,
}

/// The most failures an import accepts before it refuses to write anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Threshold {
    /// Refuse when more rows than this fail.
    pub max_failed_rows: Option<u64>,
    /// Refuse when more than this percentage of the rows fail (0 to 100).
    pub max_failed_percent: Option<f64>,
}

impl Threshold {
    /// Refuse when more than `n` rows fail.
    pub fn max_rows(n: u64) -> Self {
        Threshold { max_failed_rows: Some(n), max_failed_percent: None }
    }

    /// Refuse when more than `percent` % of the rows fail.
    pub fn max_percent(percent: f64) -> Self {
        Threshold { max_failed_rows: None, max_failed_percent: Some(percent) }
    }
}

/// How a plan is applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// All-or-nothing (default) or continue as is.
    pub policy: ErrorPolicy,
    /// An optional failure threshold.
    pub threshold: Threshold,
    /// The password hashing parameters (argon2id).
    pub passwords: Argon2Params,
    /// The file's name, for the import log.
    pub file_name: Option<String>,
    /// The admin's comment, for the import log.
    pub comment: Option<String>,
    /// Users written per store call.
    pub batch_size: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            policy: ErrorPolicy::default(),
            threshold: Threshold::default(),
            passwords: Argon2Params::default(),
            file_name: None,
            comment: None,
            batch_size: 1000,
        }
    }
}

/// What happened to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RowResult {
    /// The user was created.
    Created,
    /// The user was updated.
    Updated,
    /// The user was already as the file says.
    Unchanged,
    /// A valid row that was not written (its superior failed, update-only mode, or nothing was
    /// written because of the error policy).
    Skipped,
    /// The row has an error.
    Failed,
}

/// The counts of an import, as the report's `summary` gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// Data rows in the file.
    pub rows: u64,
    /// Rows without a validation error.
    pub valid: u64,
    /// Rows with a validation error.
    pub invalid: u64,
    /// Users created.
    pub created: u64,
    /// Users updated.
    pub updated: u64,
    /// Rows already as the store has them.
    pub unchanged: u64,
    /// Valid rows not written.
    pub skipped: u64,
    /// Rows with an error.
    pub failed: u64,
}

impl Summary {
    /// Each count with its name in the report (`rows`, `valid`, … `failed`), in that order.
    pub(crate) fn named(&self) -> [(&'static str, u64); 8] {
        // Taken apart whole: a count added to the struct does not compile until it is named here.
        let Summary { rows, valid, invalid, created, updated, unchanged, skipped, failed } = *self;
        [
            ("rows", rows),
            ("valid", valid),
            ("invalid", invalid),
            ("created", created),
            ("updated", updated),
            ("unchanged", unchanged),
            ("skipped", skipped),
            ("failed", failed),
        ]
    }
}

/// What an apply did: every row's result, the counts, and why nothing was written if so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The counts; `created + updated + unchanged + skipped + failed == rows`.
    pub summary: Summary,
    /// Every row's result, in file order.
    pub rows: Vec<(u64, RowResult)>,
    /// Why nothing was written, when the error policy or the threshold refused the import.
    pub refused: Option<String>,
    /// The logins of the new users to invite (no password).
    pub invitations: Vec<String>,
    /// The plan's issues.
    pub issues: Vec<Issue>,
}

/// Applies a plan to a store, in one transaction.
///
/// Two error policies: **all-or-nothing** (the default: any row that fails means nothing is
/// written) and **continue as is** (the valid rows are written; invalid rows, and rows whose
/// superior failed, are skipped and reported), plus an optional threshold (refuse when more than
/// N rows, or P% of the rows, fail). A plan carries a fingerprint of the directory state it was
/// computed against: if the store's users changed since, the plan is refused rather than
/// overwriting newer data. Applying a plan whose rows are all unchanged writes nothing at all,
/// so importing the same file twice leaves the store untouched the second time.
///
/// Returns an error (and writes nothing) when the store's users changed since the plan was made,
/// or when the store fails — in which case its transaction is rolled back.
pub fn apply(plan: &Plan, store: &mut dyn UserStore, options: &ApplyOptions) -> Result<Outcome> {
    let planned = plan.summary();
    let mut outcome = Outcome {
        summary: Summary { rows: planned.rows, valid: planned.valid, invalid: planned.invalid, ..Summary::default() },
        rows: Vec::with_capacity(planned.rows as usize),
        refused: refusal(plan, options),
        invitations: Vec::new(),
        issues: plan.collect_issues(),
    };
    let write = outcome.refused.is_none();
    for row in plan.rows() {
        let result = match (row.action, write) {
            (Action::Create, true) => RowResult::Created,
            (Action::Update, true) => RowResult::Updated,
            (Action::Unchanged, _) => RowResult::Unchanged,
            (Action::Fail, _) => RowResult::Failed,
            _ => RowResult::Skipped,
        };
        let counter = match result {
            RowResult::Created => &mut outcome.summary.created,
            RowResult::Updated => &mut outcome.summary.updated,
            RowResult::Unchanged => &mut outcome.summary.unchanged,
            RowResult::Skipped => &mut outcome.summary.skipped,
            RowResult::Failed => &mut outcome.summary.failed,
        };
        *counter += 1;
        outcome.rows.push((row.row, result));
    }
    if !write || (planned.create == 0 && planned.update == 0) {
        // Nothing to write: not even a transaction (a re-import changes nothing at all).
        return Ok(outcome);
    }

    // The plan is checked against the store inside the transaction: another import that commits
    // between a check and the `begin` would otherwise be overwritten (or its new users created
    // twice) by this stale plan. A stale plan, a failed write or a failed commit all end with a
    // rollback, so that no host store is left in an open transaction; the store's own error is
    // the one to report (a failed rollback is secondary).
    store.begin()?;
    let written = match plan.fingerprint_of(&*store) {
        Ok(fingerprint) if fingerprint != plan.fingerprint() => Err(ErrorKind::StalePlan.into()),
        Ok(_) => write_plan(plan, store, options, &outcome.summary).and_then(|()| store.commit()),
        Err(err) => Err(err),
    };
    if let Err(err) = written {
        let _ = store.rollback();
        return Err(err);
    }
    outcome.invitations = plan.invitations();
    Ok(outcome)
}

/// Why the error policy or the threshold refuse the plan, if they do.
fn refusal(plan: &Plan, options: &ApplyOptions) -> Option<String> {
    let summary = plan.summary();
    if !plan.can_import() {
        return Some("the file cannot be imported as it is (see the file-level issues); nothing was written".into());
    }
    if let Some(max) = options.threshold.max_failed_rows {
        if summary.fail > max {
            return Some(format!("{} rows fail, more than the {max} allowed; nothing was written", summary.fail));
        }
    }
    if let Some(max) = options.threshold.max_failed_percent {
        let percent = if summary.rows == 0 { 0.0 } else { summary.fail as f64 * 100.0 / summary.rows as f64 };
        if percent > max {
            return Some(format!("{percent:.1}% of the rows fail, more than the {max}% allowed; nothing was written"));
        }
    }
    if options.policy == ErrorPolicy::AllOrNothing && summary.fail > 0 {
        return Some(format!(
            "{} row(s) fail and the import is all-or-nothing; nothing was written (fix them, or continue as is)",
            summary.fail
        ));
    }
    None
}

/// The writes of one import, inside the store's transaction.
fn write_plan(plan: &Plan, store: &mut dyn UserStore, options: &ApplyOptions, summary: &Summary) -> Result<()> {
    if !plan.custom_fields().is_empty() {
        store.add_custom_fields(plan.custom_fields())?;
    }
    if !plan.groups_to_create().is_empty() {
        store.create_groups(plan.groups_to_create())?;
    }
    let batch = options.batch_size.max(1);
    // Creates first, in creation order (every superior before its subordinates), then updates
    // (whose new superiors exist by then).
    for action in [Action::Create, Action::Update] {
        let mut users: Vec<User> = Vec::with_capacity(batch);
        for user in plan.writes_of(action) {
            users.push(user);
            if users.len() == batch {
                write_batch(store, action, &mut users, &options.passwords)?;
            }
        }
        write_batch(store, action, &mut users, &options.passwords)?;
    }
    let mut entry = ImportLogEntry::new(plan.config().options.mode);
    entry.file_name.clone_from(&options.file_name);
    entry.comment.clone_from(&options.comment);
    entry.created = summary.created;
    entry.updated = summary.updated;
    entry.unchanged = summary.unchanged;
    entry.skipped = summary.skipped;
    entry.failed = summary.failed;
    store.log_import(&entry)
}

fn write_batch(store: &mut dyn UserStore, action: Action, users: &mut Vec<User>, params: &Argon2Params) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    // Hashing runs on every core; the plain texts are wiped as they are replaced.
    hash_passwords(users, params)?;
    match action {
        Action::Create => store.create_users(users)?,
        _ => store.update_users(users)?,
    }
    users.clear();
    Ok(())
}
