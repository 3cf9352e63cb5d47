//! The plan stage: one planned outcome per row (see [`Plan`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::config::{Condition, ImportConfig, MergePolicy, Mode, RuleMatch};
use crate::directory::Directory;
use crate::error::Result;
use crate::hierarchy::{fetch_ahead, resolve_compact, LoginIndex, Resolved, Users};
use crate::issue::{Issue, IssueCode};
use crate::model::{login_key, login_key_cow, CustomValue, ProductAccess, Status, User};
use crate::schema::{CustomField, CustomKind, Field, Target};
use crate::validate::{issue_order, sort_issues, FastMap, UserRecord, Validation};

/// The planned outcome of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// A new user.
    Create,
    /// An existing user whose stored values change.
    Update,
    /// An existing user already as the file says.
    Unchanged,
    /// A valid row that is not imported (its superior cannot be; update-only mode and no such
    /// user).
    Skip,
    /// A row with an error.
    Fail,
}

impl Action {
    /// `"create"`, `"update"`, `"unchanged"`, `"skip"` or `"fail"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Skip => "skip",
            Action::Fail => "fail",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field an update changes, as a person reviews it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldChange {
    /// The field (`"email"`, `"roles"`, `"product:hire"`, `"custom:department"`).
    pub field: String,
    /// The stored value (`""` when empty). A password shows as `[redacted]`.
    pub old: String,
    /// The value after the import.
    pub new: String,
}

/// A planned row, as the preview shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlannedRow {
    /// The row number in the file.
    pub row: u64,
    /// What happens to it.
    pub action: Action,
    /// The user's login (generated when the file has none), when the row has one.
    pub login: Option<String>,
    /// Why a row is skipped or fails, in a sentence.
    pub reason: Option<String>,
    /// For updates: what changes.
    pub changes: Vec<FieldChange>,
    /// A new user without a password: an invitation is to be sent.
    pub invitation: bool,
}

/// The counts of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanSummary {
    /// Data rows in the file.
    pub rows: u64,
    /// Rows without a validation error.
    pub valid: u64,
    /// Rows with a validation error.
    pub invalid: u64,
    /// Users to create.
    pub create: u64,
    /// Users to update.
    pub update: u64,
    /// Users already as the file says.
    pub unchanged: u64,
    /// Valid rows not imported.
    pub skip: u64,
    /// Rows that fail (invalid, or flagged by the hierarchy).
    pub fail: u64,
    /// New users who will be invited (no password).
    pub invitations: u64,
}

/// Every row of a plan in file order: see [`Plan::rows`]. The records and the rows with errors
/// (both in row order) merged.
struct Rows<'p> {
    plan: &'p Plan,
    /// The next record and the next row with errors.
    record: usize,
    invalid: usize,
    /// The first of the plan's record reasons not behind `record`.
    reason: usize,
}

impl Rows<'_> {
    /// The row of the next record, and of the next row with errors.
    fn next_rows(&self) -> (Option<u64>, Option<u64>) {
        let plan = self.plan;
        (plan.records.get(self.record).map(UserRecord::row), plan.invalid.get(self.invalid).map(|&(row, _)| row))
    }
}

impl Iterator for Rows<'_> {
    type Item = PlannedRow;

    fn next(&mut self) -> Option<PlannedRow> {
        let plan = self.plan;
        let record_first = match self.next_rows() {
            (None, None) => return None,
            (Some(a), Some(b)) => a < b,
            (record_row, _) => record_row.is_some(),
        };
        if !record_first {
            self.invalid += 1;
            return plan.invalid_row(self.invalid - 1);
        }
        let i = self.record;
        self.record += 1;
        let reasons = plan.record_reasons.get(self.reason..).unwrap_or_default();
        self.reason += reasons.iter().take_while(|&&(k, _)| (k as usize) < i).count();
        let reason = match plan.record_reasons.get(self.reason) {
            Some(&(k, reason)) if k as usize == i => {
                self.reason += 1;
                reason
            }
            _ => Reason::None,
        };
        Some(plan.record_row(i, reason))
    }

    /// The `n`th next row, without building the rows before it: how many of them are records is
    /// found by a binary search over the two lists' rows (what `skip` calls).
    fn nth(&mut self, n: usize) -> Option<PlannedRow> {
        let plan = self.plan;
        let (records, invalid) =
            (plan.records.len().saturating_sub(self.record), plan.invalid.len().saturating_sub(self.invalid));
        if n >= records + invalid {
            (self.record, self.invalid) = (plan.records.len(), plan.invalid.len());
            return None;
        }
        // The records among the `n` rows skipped: the fewest such that the row with errors
        // before the next record (if any is skipped) comes before that record.
        let record_row = |a: usize| plan.records.get(self.record + a).map_or(u64::MAX, UserRecord::row);
        let invalid_row = |b: usize| plan.invalid.get(self.invalid + b).map_or(u64::MAX, |&(row, _)| row);
        let (mut low, mut high) = (n.saturating_sub(invalid), n.min(records));
        while low < high {
            let a = low + (high - low) / 2;
            // More records are skipped when the last row with errors skipped comes after record `a`.
            if invalid_row(n - a - 1) > record_row(a) {
                low = a + 1;
            } else {
                high = a;
            }
        }
        self.record += low;
        self.invalid += n - low;
        let record = self.record;
        self.reason = plan.record_reasons.partition_point(|&(k, _)| (k as usize) < record);
        self.next()
    }
}

/// The rows that update a user: see [`Plan::updates`].
struct Updates<'p> {
    plan: &'p Plan,
    /// The updated records' indexes, in file order.
    records: std::slice::Iter<'p, u32>,
}

impl Iterator for Updates<'_> {
    type Item = PlannedRow;

    fn next(&mut self) -> Option<PlannedRow> {
        self.records.next().map(|&i| self.plan.record_row(i as usize, Reason::None))
    }

    /// The `n`th next row, without building the rows before it (what `skip` calls).
    fn nth(&mut self, n: usize) -> Option<PlannedRow> {
        self.records.nth(n).map(|&i| self.plan.record_row(i as usize, Reason::None))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl ExactSizeIterator for Updates<'_> {}

/// Why a row is skipped or fails; the sentences are made when the rows are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Reason {
    None,
    /// The row has errors.
    Invalid,
    /// A sentence of the plan's own, by index.
    Text(u32),
    /// The superior's own row has an issue of the hierarchy (cycle, self-reference, not found).
    Unresolved,
    /// The superior (a record, by index) cannot be imported.
    SuperiorFails(u32),
    /// The superior is a row with errors (by index among them).
    SuperiorInvalid(u32),
    /// The superior (a record) is skipped.
    SuperiorSkipped(u32),
}

impl Reason {
    /// A user not imported because its superior is not (`superior_not_imported`).
    fn is_blocked(self) -> bool {
        matches!(self, Reason::SuperiorFails(_) | Reason::SuperiorInvalid(_) | Reason::SuperiorSkipped(_))
    }
}

/// The plan of an import: for every row, exactly one planned outcome — create, update,
/// unchanged, skip or fail — with the reason, and for updates a field-by-field diff. A dry run
/// stops here: the plan *is* the preview a person checks before confirming.
///
/// On top of the validated records the plan decides: logins generated from a template when the
/// file has none; superiors resolved and ordered
/// ([`resolve_hierarchy`](crate::resolve_hierarchy)), users whose superior cannot be imported
/// skipped (`superior_not_imported`); product access defaults (an empty cell gives the product's
/// lowest role, or no access, as the catalog says); groups from the file and from ordered
/// distribution rules; roles, groups and product access copied from a mirror user; new users
/// without a password invited (pending); merges with existing users (overwrite, or fill only
/// empty fields).
///
/// The plan keeps the compact records of the validate stage; [`Plan::user`] builds the [`User`]
/// a row will write on demand (the apply stage builds them a batch at a time), so a plan of a
/// million rows stays close to the size of the file.
#[derive(Clone, Debug)]
pub struct Plan {
    config: ImportConfig,
    records: Vec<UserRecord>,
    /// The rows with errors: their row number and login as written. They all fail.
    invalid: Vec<(u64, Option<Box<str>>)>,
    /// What happens to each record, by record index.
    actions: Vec<Action>,
    /// Why a record is skipped or fails, for the records that are (by record index, ascending;
    /// most records have no reason).
    record_reasons: Vec<(u32, Reason)>,
    /// The sentences of [`Reason::Text`].
    reasons: Vec<Box<str>>,
    /// Record index → the login to use when it is not the record's own (generated).
    logins: HashMap<usize, String>,
    /// Record index → the stored user it updates.
    existing: HashMap<usize, User>,
    /// Record index → the field changes of its update.
    changes: HashMap<usize, Vec<FieldChange>>,
    /// Mirror users by login key.
    mirrors: HashMap<String, User>,
    /// Record indices of the creates and updates, every superior before its subordinates.
    order: Vec<u32>,
    /// The issues of validation, hierarchy and plan, in report order, but for those of the users
    /// not imported because of their superior: a wrong row high in a forest can block a tenth of
    /// a file, and their issues are written from `record_reasons` when asked for.
    issues: Vec<Issue>,
    /// Every issue, once [`Plan::issues`] has been called.
    all_issues: OnceLock<Vec<Issue>>,
    /// The updated records' indexes in file order, once [`Plan::updates`] has been called (a
    /// binding pages through them: sorted once, not once a page).
    updated: OnceLock<Vec<u32>>,
    groups_to_create: Vec<String>,
    custom_fields: Vec<CustomField>,
    mapping: crate::mapping::Mapping,
    fingerprint: u64,
    can_import: bool,
    /// The group rules' regular expressions, compiled once (by rule index; `None` for the other
    /// conditions).
    group_patterns: Vec<Option<regex::Regex>>,
}

impl Plan {
    /// Plans an import: see [`Plan`].
    ///
    /// ```
    /// use user_import::{Action, ImportConfig, Importer, MemoryDirectory, Plan, User};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let mut directory = MemoryDirectory::new();
    /// directory.insert(User::new("ada", "Ada", "Byron"));
    /// let csv = "Login,First Name,Last Name,Superior User\nbob,Bob,B,ada\nada,Ada,Lovelace,\ncy,Cy,C,nobody\n";
    /// let importer = Importer::new(ImportConfig::default());
    /// let validation = importer.validate_bytes(csv, &directory)?;
    /// let plan = Plan::new(validation, importer.config(), &directory)?;
    /// let rows: Vec<(u64, Action)> = plan.rows().map(|r| (r.row, r.action)).collect();
    /// assert_eq!(rows, [(2, Action::Create), (3, Action::Update), (4, Action::Fail)]);
    /// let update = plan.rows().nth(1).unwrap();
    /// assert_eq!(update.changes[0].field, "last_name");
    /// assert_eq!((update.changes[0].old.as_str(), update.changes[0].new.as_str()), ("Byron", "Lovelace"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(validation: Validation, config: &ImportConfig, directory: &dyn Directory) -> Result<Plan> {
        let can_import = validation.can_import();
        let has_login_column = validation.mapping().column_of_field(Field::Login).is_some();
        let accepted_custom: Vec<String> = validation
            .mapping()
            .columns()
            .iter()
            .filter_map(|c| match &c.target {
                Some(Target::Custom(name)) if config.schema.custom_field(name).is_none() => Some(name.clone()),
                _ => None,
            })
            .collect();
        let crate::validate::ValidationParts { records, invalid_rows, invalid_logins, mut issues, mapping } =
            validation.into_parts();
        let options = &config.options;
        let mirror = options.mirror_user.as_deref();

        // Logins from the template, when the file has none.
        let mut logins = HashMap::new();
        if let (Some(template), false) = (&options.login_template, has_login_column) {
            logins = generate_logins(template, &records, directory)?;
        }
        let login_of = |i: usize| record_login(&records, &logins, i);
        // The state of the directory this plan is computed against, taken before the plan reads
        // users from it (only a login template's check of which logins are free comes first: it
        // decides which logins are covered): a change made while the plan reads counts as a
        // change since the plan, which is then refused, never applied over data it did not see.
        // Taken now, too, its scratch is gone before the plan's own memory grows. With two
        // threads, the file's logins are indexed for the hierarchy meanwhile: the hierarchy is
        // resolved over valid and invalid rows (a superior that is an invalid row cannot be
        // imported), read in place.
        let inputs = PlanUsers { records: &records, logins: &logins, invalid: &invalid_logins };
        // The users to mirror, once each (a fingerprint ignores order and repetitions).
        let mut wanted_mirrors: Vec<&str> = mirror_logins(&records, &mapping, mirror).collect();
        wanted_mirrors.sort_unstable();
        wanted_mirrors.dedup();
        // The logins are handed over as they are read (the stores take them a batch at a time).
        let fingerprint_now =
            || directory.fingerprint_iter(&mut fingerprint_logins(&records, &logins, wanted_mirrors.iter().copied()));
        let (fingerprint, index) = if options.thread_count() > 1 {
            // Filled by another thread while this one takes the fingerprint, then by both (a
            // first import's fingerprint is at once).
            LoginIndex::empty(&inputs).filled_beside(fingerprint_now)
        } else {
            (fingerprint_now(), LoginIndex::of(&inputs))
        };
        let fingerprint = fingerprint?;
        // A first import into an empty directory: nobody to look up.
        let directory_empty = directory.is_empty()?;
        let hierarchy = resolve_compact(&inputs, index, options.thread_count(), |outside| {
            if directory_empty {
                return Ok(vec![false; outside.len()]);
            }
            let mut known = HashSet::new();
            for chunk in outside.chunks(1000) {
                known.extend(directory.find_by_logins(chunk)?.iter().map(User::login_key));
            }
            Ok::<_, crate::Error>(outside.iter().map(|key| known.contains(*key)).collect())
        })?;
        // The rows with errors, with the logins they were written with.
        let mut failed_logins = invalid_logins.iter().peekable();
        let invalid: Vec<(u64, Option<Box<str>>)> = invalid_rows
            .iter()
            .map(|&row| {
                while failed_logins.next_if(|(r, _)| *r < row).is_some() {}
                let login = failed_logins.next_if(|(r, _)| *r == row).map(|(_, login)| login.as_str().into());
                (row, login)
            })
            .collect();
        // The reason for a user whose superior (by index in the hierarchy's input: the records,
        // then the invalid rows with a login) cannot be imported.
        let superior_reason = |by: usize| -> Reason {
            if by < records.len() {
                return Reason::SuperiorFails(plan_index(by));
            }
            let row = inputs.row(by);
            Reason::SuperiorInvalid(plan_index(invalid.partition_point(|(r, _)| *r < row)))
        };
        let mut hierarchy = hierarchy;
        issues.append(&mut hierarchy.issues);
        // Each user's placement becomes why it fails, in place: `ORDERED` when it does not,
        // `FLAGGED` when its own hierarchy has an issue, else the user whose failure blocks it.
        // The rows with errors all fail.
        let mut blocked_by = std::mem::take(&mut hierarchy.placements);
        let valid = records.len();
        let fails = |blocked_by: &[u32], i: usize| i >= valid || blocked_by.get(i) != Some(&Resolved::ORDERED);
        // Superiors first: a user whose in-file superior fails cannot be imported either.
        let superior_of: Vec<u32> = std::mem::take(&mut hierarchy.superiors);
        for &i in &hierarchy.order {
            let i = i as usize;
            let superior = superior_of[i];
            if superior < Resolved::UNRESOLVED && fails(&blocked_by, superior as usize) && !fails(&blocked_by, i) {
                blocked_by[i] = superior;
            }
        }
        // From here on only a skipped user (update only) blocks another that the hierarchy did
        // not: the superiors are needed for that mode alone.
        let superior_of = if options.mode == Mode::UpdateOnly { superior_of } else { Vec::new() };
        // Why each record that fails fails, by record index (ascending).
        // Counted first: the list is made its size, not grown by doubling.
        let failing_records = || blocked_by.iter().take(valid).enumerate().filter(|&(_, &by)| by != Resolved::ORDERED);
        let mut failing: Vec<(u32, Reason)> = Vec::with_capacity(failing_records().count());
        failing.extend(failing_records().map(|(i, &by)| {
            let reason = if by == Resolved::FLAGGED { Reason::Unresolved } else { superior_reason(by as usize) };
            (plan_index(i), reason)
        }));
        drop(blocked_by);
        // Mirror users.
        let mut mirrors = HashMap::new();
        for chunk in wanted_mirrors.chunks(1000).filter(|_| !directory_empty) {
            for user in directory.find_by_logins(chunk)? {
                mirrors.insert(user.login_key(), user);
            }
        }
        if let Some(mirror) = mirror {
            if !mirrors.contains_key(&login_key(mirror)) {
                issues.push(Issue::error(
                    IssueCode::InvalidValue,
                    format!("the mirror user '{mirror}' of the configuration does not exist"),
                ));
            }
        }

        // Existing users: update, unchanged, or (update only) skip.
        let mut existing = HashMap::new();
        let all: Vec<usize> = if directory_empty { Vec::new() } else { (0..records.len()).collect() };
        for chunk in all.chunks(1000) {
            let refs: Vec<&str> = chunk.iter().map(|&i| login_of(i)).collect();
            let found: HashMap<String, User> =
                directory.find_by_logins(&refs)?.into_iter().map(|u| (u.login_key(), u)).collect();
            if found.is_empty() {
                continue;
            }
            for (&i, login) in chunk.iter().zip(refs) {
                if let Some(user) = found.get(login_key_cow(login).as_ref()) {
                    existing.insert(i, user.clone());
                }
            }
        }
        let mut plan = Plan {
            config: config.clone(),
            records: Vec::new(),
            invalid: Vec::new(),
            actions: Vec::new(),
            record_reasons: Vec::new(),
            reasons: Vec::new(),
            logins,
            existing: HashMap::new(),
            changes: HashMap::new(),
            mirrors,
            order: Vec::new(),
            issues: Vec::new(),
            all_issues: OnceLock::new(),
            updated: OnceLock::new(),
            groups_to_create: Vec::new(),
            custom_fields: Vec::new(),
            mapping: mapping.clone(),
            fingerprint,
            can_import,
            group_patterns: config
                .options
                .group_rules
                .iter()
                .map(|rule| rule.when.regex().and_then(Result::ok))
                .collect(),
        };
        plan.records = records;
        plan.existing = existing;

        // Each record's action, and its reason when it has one; the rows with errors all fail.
        plan.invalid = invalid;
        let mut actions: Vec<Action> = Vec::with_capacity(plan.records.len());
        // The reasons of the records are those of the failing ones, and those of the skipped.
        let mut skipped: Vec<(u32, Reason)> = Vec::new();
        let mut next_failing = failing.iter().peekable();
        for i in 0..plan.records.len() {
            let action = if next_failing.next_if(|&&(k, _)| k as usize == i).is_some() {
                Action::Fail
            } else if let Some(stored) = plan.existing.get(&i) {
                let changes = plan.diff(i, stored);
                if changes.is_empty() {
                    Action::Unchanged
                } else {
                    plan.changes.insert(i, changes);
                    Action::Update
                }
            } else if options.mode == Mode::UpdateOnly {
                let text = format!("there is no user '{}' to update (this import only updates users)", plan.login(i));
                skipped.push((plan_index(i), plan.reason(text)));
                Action::Skip
            } else {
                Action::Create
            };
            actions.push(action);
        }
        plan.actions = actions;
        if !skipped.is_empty() {
            plan.skip_under_skipped_superiors(&hierarchy.order, &superior_of, &mut skipped);
        }
        drop(superior_of);
        let mut record_reasons = failing;
        if !skipped.is_empty() {
            record_reasons.append(&mut skipped);
            record_reasons.sort_unstable_by_key(|&(i, _)| i);
        }
        plan.record_reasons = record_reasons;
        // Skipped and failed users are not superiors anyone can have either. The hierarchy's
        // order becomes the creation order in place: the users created or updated.
        let mut order = std::mem::take(&mut hierarchy.order);
        order.retain(|&i| matches!(plan.actions.get(i as usize), Some(Action::Create | Action::Update)));
        order.shrink_to_fit();
        plan.order = order;
        drop(hierarchy);

        // Groups to create and custom fields to add.
        let mut groups: Vec<String> = Vec::new();
        if config.options.create_missing_groups {
            for &i in &plan.order {
                for group in plan.groups_of(i as usize) {
                    if config.catalog.group(&group).is_none() && !groups.contains(&group) {
                        groups.push(group);
                    }
                }
            }
        }
        plan.groups_to_create = groups;
        plan.custom_fields = config.schema.custom_fields.clone();
        plan.custom_fields.extend(accepted_custom.into_iter().map(|name| CustomField::new(name, CustomKind::Text)));

        let columns = FieldColumns::of(&mapping);
        for issue in &mut issues {
            columns.fill(issue);
        }
        sort_issues(&mut issues);
        plan.issues = issues;
        Ok(plan)
    }

    /// A row whose superior is skipped (update-only mode) cannot be imported either: it is
    /// skipped, and its reason added to `skipped` (the skipped users' reasons). `order` is the
    /// hierarchy's creation order (every superior before its subordinates), so one pass settles
    /// every chain; `superior_of` are the superiors the hierarchy stage resolved.
    fn skip_under_skipped_superiors(&mut self, order: &[u32], superior_of: &[u32], skipped: &mut Vec<(u32, Reason)>) {
        for i in order.iter().map(|&i| i as usize) {
            if !matches!(self.actions.get(i), Some(Action::Create | Action::Update | Action::Unchanged)) {
                continue;
            }
            let s = superior_of.get(i).map_or(usize::MAX, |&s| s as usize);
            if !matches!(self.actions.get(s), Some(Action::Skip | Action::Fail)) {
                continue;
            }
            self.actions[i] = Action::Skip;
            skipped.push((plan_index(i), Reason::SuperiorSkipped(plan_index(s))));
        }
    }

    /// The issues of the users not imported because of their superior, compactly: each one's row
    /// and its superior and value, shared by the users of one superior who write it alike.
    fn blocked_issues(&self) -> BlockedIssues {
        let blocked_user = |(i, reason): &(u32, Reason)| Some((*i, *reason)).filter(|_| reason.is_blocked());
        let mut blocked = BlockedIssues {
            rows: Vec::with_capacity(self.record_reasons.iter().filter_map(blocked_user).count()),
            ..BlockedIssues::default()
        };
        let mut by_reason: FastMap<Reason, u32> = FastMap::default();
        // The blocked users lie scattered over the records, and so do their superiors: the
        // record that blocks a user is asked for (`fetch_ahead`, which does not wait) two steps
        // of `BLOCKED_AHEAD` reasons before the user's turn, the texts it needs one step before:
        // those reads overlap with the work on the users between.
        let reasons = &self.record_reasons;
        for (k, &(i, reason)) in reasons.iter().enumerate() {
            if let Some(by) = reasons.get(k + 2 * BLOCKED_AHEAD).and_then(|&(_, ahead)| self.blocking_record(ahead)) {
                fetch_ahead(by);
            }
            if let Some(&(ahead, ahead_reason)) = reasons.get(k + BLOCKED_AHEAD).filter(|(_, r)| r.is_blocked()) {
                self.blocked_texts(ahead, ahead_reason).iter().filter_map(|text| text.first()).for_each(fetch_ahead);
            }
            if !reason.is_blocked() {
                continue;
            }
            let Some(record) = self.records.get(i as usize) else { continue };
            let value = record.superior().unwrap_or_default();
            let text = match by_reason.get(&reason) {
                Some(&k) if blocked.text(k).is_some_and(|(_, written)| written == value) => k,
                _ => {
                    let superior = BlockingSuperior::of(reason, &self.records, &self.logins, &self.invalid);
                    let k = blocked.add_text(superior, value);
                    by_reason.insert(reason, k);
                    k
                }
            };
            blocked.rows.push((record.row32(), text));
        }
        blocked
    }

    /// The record whose failure or skip a reason names, if any.
    fn blocking_record(&self, reason: Reason) -> Option<&UserRecord> {
        match reason {
            Reason::SuperiorFails(by) | Reason::SuperiorSkipped(by) => self.records.get(by as usize),
            _ => None,
        }
    }

    /// The texts [`Plan::blocked_issues`] reads for blocked user `i`, found from the records'
    /// offsets alone: its superior as written, and the login of the record that blocks it (empty
    /// when there is none).
    fn blocked_texts(&self, i: u32, reason: Reason) -> [&[u8]; 2] {
        let by = self.blocking_record(reason);
        [self.records.get(i as usize).map_or(&[], UserRecord::superior_bytes), by.map_or(&[], UserRecord::login_bytes)]
    }

    /// The record indexes of the creates and updates, every superior before its subordinates.
    fn ordered(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().map(|&i| i as usize)
    }

    /// A reason of the plan's own.
    fn reason(&mut self, text: String) -> Reason {
        self.reasons.push(text.into());
        Reason::Text(plan_index(self.reasons.len() - 1))
    }

    /// The sentence of a reason.
    fn reason_text(&self, reason: Reason) -> Option<String> {
        match reason {
            Reason::None => None,
            Reason::Invalid => Some("the row has errors".to_string()),
            Reason::Unresolved => Some("the superior cannot be resolved".to_string()),
            Reason::Text(i) => self.reasons.get(i as usize).map(|text| text.to_string()),
            Reason::SuperiorFails(_) | Reason::SuperiorInvalid(_) | Reason::SuperiorSkipped(_) => {
                BlockingSuperior::of(reason, &self.records, &self.logins, &self.invalid).map(BlockingSuperior::sentence)
            }
        }
    }

    fn login(&self, i: usize) -> &str {
        record_login(&self.records, &self.logins, i)
    }

    /// The groups a record gets: its own, then the distribution rules', then its mirror's.
    fn groups_of(&self, i: usize) -> Vec<String> {
        let record = &self.records[i];
        let mut groups: Vec<String> = record.groups().map(str::to_string).collect();
        let mut push = |g: &str| {
            if !groups.iter().any(|have| crate::model::eq_ignore_case(have, g)) {
                groups.push(g.to_string());
            }
        };
        for (rule, pattern) in self.config.options.group_rules.iter().zip(&self.group_patterns) {
            if rule_matches(&rule.when, pattern.as_ref(), field_value(record, &rule.field).as_deref()) {
                push(&rule.group);
                if self.config.options.group_rule_match == RuleMatch::First {
                    break;
                }
            }
        }
        if let Some(mirror) = self.mirror_of(record) {
            for g in &mirror.groups {
                push(g);
            }
        }
        groups
    }

    fn mirror_of(&self, record: &UserRecord) -> Option<&User> {
        let login = record.mirror().or(self.config.options.mirror_user.as_deref())?;
        self.mirrors.get(&login_key(login))
    }

    /// The user a row writes, as a new user: defaults, rules and mirror applied.
    fn new_user(&self, i: usize) -> User {
        let record = &self.records[i];
        let mut user = record.to_user();
        user.login = self.login(i).to_string();
        user.groups = self.groups_of(i);
        let mirror = self.mirror_of(record);
        if user.roles.is_empty() {
            if let Some(mirror) = mirror {
                user.roles = mirror.roles.clone();
            }
        }
        let given: BTreeMap<String, ProductAccess> = user.products.clone();
        user.products.clear();
        for product in &self.config.catalog.products {
            let access = given
                .get(product.id())
                .cloned()
                .or_else(|| mirror.and_then(|m| m.products.get(product.id()).cloned()))
                .unwrap_or_else(|| product.default_access());
            user.products.insert(product.id().to_string(), access);
        }
        if user.password.is_none() && record.status().is_none() {
            user.status = Status::Pending;
        }
        user
    }

    /// The stored user after the update, by the merge policy.
    fn merged_user(&self, i: usize, stored: &User) -> User {
        let record = &self.records[i];
        let incoming = self.new_user(i);
        let fill = self.config.options.merge == MergePolicy::FillEmpty;
        let mut user = stored.clone();
        let take_text = |old: &mut String, new: &str| {
            if !new.is_empty() && (!fill || old.is_empty()) {
                *old = new.to_string();
            }
        };
        take_text(&mut user.first_name, &incoming.first_name);
        take_text(&mut user.last_name, &incoming.last_name);
        let take_opt = |old: &mut Option<String>, new: &Option<String>| {
            if new.is_some() && (!fill || old.is_none()) {
                old.clone_from(new);
            }
        };
        take_opt(&mut user.email, &incoming.email);
        take_opt(&mut user.superior, &incoming.superior);
        take_opt(&mut user.reference, &incoming.reference);
        if incoming.timezone.is_some() && (!fill || user.timezone.is_none()) {
            user.timezone = incoming.timezone;
        }
        if incoming.hq_role.is_some() && (!fill || user.hq_role.is_none()) {
            user.hq_role = incoming.hq_role;
        }
        if let Some(status) = record.status() {
            if !fill {
                user.status = status;
            }
        }
        if !incoming.roles.is_empty() && (!fill || user.roles.is_empty()) {
            user.roles = incoming.roles.clone();
        }
        if !incoming.groups.is_empty() && (!fill || user.groups.is_empty()) {
            user.groups = incoming.groups.clone();
        }
        for (product, access) in record.products() {
            if !fill || !user.products.contains_key(product) {
                user.products.insert(product.to_string(), access);
            }
        }
        for (name, value) in record.custom() {
            if !fill || !user.custom.contains_key(name) {
                user.custom.insert(name.to_string(), value);
            }
        }
        user.password = if self.config.options.update_passwords { record.password() } else { None };
        user
    }

    fn diff(&self, i: usize, stored: &User) -> Vec<FieldChange> {
        let new = self.merged_user(i, stored);
        let mut changes = Vec::new();
        let mut push = |field: &str, old: String, new: String| {
            if old != new {
                changes.push(FieldChange { field: field.to_string(), old, new });
            }
        };
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        push("first_name", stored.first_name.clone(), new.first_name.clone());
        push("last_name", stored.last_name.clone(), new.last_name.clone());
        push("email", opt(&stored.email), opt(&new.email));
        let roles = |u: &User| u.roles.iter().map(|r| r.name()).collect::<Vec<_>>().join("; ");
        push("roles", roles(stored), roles(&new));
        push("superior", opt(&stored.superior), opt(&new.superior));
        let tz = |u: &User| u.timezone.map(|t| t.name().to_string()).unwrap_or_default();
        push("timezone", tz(stored), tz(&new));
        let hq = |u: &User| u.hq_role.map(|h| h.to_string()).unwrap_or_default();
        push("hq_role", hq(stored), hq(&new));
        push("status", stored.status.to_string(), new.status.to_string());
        push("reference", opt(&stored.reference), opt(&new.reference));
        push("groups", stored.groups.join("; "), new.groups.join("; "));
        let access = |a: Option<&ProductAccess>| match a {
            None | Some(ProductAccess::None) => "no access".to_string(),
            Some(ProductAccess::Granted) => "access".to_string(),
            Some(ProductAccess::Role(role)) => role.name().to_string(),
        };
        let products: HashSet<&String> = stored.products.keys().chain(new.products.keys()).collect();
        let mut products: Vec<&String> = products.into_iter().collect();
        products.sort();
        for product in products {
            push(
                &format!("product:{product}"),
                access(stored.products.get(product)),
                access(new.products.get(product)),
            );
        }
        let custom: HashSet<&String> = stored.custom.keys().chain(new.custom.keys()).collect();
        let mut custom: Vec<&String> = custom.into_iter().collect();
        custom.sort();
        let value = |v: Option<&CustomValue>| v.map(ToString::to_string).unwrap_or_default();
        for name in custom {
            push(&format!("custom:{name}"), value(stored.custom.get(name)), value(new.custom.get(name)));
        }
        // A password already stored (same text, checked against the stored hash) is no change:
        // re-importing a file with `update_passwords` on stays idempotent.
        let same_password = match (&new.password, &stored.password) {
            (Some(new), Some(old)) if new.is_phc_hash() => new.expose() == old.expose(),
            (Some(new), Some(old)) => crate::store::verify_password(new.expose(), old.expose()),
            _ => false,
        };
        if new.password.is_some() && !same_password {
            changes.push(FieldChange {
                field: "password".into(),
                old: crate::model::Password::REDACTED.into(),
                new: "(a new password)".into(),
            });
        }
        changes
    }

    /// Every row in file order, as the preview shows it.
    ///
    /// Skipping rows (`rows().skip(n)`, as a page of a preview does) builds none of the rows
    /// skipped.
    pub fn rows(&self) -> impl Iterator<Item = PlannedRow> + '_ {
        Rows { plan: self, record: 0, invalid: 0, reason: 0 }
    }

    /// The planned row of the row with errors `k`.
    fn invalid_row(&self, k: usize) -> Option<PlannedRow> {
        let (row, login) = self.invalid.get(k)?;
        Some(PlannedRow {
            row: *row,
            action: Action::Fail,
            login: login.as_deref().map(str::to_string),
            reason: self.reason_text(Reason::Invalid),
            changes: Vec::new(),
            invitation: false,
        })
    }

    /// The rows that update a user, in file order, with their changes: what a dry run shows of
    /// the updates, without reading the other rows.
    ///
    /// ```
    /// use user_import::{Action, ImportConfig, Importer, MemoryDirectory, User};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let mut directory = MemoryDirectory::new();
    /// directory.insert(User::new("ada", "Ada", "Byron"));
    /// let csv = "Login,First Name,Last Name\nbob,Bob,B\nada,Ada,Lovelace\n";
    /// let plan = Importer::new(ImportConfig::default()).plan_bytes(csv, &directory)?;
    /// let updates: Vec<(u64, Action, usize)> = plan.updates().map(|r| (r.row, r.action, r.changes.len())).collect();
    /// assert_eq!(updates, [(3, Action::Update, 1)]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Skipping rows (`updates().skip(n)`, as a page of a preview does) builds none of the rows
    /// skipped.
    pub fn updates(&self) -> impl ExactSizeIterator<Item = PlannedRow> + '_ {
        let updated = self.updated.get_or_init(|| {
            let updates = self.changes.keys().filter(|&&i| self.actions.get(i) == Some(&Action::Update));
            let mut updated: Vec<u32> = updates.map(|&i| plan_index(i)).collect();
            updated.sort_unstable();
            updated
        });
        Updates { plan: self, records: updated.iter() }
    }

    /// The planned row of record `i`, skipped or failing for `reason`.
    fn record_row(&self, i: usize, reason: Reason) -> PlannedRow {
        let action = self.actions.get(i).copied().unwrap_or(Action::Fail);
        let record = &self.records[i];
        PlannedRow {
            row: record.row(),
            action,
            login: Some(self.login(i).to_string()),
            reason: self.reason_text(reason),
            changes: self.changes.get(&i).cloned().unwrap_or_default(),
            invitation: action == Action::Create && !record.has_password(),
        }
    }

    /// The counts.
    pub fn summary(&self) -> PlanSummary {
        let (valid, invalid) = (self.records.len() as u64, self.invalid.len() as u64);
        let mut summary =
            PlanSummary { rows: valid + invalid, valid, invalid, fail: invalid, ..PlanSummary::default() };
        for (record, action) in self.records.iter().zip(&self.actions) {
            match action {
                Action::Create => {
                    summary.create += 1;
                    if !record.has_password() {
                        summary.invitations += 1;
                    }
                }
                Action::Update => summary.update += 1,
                Action::Unchanged => summary.unchanged += 1,
                Action::Skip => summary.skip += 1,
                Action::Fail => summary.fail += 1,
            }
        }
        summary
    }

    /// Every issue: validation, hierarchy and plan, file-level first, then by row.
    ///
    /// The issues of the users not imported because of their superior (`superior_not_imported`:
    /// a wrong row high in a forest can block a tenth of a file) are kept compactly until this
    /// is first called; [`Plan::issue_count`] counts them without writing them, and
    /// [`Report::from_plan_owned`](crate::Report::from_plan_owned) writes them once the records
    /// are gone.
    pub fn issues(&self) -> &[Issue] {
        self.all_issues.get_or_init(|| self.collect_issues())
    }

    /// How many issues [`Plan::issues`] holds, without writing them.
    pub fn issue_count(&self) -> usize {
        match self.all_issues.get() {
            Some(all) => all.len(),
            None => self.issues.len() + self.record_reasons.iter().filter(|(_, reason)| reason.is_blocked()).count(),
        }
    }

    /// A copy of every issue, without keeping one in the plan.
    pub(crate) fn collect_issues(&self) -> Vec<Issue> {
        if let Some(all) = self.all_issues.get() {
            return all.clone();
        }
        merge_issues(self.issues.clone(), self.blocked_issues(), &FieldColumns::of(&self.mapping))
    }

    /// Every issue, the plan consumed: the records go before the blocked users' issues are
    /// written (what [`Report::from_plan_owned`](crate::Report::from_plan_owned) uses: a
    /// million-row file's issues are neither copied nor held beside its records).
    pub(crate) fn into_issues(mut self) -> Vec<Issue> {
        if let Some(all) = self.all_issues.take() {
            return all;
        }
        // What the issues are not written from goes first: its room is then reused.
        drop((std::mem::take(&mut self.order), std::mem::take(&mut self.actions)));
        drop((std::mem::take(&mut self.existing), std::mem::take(&mut self.changes)));
        let blocked = self.blocked_issues();
        let own = std::mem::take(&mut self.issues);
        let columns = FieldColumns::of(&self.mapping);
        drop(self);
        merge_issues(own, blocked, &columns)
    }

    /// True when nothing at file level blocks the import.
    pub fn can_import(&self) -> bool {
        self.can_import && !self.issues.iter().any(|i| i.row.is_none() && i.is_error())
    }

    /// The logins of the new users to invite (no password), in creation order.
    pub fn invitations(&self) -> Vec<String> {
        self.ordered()
            .filter(|i| !self.existing.contains_key(i) && !self.records[*i].has_password())
            .map(|i| self.login(i).to_string())
            .collect()
    }

    /// The groups the import creates.
    pub fn groups_to_create(&self) -> &[String] {
        &self.groups_to_create
    }

    /// The custom fields the store gets (the schema's and the accepted unknown columns).
    pub fn custom_fields(&self) -> &[CustomField] {
        &self.custom_fields
    }

    /// The mapping of the file's columns the plan was made from.
    pub fn mapping(&self) -> &crate::mapping::Mapping {
        &self.mapping
    }

    /// The fingerprint of the directory state this plan was computed against.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The logins the fingerprint covers: every user of the file's valid rows and every user
    /// whose permissions they mirror (found or not), in file order (a fingerprint ignores order,
    /// case and repetitions).
    pub fn fingerprint_logins(&self) -> Vec<&str> {
        self.each_fingerprint_login().collect()
    }

    /// [`Plan::fingerprint_logins`], one at a time.
    fn each_fingerprint_login(&self) -> impl Iterator<Item = &str> {
        let mirrors = mirror_logins(&self.records, &self.mapping, self.config.options.mirror_user.as_deref());
        fingerprint_logins(&self.records, &self.logins, mirrors)
    }

    /// The fingerprint of `directory` over this plan's logins, handed over one at a time as
    /// [`Plan::new`] hands them (what [`apply`](crate::apply) compares with [`Plan::fingerprint`]).
    pub(crate) fn fingerprint_of(&self, directory: &dyn Directory) -> Result<u64> {
        directory.fingerprint_iter(&mut self.each_fingerprint_login())
    }

    /// The configuration the plan was made with.
    pub fn config(&self) -> &ImportConfig {
        &self.config
    }

    /// The users to write, in creation order (every superior before its subordinates): the
    /// action and the complete user (with its password as given, not hashed yet).
    pub fn writes(&self) -> impl Iterator<Item = (u64, Action, User)> + '_ {
        self.ordered().map(move |i| {
            let row = self.records[i].row();
            match self.existing.get(&i) {
                Some(stored) => (row, Action::Update, self.merged_user(i, stored)),
                None => (row, Action::Create, self.new_user(i)),
            }
        })
    }

    /// The users of one action (create or update) in creation order; only those are built.
    pub fn writes_of(&self, action: Action) -> impl Iterator<Item = User> + '_ {
        self.ordered().filter_map(move |i| match (self.existing.get(&i), action) {
            (Some(stored), Action::Update) => Some(self.merged_user(i, stored)),
            (None, Action::Create) => Some(self.new_user(i)),
            _ => None,
        })
    }

    /// The user a row writes (create or update), as the preview shows it.
    pub fn user(&self, row: u64) -> Option<User> {
        let i = self.records.binary_search_by_key(&row, UserRecord::row).ok()?;
        match (self.actions.get(i).copied()?, self.existing.get(&i)) {
            (Action::Create, _) => Some(self.new_user(i)),
            (Action::Update | Action::Unchanged, Some(stored)) => Some(self.merged_user(i, stored)),
            _ => None,
        }
    }
}

/// How many reasons a step of [`Plan::blocked_issues`] asks for its memory ahead.
const BLOCKED_AHEAD: usize = 8;

/// An index the plan keeps in 32 bits (the parse stage's row limit is far below).
fn plan_index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// [`Plan::fingerprint_logins`] of these records (with their generated logins) and the
/// configuration's mirror user.
fn fingerprint_logins<'a>(
    records: &'a [UserRecord],
    logins: &'a HashMap<usize, String>,
    mirrors: impl Iterator<Item = &'a str>,
) -> impl Iterator<Item = &'a str> {
    (0..records.len()).map(|i| record_login(records, logins, i)).chain(mirrors)
}

/// The users whose permissions these records mirror, then the configuration's mirror user
/// (repetitions kept). Only a file with a column of users to mirror has them on its records:
/// the records of the others are not read.
fn mirror_logins<'a>(
    records: &'a [UserRecord],
    mapping: &crate::mapping::Mapping,
    mirror_user: Option<&'a str>,
) -> impl Iterator<Item = &'a str> {
    let records = if mapping.column_of_field(Field::Mirror).is_some() { records } else { &[] };
    records.iter().filter_map(UserRecord::mirror).chain(mirror_user)
}

/// Record `i`'s login: the generated one when the plan made one, else its own.
#[inline]
fn record_login<'a>(records: &'a [UserRecord], logins: &'a HashMap<usize, String>, i: usize) -> &'a str {
    // Logins are generated only for files without a login column: most plans ask no map.
    let own = || records.get(i).map_or("", UserRecord::login);
    if logins.is_empty() {
        return own();
    }
    logins.get(&i).map_or_else(own, String::as_str)
}

/// The superior that blocks a user, as the user's sentence names it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BlockingSuperior<'a> {
    /// Its login, trimmed.
    login: &'a str,
    row: u64,
    /// False when it is skipped (update only), true when it cannot be imported.
    fails: bool,
}

impl<'a> BlockingSuperior<'a> {
    /// The superior of a reason: a record by index, or a row with errors by its place among
    /// them; `None` for other reasons.
    fn of(
        reason: Reason,
        records: &'a [UserRecord],
        logins: &'a HashMap<usize, String>,
        invalid: &'a [(u64, Option<Box<str>>)],
    ) -> Option<Self> {
        let record = |by: u32, fails: bool| {
            let by = by as usize;
            let row = records.get(by)?.row();
            Some(BlockingSuperior { login: record_login(records, logins, by).trim(), row, fails })
        };
        match reason {
            Reason::SuperiorFails(by) => record(by, true),
            Reason::SuperiorSkipped(by) => record(by, false),
            Reason::SuperiorInvalid(k) => invalid.get(k as usize).map(|(row, login)| BlockingSuperior {
                login: login.as_deref().unwrap_or_default().trim(),
                row: *row,
                fails: true,
            }),
            _ => None,
        }
    }

    /// What the blocked user is told. Written piece by piece into a string of its size: a plan
    /// of a large file says it for every user of a blocked subtree, and `format!` costs several
    /// times as much.
    fn sentence(self) -> String {
        let mut row = itoa::Buffer::new();
        let verb = if self.fails { "cannot be imported" } else { "is not imported" };
        let pieces = [
            "the superior '",
            self.login,
            "' (row ",
            row.format(self.row),
            ") ",
            verb,
            ", so this user cannot be either",
        ];
        let mut sentence = String::with_capacity(pieces.iter().map(|piece| piece.len()).sum());
        pieces.iter().for_each(|piece| sentence.push_str(piece));
        sentence
    }
}

/// The users of a plan as the hierarchy stage reads them, in place: the records (with their
/// logins, generated or not), then the rows with errors that have a login.
struct PlanUsers<'a> {
    records: &'a [UserRecord],
    logins: &'a HashMap<usize, String>,
    invalid: &'a [(u64, String)],
}

impl Users for PlanUsers<'_> {
    fn count(&self) -> usize {
        self.records.len() + self.invalid.len()
    }

    fn row(&self, i: usize) -> u64 {
        match self.records.get(i) {
            Some(record) => record.row(),
            None => self.invalid.get(i - self.records.len()).map_or(0, |(row, _)| *row),
        }
    }

    #[inline]
    fn login(&self, i: usize) -> &str {
        if i < self.records.len() {
            return record_login(self.records, self.logins, i);
        }
        self.invalid.get(i - self.records.len()).map_or("", |(_, login)| login.as_str())
    }

    fn login_bytes(&self, i: usize) -> &[u8] {
        match self.records.get(i) {
            Some(record) if self.logins.is_empty() => record.login_bytes(),
            _ => self.login(i).as_bytes(),
        }
    }

    fn superior(&self, i: usize) -> Option<&str> {
        self.records.get(i).and_then(UserRecord::superior)
    }

    fn fetch_ahead(&self, i: usize) {
        if let Some(record) = self.records.get(i) {
            crate::hierarchy::fetch_ahead(record);
        }
    }
}

/// The value of a field of a record, as text, for the group rules.
fn field_value(record: &UserRecord, target: &Target) -> Option<String> {
    let text = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    match target {
        Target::Field(field) => match field {
            Field::FirstName => text(record.first_name()),
            Field::LastName => text(record.last_name()),
            Field::Login => text(record.login()),
            Field::Email => record.email().and_then(text),
            Field::Superior => record.superior().and_then(text),
            Field::Reference => record.reference().and_then(text),
            Field::Mirror => record.mirror().and_then(text),
            Field::Timezone => record.timezone().map(|t| t.name().to_string()),
            Field::Status => record.status().map(|s| s.to_string()),
            Field::HqRole => record.hq_role().map(|h| h.to_string()),
            Field::Roles => {
                Some(record.roles().iter().map(|r| r.name()).collect::<Vec<_>>().join(";")).filter(|s| !s.is_empty())
            }
            Field::Groups => Some(record.groups().collect::<Vec<_>>().join(";")).filter(|s| !s.is_empty()),
            _ => None,
        },
        Target::Custom(name) => record.custom().find(|(n, _)| n == name).map(|(_, v)| v.to_string()),
        Target::Product(id) => record.products().find(|(p, _)| p == id).map(|(_, a)| match a {
            ProductAccess::Role(role) => role.name().to_string(),
            ProductAccess::Granted => "yes".to_string(),
            ProductAccess::None => "no".to_string(),
        }),
    }
}

/// True when `value` meets `condition`; `pattern` is the condition's compiled regular
/// expression, for `matches`.
fn rule_matches(condition: &Condition, pattern: Option<&regex::Regex>, value: Option<&str>) -> bool {
    let eq = crate::model::eq_ignore_case;
    match (condition, value) {
        (Condition::Present, value) => value.is_some(),
        (_, None) => false,
        (Condition::Equals(want), Some(v)) => eq(want, v),
        (Condition::OneOf(wants), Some(v)) => wants.iter().any(|w| eq(w, v)),
        (Condition::StartsWith(prefix), Some(v)) => v.to_lowercase().starts_with(&prefix.to_lowercase()),
        (Condition::Matches(_), Some(v)) => pattern.is_some_and(|re| re.is_match(v)),
    }
}

/// Checks a login template: known placeholders only, and at least one.
pub(crate) fn check_login_template(template: &str) -> std::result::Result<(), String> {
    let mut found = false;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("login template '{template}': a '{{' is not closed"));
        };
        let name = &rest[open + 1..open + close];
        if !["first", "last", "f", "l", "email", "reference"].contains(&name) {
            return Err(format!(
                "login template '{template}': unknown placeholder {{{name}}} (use first, last, f, l, email, reference)"
            ));
        }
        found = true;
        rest = &rest[open + close + 1..];
    }
    if found {
        Ok(())
    } else {
        Err(format!("login template '{template}' has no placeholder such as {{first}}"))
    }
}

/// A login from the template: placeholders filled, lowercased, accents folded, characters other
/// than letters, digits and `. _ -` dropped.
fn fill_template(template: &str, record: &UserRecord) -> String {
    let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let local = record.email().and_then(|e| e.rsplit_once('@')).map_or("", |(l, _)| l);
    let filled = template
        .replace("{first}", record.first_name())
        .replace("{last}", record.last_name())
        .replace("{f}", &initial(record.first_name()))
        .replace("{l}", &initial(record.last_name()))
        .replace("{email}", local)
        .replace("{reference}", record.reference().unwrap_or_default());
    filled
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect::<String>()
        .trim_matches(['.', '_', '-'])
        .to_string()
}

/// Generates unique logins for every record: from the template, with a number added when the
/// login is taken (in the file or in the directory): `ada.lovelace`, `ada.lovelace2`, ….
fn generate_logins(
    template: &str,
    records: &[UserRecord],
    directory: &dyn Directory,
) -> Result<HashMap<usize, String>> {
    let bases: Vec<String> = records
        .iter()
        .map(|r| {
            let base = fill_template(template, r);
            if base.is_empty() {
                r.login().to_string()
            } else {
                base
            }
        })
        .collect();
    // Logins the directory has, among the candidates (a few rounds of batched lookups).
    let mut taken: HashSet<String> = HashSet::new();
    let mut chosen: HashMap<usize, String> = HashMap::new();
    let mut used: HashSet<String> = HashSet::new();
    let mut pending: Vec<usize> = (0..records.len()).collect();
    let mut suffix: HashMap<usize, u32> = HashMap::new();
    for _round in 0..50 {
        if pending.is_empty() {
            break;
        }
        let candidates: Vec<String> = pending
            .iter()
            .map(|&i| match suffix.get(&i) {
                Some(n) => format!("{}{n}", bases[i]),
                None => bases[i].clone(),
            })
            .collect();
        for chunk in candidates.chunks(1000) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            taken.extend(directory.find_by_logins(&refs)?.iter().map(User::login_key));
        }
        let mut next = Vec::new();
        for (&i, candidate) in pending.iter().zip(candidates) {
            let key = login_key(&candidate);
            if taken.contains(&key) || used.contains(&key) {
                let n = suffix.entry(i).or_insert(1);
                *n += 1;
                next.push(i);
            } else {
                used.insert(key);
                chosen.insert(i, candidate);
            }
        }
        pending = next;
    }
    for i in pending {
        chosen.insert(i, records[i].login().to_string());
    }
    Ok(chosen)
}

/// Each mapped column by the key of its field, as the mapping has it: what gives an issue that
/// names a field its column.
struct FieldColumns(Vec<(String, Arc<str>, usize)>);

impl FieldColumns {
    fn of(mapping: &crate::mapping::Mapping) -> Self {
        FieldColumns(
            mapping
                .columns()
                .iter()
                .filter_map(|c| Some((c.target.as_ref()?.to_string(), c.display_name().into(), c.index)))
                .collect(),
        )
    }

    /// Gives the issue the column of its field, unless it has a column.
    fn fill(&self, issue: &mut Issue) {
        let Some(field) = issue.field.as_deref().filter(|_| issue.column.is_none()) else { return };
        if let Some((_, name, index)) = self.0.iter().find(|(key, _, _)| key == field) {
            issue.column = Some(Arc::clone(name));
            issue.column_index = Some(*index);
        }
    }
}

/// What a user blocked by its superior is told when the superior's own sentence cannot be
/// written (it always can).
const BLOCKED: &str = "the superior cannot be imported, so this user cannot be either";

/// The issues of the users not imported because of their superior, before they are written.
#[derive(Default)]
struct BlockedIssues {
    /// Each user's row (in 32 bits, as its record keeps it: 8 bytes a user, held while the
    /// records are), and the index of its superior and value in `texts`; in row order.
    rows: Vec<(u32, u32)>,
    /// The logins of the superiors, each followed by the superior as the users wrote it, end to
    /// end in pages of about 64 KB (tens of thousands of texts in a few allocations, none of
    /// them grown). The sentences are written with the issues: kept here, a million-row plan's
    /// would take four times the room while its records are still held.
    pages: Vec<String>,
    /// Where each text is and the superior's row.
    texts: Vec<BlockedText>,
}

/// A superior's login and the value of the users who name it alike: on its page, between
/// `start` and `login_end` and up to `value_end`; and the rest of the superior's sentence.
#[derive(Clone, Copy)]
struct BlockedText {
    page: u32,
    start: u32,
    login_end: u32,
    value_end: u32,
    /// The superior's row and [`BlockingSuperior::fails`]; `None` when there is no superior to
    /// name (never so).
    superior: Option<(u64, bool)>,
}

impl BlockedIssues {
    /// The size of a page (a longer text has a page of its own).
    const PAGE: usize = 64 * 1024;

    /// Adds a superior (`None`: none to name) and a value; their index.
    fn add_text(&mut self, superior: Option<BlockingSuperior<'_>>, value: &str) -> u32 {
        let login = superior.map_or("", |superior| superior.login);
        let len = login.len() + value.len();
        if self.pages.last().is_none_or(|page| page.capacity() - page.len() < len) {
            self.pages.push(String::with_capacity(len.max(Self::PAGE)));
        }
        let page_index = plan_index(self.pages.len() - 1);
        let Some(page) = self.pages.last_mut() else { return u32::MAX };
        let start = page.len();
        page.push_str(login);
        let login_end = page.len();
        page.push_str(value);
        self.texts.push(BlockedText {
            page: page_index,
            start: plan_index(start),
            login_end: plan_index(login_end),
            value_end: plan_index(page.len()),
            superior: superior.map(|superior| (superior.row, superior.fails)),
        });
        plan_index(self.texts.len() - 1)
    }

    /// Superior and value `k`.
    fn text(&self, k: u32) -> Option<(Option<BlockingSuperior<'_>>, &str)> {
        let text = self.texts.get(k as usize)?;
        let page = self.pages.get(text.page as usize)?;
        let login = page.get(text.start as usize..text.login_end as usize)?;
        let value = page.get(text.login_end as usize..text.value_end as usize)?;
        Some((text.superior.map(|(row, fails)| BlockingSuperior { login, row, fails }), value))
    }
}

/// The plan's own issues (in report order) and the blocked users' issues, merged in report order
/// (an own issue first when both go to the same place, as a stable sort of both would put it).
/// In place: `own` grows to hold both and is filled from its end, its issues moved back as the
/// blocked ones come before them (no second vector of a million-row file's issues beside it).
fn merge_issues(mut own: Vec<Issue>, blocked: BlockedIssues, columns: &FieldColumns) -> Vec<Issue> {
    // What every such issue says but its row, sentence and value.
    let mut blank = Issue::error(IssueCode::SuperiorNotImported, String::new()).for_field(Field::Superior.key());
    columns.fill(&mut blank);
    let mut own_left = own.len();
    own.reserve_exact(blocked.rows.len());
    own.resize(own.len() + blocked.rows.len(), blank.clone());
    // The free room, own[own_left..free], holds blanks only: each blocked user's issue is
    // written into the last of them, in place.
    let mut free = own.len();
    for &(row, text) in blocked.rows.iter().rev() {
        // The blank, at the user's row, gives the place of its issue.
        let row = u64::from(row);
        blank.row = Some(row);
        let place = issue_order(&blank);
        // The own issues that go after it move to the end of the free room.
        while own_left > 0 && own.get(own_left - 1).is_some_and(|later| issue_order(later) > place) {
            own_left -= 1;
            free -= 1;
            own.swap(own_left, free);
        }
        free -= 1;
        if let Some(slot) = own.get_mut(free) {
            let (superior, value) = blocked.text(text).unwrap_or((None, ""));
            slot.row = Some(row);
            slot.message = superior.map_or_else(|| BLOCKED.to_string(), BlockingSuperior::sentence);
            slot.value = Some(value.to_string());
        }
    }
    own
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests;
