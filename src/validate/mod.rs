//! The validate stage: every cell checked, every row a typed [`UserRecord`] or a list of
//! [`Issue`]s saying which cell is wrong and why.
//!
//! Checks per cell: required, email (the `validator` crate, with a fast path that provably
//! agrees), login characters and length, names trimmed and folded, roles split on `;` `,` `|`
//! and found in the catalog, product access (`yes/no/y/n/true/false/1/0/x` or a role of that
//! product), IANA time zone, HQ role, status, password policy, groups, custom fields. Unknown
//! values come with a suggestion when one is close ("did you mean 'Admin'?"). Across rows:
//! duplicate logins and emails (case-insensitive; the first occurrence stays valid), and
//! conflicts with existing users through a [`Directory`], looked up in batches.
//!
//! The same [`Validator`] checks one user typed into a form ([`Validator::check_form`]), so a
//! host's "add user" screen and its bulk import can never disagree.

mod cells;
mod email;
mod record;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::config::{ColumnRef, ImportConfig, Mode};
use crate::directory::Directory;
use crate::error::Result;
use crate::issue::{Issue, IssueCode, Severity};
use crate::mapping::Mapping;
use crate::model::{login_key, login_key_cow, same_login_key, HqRole, ProductAccess, Role, Status};
use crate::schema::{Field, Target};
use crate::source::{
    header_name, shape_row, Block, BlockReader, BlockRow, Blocks, Row, RowView, Shape, SourceInfo, Table,
};

pub use self::record::UserRecord;
use self::record::{Pager, Pending, RecordBuilder, RoleSet, Text, MAX_RECORD_TEXT};

/// A map with a fast, non-cryptographic hasher (FxHash), for caches keyed by cell values.
pub(crate) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// The Fx hash of rustc: a multiply and a rotate per word.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// How many rows go to the directory in one lookup.
const DIRECTORY_BATCH: usize = 1000;

/// A host's own check, run with the built-in ones.
///
/// Each method has a default that finds nothing; implement the levels you need. Issues use the
/// same codes, rows and columns as the built-in ones (a host code is `IssueCode::Custom`, written
/// `custom:<name>`). The validator fills in what the rule leaves out: the row, the column (from
/// the issue's `field`), the value of a cell.
///
/// ```
/// use user_import::{Issue, IssueCode, Rule, UserRecord};
///
/// /// "At most 2 admins per import."
/// struct MaxAdmins(usize);
///
/// impl Rule for MaxAdmins {
///     fn check_table(&self, records: &[UserRecord]) -> Vec<Issue> {
///         records
///             .iter()
///             .filter(|r| r.roles().iter().any(|role| role.name() == "Admin"))
///             .skip(self.0)
///             .map(|r| {
///                 Issue::error(IssueCode::Custom("max_admins".into()), format!("more than {} admins", self.0))
///                     .at_row(r.row())
///                     .for_field("roles")
///             })
///             .collect()
///     }
/// }
/// ```
pub trait Rule: Send + Sync {
    /// Checks one non-empty cell of a mapped column (trimmed value).
    fn check_cell(&self, _target: &Target, _value: &str) -> Option<Issue> {
        None
    }
    /// Checks a row that passed every built-in check.
    fn check_row(&self, _record: &UserRecord) -> Vec<Issue> {
        Vec::new()
    }
    /// Checks all valid rows together, after the cross-row checks.
    fn check_table(&self, _records: &[UserRecord]) -> Vec<Issue> {
        Vec::new()
    }
}

/// Told how far the validate stage has read, a few times a second at most; answering `false`
/// cancels the run (it then ends with [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled)).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use user_import::Progress;
///
/// struct Rows(AtomicU64);
/// impl Progress for Rows {
///     fn rows_read(&self, rows: u64) -> bool {
///         self.0.store(rows, Ordering::Relaxed);
///         true // keep going
///     }
/// }
/// ```
pub trait Progress: Send + Sync {
    /// `rows` data rows have been read so far; return `false` to stop.
    fn rows_read(&self, rows: u64) -> bool;
}

/// How often [`Progress`] is told, at most.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// What one row became: a record when it has no error, and its issues (warnings included).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RowOutcome {
    /// The typed user, when the row has no error.
    pub record: Option<UserRecord>,
    /// Everything found in the row.
    pub issues: Vec<Issue>,
}

/// How a mapped column is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Field(Field),
    Product(usize),
    Custom(usize),
    FreeCustom,
}

#[derive(Clone, Debug)]
struct Column {
    index: usize,
    /// Shared by the issues of the column.
    header: Arc<str>,
    /// Products and custom fields: the index of the product id or field name in
    /// [`Validator::names`].
    name: u32,
    target: Target,
    /// Shared by the issues of the column.
    field_key: Arc<str>,
    kind: Kind,
    required: bool,
}

/// Checks rows against a configuration and a mapping.
///
/// Build one per file with [`Validator::new`]; [`Validator::validate`] runs the whole stage over
/// a [`Table`], [`Validator::validate_row`] checks a single row (local checks only).
#[derive(Clone)]
pub struct Validator {
    config: Arc<ImportConfig>,
    mapping: Mapping,
    headers: Vec<String>,
    columns: Vec<Column>,
    /// Product ids and custom field names, which records' extras refer to by index.
    names: Arc<[Arc<str>]>,
    rules: Vec<Arc<dyn Rule>>,
    progress: Option<Arc<dyn Progress>>,
    /// False when the records are counted and dropped (see [`Validator::keep_records`]).
    keep_records: bool,
    builder: RecordBuilderCell,
    caches: CellCaches,
    has_login_column: bool,
    email_column: Option<usize>,
    login_column: Option<usize>,
}

/// The record builder is scratch space: a clone of a validator starts with an empty one. Boxed
/// so that lending it out for a row moves a pointer, not the builder.
#[derive(Default)]
struct RecordBuilderCell(Option<Box<RecordBuilder>>);

impl RecordBuilderCell {
    fn get(&mut self) -> &mut RecordBuilder {
        self.0.get_or_insert_with(Box::default)
    }
}

impl Clone for RecordBuilderCell {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("columns", &self.columns)
            .field("rules", &self.rules.len())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Validator {
    /// A validator for a file whose header is `headers`, mapped by `mapping`.
    pub fn new(config: Arc<ImportConfig>, mapping: Mapping, headers: Vec<String>) -> Self {
        let schema = &config.schema;
        let mut columns = Vec::new();
        // Product ids first (by catalog index), then the custom fields' names.
        let mut names: Vec<Arc<str>> = config.catalog.products.iter().map(|p| Arc::from(p.id())).collect();
        for column in mapping.columns() {
            let Some(target) = column.target.clone() else {
                continue;
            };
            let (kind, required) = match &target {
                Target::Field(field) => (Kind::Field(*field), schema.is_required(*field)),
                Target::Product(id) => match config.catalog.products.iter().position(|p| p.id() == id) {
                    Some(i) => (Kind::Product(i), false),
                    None => continue,
                },
                Target::Custom(name) => match schema.custom_fields.iter().position(|c| &c.name == name) {
                    Some(i) => (Kind::Custom(i), schema.custom_fields[i].required),
                    None => (Kind::FreeCustom, false),
                },
            };
            let target = match target {
                Target::Custom(name) => Target::Custom(name.chars().filter(|c| !c.is_control()).collect()),
                other => other,
            };
            let name = match (&target, kind) {
                (_, Kind::Product(i)) => i,
                (Target::Custom(name), _) => {
                    names.push(Arc::from(name.as_str()));
                    names.len() - 1
                }
                _ => 0,
            };
            let name = u32::try_from(name).unwrap_or(u32::MAX);
            columns.push(Column {
                index: column.index,
                name,
                header: header_name(&headers, column.index).into(),
                field_key: target.to_string().into(),
                target,
                kind,
                required,
            });
        }
        let login_column = mapping.column_of_field(Field::Login);
        let email_column = mapping.column_of_field(Field::Email);
        let caches = CellCaches::new(&config.options.list_separators);
        Validator {
            has_login_column: login_column.is_some(),
            login_column,
            email_column,
            config,
            mapping,
            headers,
            columns,
            names: names.into(),
            rules: Vec::new(),
            progress: None,
            keep_records: true,
            builder: RecordBuilderCell::default(),
            caches,
        }
    }

    /// Adds a host rule.
    pub fn add_rule(&mut self, rule: Arc<dyn Rule>) -> &mut Self {
        self.rules.push(rule);
        self
    }

    /// Whether [`Validator::validate`] keeps the valid records (the default) or only counts
    /// them, for a validation that is reported and never planned: `false` drops everything of a
    /// valid row but the keys the duplicate and directory checks compare (login, email, user to
    /// mirror) as soon as it is checked, and the records themselves at the end (the 1M-row bench
    /// file peaks at 124 MiB instead of 173 MiB). The issues and counts are exactly those of a
    /// validation that keeps them.
    /// Host rules see whole records either way.
    pub(crate) fn keep_records(&mut self, keep: bool) -> &mut Self {
        self.keep_records = keep;
        self
    }

    /// Reports progress (and lets the listener cancel) while [`Validator::validate`] runs.
    pub fn set_progress(&mut self, progress: Arc<dyn Progress>) -> &mut Self {
        self.progress = Some(progress);
        self
    }

    /// The mapping in use.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn issue(row: u64, column: &Column, code: IssueCode, severity: Severity, message: String) -> Issue {
        Issue::new(code, severity, message)
            .at_row(row)
            .in_column(column.index, column.header.clone())
            .for_field(column.field_key.clone())
    }

    /// Completes a host rule's issue: row, column from its field.
    fn complete(&self, mut issue: Issue, row: Option<u64>) -> Issue {
        if issue.row.is_none() {
            issue.row = row;
        }
        if issue.column.is_none() {
            if let Some(field) = &issue.field {
                if let Some(column) = self.columns.iter().find(|c| &c.field_key == field) {
                    issue.column = Some(column.header.clone());
                    issue.column_index = Some(column.index);
                }
            }
        }
        issue
    }

    /// Checks one row on its own (no duplicate or directory checks).
    pub fn validate_row(&mut self, row: &Row) -> RowOutcome {
        let mut issues = self.check_row(row);
        let record = if issues.iter().any(Issue::is_error) {
            self.builder.get().clear();
            None
        } else {
            let mut pager = Pager::new(&self.names);
            let pending = self.builder.get().write(row.number(), &mut pager, &self.caches.role_sets.empty);
            let record = pending.seal(&pager.seal());
            issues.extend(self.row_rules(&record));
            (!issues.iter().any(Issue::is_error)).then_some(record)
        };
        RowOutcome { record, issues }
    }

    /// The host rules' issues on a record that passed the built-in checks.
    fn row_rules(&self, record: &UserRecord) -> Vec<Issue> {
        let mut issues = Vec::new();
        for rule in &self.rules {
            for issue in rule.check_row(record) {
                issues.push(self.complete(issue, Some(record.row())));
            }
        }
        issues
    }

    /// Checks every cell of a row into the builder; returns the row's issues.
    fn check_row<R: RowView>(&mut self, row: &R) -> Vec<Issue> {
        let number = row.number();
        let mut issues: Vec<Issue> = Vec::new();
        for issue in row.issues() {
            let mut issue = issue.clone();
            if let Some(column) = issue.column_index.and_then(|i| self.columns.iter().find(|c| c.index == i)) {
                issue.field = Some(column.field_key.clone());
            }
            issues.push(issue);
        }
        // Empty: every caller clears the builder (or writes it out, which clears it) after a row.
        let mut builder = self.builder.0.take().unwrap_or_default();
        let columns = std::mem::take(&mut self.columns);
        for column in &columns {
            if row.cell_has_issue(column.index) {
                continue;
            }
            let value = cells::trim(row.cell(column.index).unwrap_or(""));
            if value.is_empty() {
                if column.required {
                    issues.push(Self::issue(
                        number,
                        column,
                        IssueCode::RequiredMissing,
                        Severity::Error,
                        format!("{} is required", column.header),
                    ));
                }
                continue;
            }
            let checked = match plain_text(column.kind, value) {
                Some(text) => {
                    builder.set(text, value);
                    None
                }
                None if self.caches.check_cached(&self.config, number, column, value, &mut builder, &mut issues) => {
                    None
                }
                None => Self::check_cell(&self.config, &mut self.caches, number, column, value, &mut builder),
            };
            if let Some(problem) = checked {
                issues.push(problem);
            }
            for rule in &self.rules {
                if let Some(issue) = rule.check_cell(&column.target, value) {
                    let mut issue = issue.at_row(number).in_column(column.index, column.header.clone());
                    issue.field = Some(column.field_key.clone());
                    if column.kind != Kind::Field(Field::Password) && issue.value.is_none() {
                        issue.value = Some(value.to_string());
                    }
                    issues.push(issue);
                }
            }
        }
        self.columns = columns;
        self.finish_identity(number, &mut builder, &mut issues);
        self.check_password(number, &mut builder, &mut issues);
        builder.checked_len = builder.text_len();
        if builder.checked_len > MAX_RECORD_TEXT {
            issues.push(
                Issue::error(IssueCode::TooLarge, "the row's values are too long to import (more than 64 KB of text)")
                    .at_row(number),
            );
        }
        self.builder.0 = Some(builder);
        issues
    }

    /// Login = email when the row has no login; a row needs one or the other.
    fn finish_identity(&self, row: u64, builder: &mut RecordBuilder, issues: &mut Vec<Issue>) {
        if !builder.get(Text::Login).is_empty() {
            return;
        }
        if !builder.get(Text::Email).is_empty() {
            builder.copy(Text::Email, Text::Login);
            return;
        }
        if issues.iter().any(|i| matches!(i.field.as_deref(), Some("login") | Some("email"))) {
            return; // already reported (invalid or missing)
        }
        let schema = &self.config.schema;
        if schema.is_required(Field::Login) || schema.is_required(Field::Email) {
            return; // the required check (per cell, or per file) says it better
        }
        let column = self.login_column.or(self.email_column);
        let mut issue = Issue::error(IssueCode::RequiredMissing, "the row needs a login or an email address")
            .at_row(row)
            .for_field(if self.has_login_column { "login" } else { "email" });
        if let Some(index) = column {
            issue = issue.in_column(index, header_name(&self.headers, index));
        }
        issues.push(issue);
    }

    fn check_password(&self, row: u64, builder: &mut RecordBuilder, issues: &mut Vec<Issue>) {
        let password = builder.get(Text::Password);
        if password.is_empty() {
            return;
        }
        if crate::model::looks_like_password_hash(password) {
            if !self.config.options.accept_password_hashes {
                if let Some(column) = self.columns.iter().find(|c| c.kind == Kind::Field(Field::Password)) {
                    issues.push(Self::issue(
                        row,
                        column,
                        IssueCode::InvalidValue,
                        Severity::Error,
                        "the cell holds a password hash; hashes are imported only when the configuration sets accept_password_hashes".into(),
                    ));
                }
            }
            return; // a hash is taken as it is: no policy applies to it
        }
        let reasons = self.config.catalog.password_policy.check(password, Some(builder.get(Text::Login)));
        if !reasons.is_empty() {
            if let Some(column) = self.columns.iter().find(|c| c.kind == Kind::Field(Field::Password)) {
                // Never the value: only why it is refused.
                issues.push(Self::issue(
                    row,
                    column,
                    IssueCode::WeakPassword,
                    Severity::Error,
                    format!("the password is too weak: {}", reasons.join("; ")),
                ));
            }
        }
    }

    /// Checks one non-empty cell and stores its value; returns the issue, if any. The row's loop
    /// calls it for the cells neither [`plain_text`] nor [`CellCaches::check_cached`] takes; the
    /// kinds `check_cached` checks it hands to that function.
    #[inline(never)]
    fn check_cell(
        config: &ImportConfig,
        caches: &mut CellCaches,
        row: u64,
        column: &Column,
        value: &str,
        builder: &mut RecordBuilder,
    ) -> Option<Issue> {
        let catalog = &config.catalog;
        let bad = |code: IssueCode, message: String| Some(cell_issue(row, column, code, message, value));
        match column.kind {
            Kind::Field(Field::FirstName) | Kind::Field(Field::LastName) => {
                let name = cells::clean_name(value);
                if name.len() > 200 && name.chars().count() > 200 {
                    return bad(IssueCode::InvalidValue, "a name may have at most 200 characters".into());
                }
                let text = if column.kind == Kind::Field(Field::FirstName) { Text::FirstName } else { Text::LastName };
                builder.set(text, &name);
            }
            Kind::Field(Field::Login) => {
                if let Some(problem) = cells::login_problem(value) {
                    return bad(IssueCode::InvalidValue, format!("'{value}' is not a valid login: {problem}"));
                }
                builder.set(Text::Login, value);
            }
            Kind::Field(Field::Email | Field::Roles | Field::Timezone | Field::Status) | Kind::Custom(_) => {
                let mut issues = Vec::new();
                caches.check_cached(config, row, column, value, builder, &mut issues);
                return issues.pop();
            }
            Kind::Field(Field::Password) => builder.set(Text::Password, value),
            Kind::Field(Field::Superior) | Kind::Field(Field::Mirror) => {
                let what = if column.kind == Kind::Field(Field::Superior) { "superior" } else { "user to mirror" };
                // A valid login holds no white space: only a refused one is looked at again.
                if let Some(problem) = cells::login_problem(value) {
                    if value.contains(char::is_whitespace) {
                        return bad(
                            IssueCode::InvalidValue,
                            format!("'{value}' looks like a name; give the {what}'s login name, not their name"),
                        );
                    }
                    return bad(IssueCode::InvalidValue, format!("'{value}' is not a login: {problem}"));
                }
                builder.set(if what == "superior" { Text::Superior } else { Text::Mirror }, value);
            }
            Kind::Field(Field::HqRole) => match value.parse::<HqRole>() {
                Ok(role) => builder.hq_role = Some(role),
                Err(err) => return bad(IssueCode::InvalidValue, err.to_string()),
            },
            Kind::Field(Field::Reference) => builder.set(Text::Reference, value),
            Kind::Field(Field::Groups) => {
                let mut groups = Vec::new();
                let mut created = Vec::new();
                for item in cells::split_list(value, &caches.separators) {
                    if catalog.groups.is_empty() {
                        groups.push(cells::clean_name(item).into_owned());
                    } else if let Some(group) = catalog.group(item) {
                        groups.push(group.to_string());
                    } else if config.options.create_missing_groups {
                        created.push(item.to_string());
                        groups.push(cells::clean_name(item).into_owned());
                    } else {
                        let hint = cells::did_you_mean(item, catalog.groups.iter().map(String::as_str));
                        return bad(IssueCode::UnknownGroup, format!("unknown group '{item}'{hint}"));
                    }
                }
                groups.dedup();
                builder.extras.groups = groups;
                if !created.is_empty() {
                    let message = format!("group(s) {} do not exist yet and will be created", created.join(", "));
                    return Some(
                        Self::issue(row, column, IssueCode::UnknownGroup, Severity::Warning, message).with_value(value),
                    );
                }
            }
            Kind::Field(Field::Products) => {
                for item in cells::split_list(value, &caches.separators) {
                    let (name, role) = match item.split_once([':', '=']) {
                        Some((name, role)) => (cells::trim(name), Some(cells::trim(role)).filter(|r| !r.is_empty())),
                        None => (item, None),
                    };
                    let Some(product) = catalog.product_by_name(name) else {
                        let hint = cells::did_you_mean(name, catalog.products.iter().map(|p| p.name()));
                        return bad(IssueCode::UnknownProduct, format!("unknown product '{name}'{hint}"));
                    };
                    let access = match role {
                        None => product.lowest_access(),
                        Some(role) => match product.role(role) {
                            Some(role) => ProductAccess::Role(role.clone()),
                            None => return bad(IssueCode::UnknownRole, unknown_product_role(product, role)),
                        },
                    };
                    let index = catalog.products.iter().position(|p| p.id() == product.id()).unwrap_or_default();
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    builder.extras.products.retain(|(p, _)| *p != index);
                    builder.extras.products.push((index, access));
                }
            }
            Kind::Product(i) => {
                let product = &catalog.products[i];
                let access = match cells::yes_no(value) {
                    Some(true) => product.lowest_access(),
                    Some(false) => ProductAccess::None,
                    None => match product.role(value) {
                        Some(role) => ProductAccess::Role(role.clone()),
                        None if product.roles().is_empty() => {
                            return bad(IssueCode::InvalidValue, format!("'{value}' is not yes or no"));
                        }
                        None => return bad(IssueCode::UnknownRole, unknown_product_role(product, value)),
                    },
                };
                builder.extras.products.retain(|(p, _)| *p != column.name);
                builder.extras.products.push((column.name, access));
            }
            Kind::FreeCustom => {
                let text = cells::clean_name(value).into_owned();
                builder.extras.custom.push((column.name, crate::model::CustomValue::Text(text)));
            }
        }
        None
    }

    /// Runs the whole stage over a table: every row checked, duplicates and directory conflicts
    /// found, host rules run. Every row ends as a record or as an invalid row.
    ///
    /// UTF-8 delimited text is read a block of records at a time, each block checked on its own
    /// and the blocks merged in file order; with [`ImportOptions::threads`](crate::ImportOptions::threads)
    /// above 1, that many threads check blocks at once. Any other table is read row by row (with
    /// threads above 1, on a second thread, a batch of rows ahead, unless it already reads ahead
    /// on a thread of its own, as a workbook's sheet does). The result is the same.
    pub fn validate(&mut self, table: &mut Table, directory: &dyn Directory) -> Result<Validation> {
        let threads = self.config.options.thread_count();
        let max_rows = table.max_rows();
        if let Some((pending, blocks, shape)) = table.blocks() {
            let (run, rows) = self.check_blocks(pending, blocks, &shape, threads, max_rows, directory)?;
            table.finish_blocks(rows);
            return Ok(self.finish(run, Some(table.info().clone())));
        }
        let run = if threads > 1 && !table.reads_ahead() {
            std::thread::scope(|scope| {
                let feed = RowFeed::spawn(scope, table);
                self.check_rows(feed, directory)
            })?
        } else {
            self.check_rows(RowFeed::Direct(table), directory)?
        };
        Ok(self.finish(run, Some(table.info().clone())))
    }

    /// Checks every row the feed gives; the state of the pass, for [`Validator::finish`].
    fn check_rows(&mut self, mut feed: RowFeed<'_>, directory: &dyn Directory) -> Result<Run> {
        let mut run = Run::default();
        let mut row = Row::default();
        let mut pager = Pager::new(&self.names);
        let mut pending: Vec<Pending> = Vec::new();
        let mut checked = 0;
        let mut told = std::time::Instant::now();
        let mut rows: u64 = 0;
        while feed.read_row(&mut row)? {
            rows += 1;
            // The clock is read every 4,096 rows only: progress costs nothing on the hot path.
            if rows.is_multiple_of(4096) {
                if let Some(progress) = &self.progress {
                    if told.elapsed() >= PROGRESS_EVERY {
                        told = std::time::Instant::now();
                        if !progress.rows_read(rows) {
                            return Err(crate::error::ErrorKind::Cancelled.into());
                        }
                    }
                }
            }
            self.take_row(&row, &mut run, &mut pager, &mut pending);
            if run.records.len() - checked >= DIRECTORY_BATCH {
                self.check_directory(&mut run, checked, directory)?;
                checked = run.records.len();
            }
        }
        self.seal(&mut run, &mut pager, &mut pending);
        self.check_directory(&mut run, checked, directory)?;
        if let Some(progress) = &self.progress {
            if !progress.rows_read(rows) {
                return Err(crate::error::ErrorKind::Cancelled.into());
            }
        }
        Ok(run)
    }

    /// Checks one row into `run`: a record waiting for its page to be sealed, or an invalid row.
    fn take_row<R: RowView>(&mut self, row: &R, run: &mut Run, pager: &mut Pager, pending: &mut Vec<Pending>) {
        let issues = self.check_row(row);
        if issues.iter().any(Issue::is_error) {
            self.builder.get().clear();
            run.add_invalid(row, self);
        } else {
            let builder = self.builder.get();
            let owner = Owner::record(run.records.len() + pending.len());
            let login = builder.get(Text::Login);
            let email = builder.get(Text::Email);
            let derived = !email.is_empty() && email == login && !row_has(row, self.login_column);
            run.keys.add_login(login, owner, derived);
            if !email.is_empty() && !derived {
                run.keys.add_email(email, owner);
            }
            let builder = self.builder.get();
            if !self.keep_records && self.rules.is_empty() {
                builder.keep_lookups_only();
            }
            // A record's texts stay on one page: seal the page when they do not fit (or when the
            // page already has as many role sets as a record can name).
            let needed = builder.checked_len;
            let roles = builder.roles.as_ref().unwrap_or(&self.caches.role_sets.empty);
            if !pager.has_room(needed) || !pager.has_role_room(roles) {
                self.seal(run, pager, pending);
                pager.start_page(needed);
            }
            pending.push(self.builder.get().write(row.number(), pager, &self.caches.role_sets.empty));
        }
        run.issues.extend(issues);
    }

    /// Checks the rows of one block into a part of the result.
    /// Checks the rows of one block into `run` (after what it holds); returns how many data rows
    /// the block held.
    fn check_block(
        &mut self,
        reader: &mut BlockReader,
        block: &Block<'_>,
        shape: &Shape<'_>,
        run: &mut Run,
    ) -> Result<u64> {
        let mut pager = Pager::new(&self.names);
        let mut pending: Vec<Pending> = Vec::new();
        let rows = reader.read(block, shape, |row| {
            match row {
                BlockRow::Cells(cells) => self.take_row(&cells, run, &mut pager, &mut pending),
                BlockRow::Row(row) => self.take_row(row, run, &mut pager, &mut pending),
            }
            Ok(())
        })?;
        self.seal(run, &mut pager, &mut pending);
        Ok(rows)
    }

    /// The validate stage over delimited text read a block at a time (see [`Blocks`]): the rows
    /// read ahead first, then every block, on `threads` threads. Blocks are merged in file order,
    /// so the result does not depend on the number of threads. Returns the run and the number of
    /// data rows.
    fn check_blocks(
        &mut self,
        pending: Vec<Row>,
        mut blocks: Blocks<'_>,
        shape: &Shape<'_>,
        threads: usize,
        max_rows: u64,
        directory: &dyn Directory,
    ) -> Result<(Run, u64)> {
        let mut merged = Merged::new(max_rows, blocks.total_bytes());
        // The rows read ahead while the header was found.
        let mut part = Part::default();
        let (mut pager, mut waiting) = (Pager::new(&self.names), Vec::new());
        for mut row in pending {
            shape_row(&mut row, shape);
            part.rows += 1;
            self.take_row(&row, &mut part.run, &mut pager, &mut waiting);
        }
        self.seal(&mut part.run, &mut pager, &mut waiting);
        merged.add(self, part, directory)?;
        if threads <= 1 {
            // One thread: each block is checked straight into the merged run.
            let mut reader = blocks.reader();
            while let Some(block) = blocks.next_block()? {
                merged.make_room();
                let start = (merged.run.records.len(), merged.run.invalid_rows.len());
                let rows = self.check_block(&mut reader, &block, shape, &mut merged.run)?;
                merged.check_limit(rows, start)?;
                merged.added(self, rows, block.len(), directory)?;
            }
        } else {
            self.check_blocks_threaded(blocks, shape, threads, &mut merged, directory)?;
        }
        merged.finish(self, directory)
    }

    /// Blocks checked by `threads` workers, each with its own copy of this validator; this
    /// thread merges their parts in file order and asks the directory. Workers stay at most
    /// [`BLOCKS_AHEAD`] blocks ahead of the merge.
    fn check_blocks_threaded(
        &mut self,
        blocks: Blocks<'_>,
        shape: &Shape<'_>,
        threads: usize,
        merged: &mut Merged,
        directory: &dyn Directory,
    ) -> Result<()> {
        use std::sync::{mpsc, Condvar, Mutex};
        struct Shared<'t> {
            blocks: Blocks<'t>,
            next: usize,
            merged: usize,
            stop: bool,
            /// Runs merged and emptied, with their room: a worker fills one again rather than
            /// growing a new one for every block (whose freed room, between the pages of records
            /// kept, the allocator could not give back).
            spare: Vec<Run>,
        }
        let shared = Mutex::new(Shared { blocks, next: 0, merged: 0, stop: false, spare: Vec::new() });
        let ahead = Condvar::new();
        let (parts, received) = mpsc::channel::<(usize, Result<Part>)>();
        let stop = |shared: &Mutex<Shared<'_>>| {
            if let Ok(mut state) = shared.lock() {
                state.stop = true;
            }
            ahead.notify_all();
        };
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let (shared, ahead, parts) = (&shared, &ahead, parts.clone());
                let mut validator = self.clone();
                scope.spawn(move || {
                    let Ok(state) = shared.lock() else { return };
                    let mut reader = state.blocks.reader();
                    drop(state);
                    loop {
                        let (seq, block, mut run) = {
                            let Ok(mut state) = shared.lock() else { return };
                            while !state.stop && state.next >= state.merged + BLOCKS_AHEAD {
                                let Ok(next) = ahead.wait(state) else { return };
                                state = next;
                            }
                            if state.stop {
                                return;
                            }
                            let seq = state.next;
                            state.next += 1;
                            match state.blocks.next_block() {
                                Ok(Some(block)) => (seq, block, state.spare.pop().unwrap_or_default()),
                                Ok(None) => return,
                                Err(err) => {
                                    state.stop = true;
                                    let _ = parts.send((seq, Err(err)));
                                    return;
                                }
                            }
                        };
                        let part = validator.check_block(&mut reader, &block, shape, &mut run).map(|rows| Part {
                            run,
                            rows,
                            bytes: block.len(),
                        });
                        if parts.send((seq, part)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(parts);
            let mut early: BTreeMap<usize, Result<Part>> = BTreeMap::new();
            let mut next = 0;
            for (seq, part) in received {
                early.insert(seq, part);
                while let Some(part) = early.remove(&next) {
                    let emptied = match part.and_then(|part| merged.add(self, part, directory)) {
                        Ok(emptied) => emptied,
                        Err(err) => {
                            stop(&shared);
                            return Err(err);
                        }
                    };
                    next += 1;
                    if let Ok(mut state) = shared.lock() {
                        state.merged = next;
                        state.spare.push(emptied);
                    }
                    ahead.notify_all();
                }
            }
            Ok(())
        })
    }

    /// Seals the page being filled: its pending records become records; host row rules run.
    fn seal(&self, run: &mut Run, pager: &mut Pager, pending: &mut Vec<Pending>) {
        if pending.is_empty() {
            return;
        }
        let page = pager.seal();
        let first = run.records.len();
        run.records.extend(pending.drain(..).map(|p| p.seal(&page)));
        if !self.rules.is_empty() {
            let issues: Vec<Issue> = run.records[first..].iter().flat_map(|r| self.row_rules(r)).collect();
            run.add_cross_row(issues);
        }
    }

    /// Checks one user typed into a form, with exactly the checks of a bulk import (the
    /// directory included). `values` maps fields to what was typed; the issues have no row.
    pub fn check_form(
        config: Arc<ImportConfig>,
        values: &[(Target, &str)],
        directory: &dyn Directory,
    ) -> Result<RowOutcome> {
        let headers: Vec<String> = values.iter().map(|(target, _)| target_label(&config, target)).collect();
        let mut form_config = (*config).clone();
        form_config.options.mapping.clear();
        form_config.options.strict_headers = false;
        let mut mapping = Mapping::new(&headers, &form_config)?;
        for (i, (target, _)) in values.iter().enumerate() {
            mapping.set(&ColumnRef::Index(i), Some(target.clone()))?;
        }
        let row = Row::new(1, values.iter().map(|(_, v)| *v));
        let mut table = Table::from_rows(headers.clone(), vec![row]);
        let mut validator = Validator::new(config, mapping, headers);
        let validation = validator.validate(&mut table, directory)?;
        let mut issues: Vec<Issue> =
            validation.issues.into_iter().filter(|i| i.code != IssueCode::RequiredMissing || i.row.is_some()).collect();
        for issue in &mut issues {
            issue.row = None;
        }
        // Required fields absent from the form are missing values, not missing columns.
        for (target, label) in validator.config.schema.required_targets() {
            if !values.iter().any(|(t, _)| *t == target) {
                issues.push(
                    Issue::error(IssueCode::RequiredMissing, format!("{label} is required"))
                        .for_field(target.to_string()),
                );
            }
        }
        let record = if issues.iter().any(Issue::is_error) { None } else { validation.records.into_iter().next() };
        Ok(RowOutcome { record, issues })
    }

    /// Looks up the records of `run.records[start..]` in the directory and applies the rules
    /// that depend on existing users.
    fn check_directory(&self, run: &mut Run, start: usize, directory: &dyn Directory) -> Result<()> {
        self.check_directory_range(run, start, run.records.len(), directory)
    }

    /// [`Validator::check_directory`] for the records of `run.records[start..end]`.
    fn check_directory_range(&self, run: &mut Run, start: usize, end: usize, directory: &dyn Directory) -> Result<()> {
        let batch = run.records.get(start..end).unwrap_or_default();
        if batch.is_empty() {
            return Ok(());
        }
        if directory.is_empty()? {
            // Nobody to find: only the rules for new users apply.
            let mut found = Vec::new();
            for record in batch {
                self.add_legacy_status_issue(record, &mut found);
                if let Some(mirror) = record.mirror() {
                    found.push(self.missing_mirror_issue(record.row(), mirror));
                }
            }
            run.add_cross_row(found);
            return Ok(());
        }
        let logins: Vec<&str> = batch.iter().map(UserRecord::login).collect();
        let emails: Vec<&str> = batch.iter().filter_map(UserRecord::email).collect();
        let mirrors: Vec<&str> = batch.iter().filter_map(UserRecord::mirror).collect();
        // The keys of the users found, and for each email found the login of its owner.
        let by_login: FastMap<String, ()> =
            directory.find_by_logins(&logins)?.iter().map(|u| (u.login_key(), ())).collect();
        let by_email: FastMap<String, String> = directory
            .find_by_emails(&emails)?
            .into_iter()
            .filter_map(|u| Some((login_key(u.email.as_deref()?), u.login)))
            .collect();
        let mirrors_found: FastMap<String, ()> = if mirrors.is_empty() {
            FastMap::default()
        } else {
            directory.find_by_logins(&mirrors)?.iter().map(|u| (u.login_key(), ())).collect()
        };
        let mode = self.config.options.mode;
        let mut found = Vec::new();
        for record in run.records.get_mut(start..end).unwrap_or_default() {
            // Most imports create users: only compute keys when the directory knows someone.
            let key = if by_login.is_empty() && by_email.is_empty() {
                std::borrow::Cow::Borrowed("")
            } else {
                login_key_cow(record.login())
            };
            let existing = !by_login.is_empty() && by_login.contains_key(key.as_ref());
            let row = record.row();
            if existing && mode == Mode::CreateOnly {
                found.push(self.field_issue(
                    row,
                    Field::Login,
                    IssueCode::ExistsInDirectory,
                    format!("user '{}' already exists (this import only creates users)", record.login()),
                    Some(record.login()),
                ));
            }
            if let Some(email) = record.email().filter(|_| !by_email.is_empty()) {
                if let Some(owner) = by_email.get(login_key_cow(email).as_ref()) {
                    if login_key_cow(owner) != key {
                        found.push(self.field_issue(
                            row,
                            Field::Email,
                            IssueCode::ExistsInDirectory,
                            format!("the email '{email}' already belongs to the existing user '{owner}'"),
                            Some(email),
                        ));
                    }
                }
            }
            if !existing {
                self.add_legacy_status_issue(record, &mut found);
            }
            if let Some(mirror) = record.mirror() {
                if !mirrors_found.contains_key(login_key_cow(mirror).as_ref()) {
                    found.push(self.missing_mirror_issue(record.row(), mirror));
                }
            }
            drop(key);
            if existing {
                record.set_exists();
            }
        }
        run.add_cross_row(found);
        Ok(())
    }

    /// Adds to `found` the issue of a new user's legacy status (blocked, disabled: for existing
    /// users only), if it has one. Pushed here rather than returned as an `Option<Issue>` for the
    /// caller to `extend` with: that copied the option (a call to `memcpy`) for every record,
    /// issue or not. Inlined into the loops over every record: called, it cost ~15 instructions
    /// a record (callgrind).
    #[inline(always)]
    fn add_legacy_status_issue(&self, record: &UserRecord, found: &mut Vec<Issue>) {
        if let Some(status) = record.status().filter(|status| status.is_legacy()) {
            found.push(self.field_issue(
                record.row(),
                Field::Status,
                IssueCode::LegacyStatus,
                format!("'{status}' is kept for existing users only and cannot be given to a new user"),
                Some(status.as_str()),
            ));
        }
    }

    fn missing_mirror_issue(&self, row: u64, mirror: &str) -> Issue {
        self.field_issue(
            row,
            Field::Mirror,
            IssueCode::InvalidValue,
            format!("there is no existing user '{mirror}' to copy permissions from"),
            Some(mirror),
        )
    }

    fn field_issue(&self, row: u64, field: Field, code: IssueCode, message: String, value: Option<&str>) -> Issue {
        let mut issue = Issue::error(code, message).at_row(row).for_field(field.key());
        let column = self.mapping.column_of_field(field).or(match field {
            Field::Login => self.email_column,
            _ => None,
        });
        if let Some(index) = column {
            issue = issue.in_column(index, header_name(&self.headers, index));
        }
        if let Some(value) = value {
            issue = issue.with_value(value);
        }
        issue
    }

    fn finish(&self, mut run: Run, info: Option<SourceInfo>) -> Validation {
        // Duplicates: the first occurrence stays valid, each later one is flagged.
        let duplicates = run.keys.duplicates(&run.records, &run.side);
        let mut found = Vec::new();
        for duplicate in duplicates {
            let field = if duplicate.email { Field::Email } else { Field::Login };
            let what = if duplicate.email { "email" } else { "login" };
            found.push(self.field_issue(
                duplicate.row,
                field,
                IssueCode::DuplicateInFile,
                format!("the {what} '{}' is already used by row {}", duplicate.key, duplicate.first_row),
                Some(&duplicate.key),
            ));
        }
        run.add_cross_row(found);
        run.compact();
        if !self.rules.is_empty() {
            let mut table_issues = Vec::new();
            for rule in &self.rules {
                for issue in rule.check_table(&run.records) {
                    table_issues.push(self.complete(issue, None));
                }
            }
            run.add_cross_row(table_issues);
            run.compact();
        }
        let Run { records: mut kept, mut invalid_rows, mut issues, side, mut invalid_logins, .. } = run;
        let valid = kept.len() as u64;
        if !self.keep_records {
            kept = Vec::new();
        }
        invalid_rows.sort_unstable();
        invalid_logins.extend(side.into_iter().filter_map(|keys| {
            let login = keys.login.or_else(|| if self.login_column.is_none() { keys.email } else { None })?;
            Some((keys.row, login))
        }));
        invalid_logins.sort_unstable();
        let mut file_issues: Vec<Issue> = self.mapping.issues().to_vec();
        file_issues.append(&mut issues);
        sort_issues(&mut file_issues);
        Validation {
            info,
            headers: self.headers.clone(),
            mapping: self.mapping.clone(),
            records: kept,
            valid,
            invalid_rows,
            invalid_logins,
            issues: file_issues,
        }
    }
}

/// Cell values seen and what they gave: a column of roles or time zones holds a handful of
/// distinct values. The first [`Memo::FEW`] are found by a look at each (their [`Prints`] first)
/// — they are nearly always the common ones — and the later ones in a hash map, up to
/// [`Memo::MOST`].
#[derive(Clone)]
struct Memo<V> {
    few: Vec<(Prints, Box<str>, V)>,
    many: FastMap<Box<str>, V>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo { few: Vec::new(), many: FastMap::default() }
    }
}

impl<V> Memo<V> {
    const FEW: usize = 16;
    const MOST: usize = 4096;

    fn get(&self, value: &str) -> Option<&V> {
        let prints = Prints::of(value);
        let few = self.few.iter().find(|(known, text, _)| *known == prints && (prints.whole() || **text == *value));
        match few {
            Some((_, _, v)) => Some(v),
            None if self.many.is_empty() => None,
            None => self.many.get(value),
        }
    }

    fn insert(&mut self, value: &str, result: V) {
        if self.few.len() < Self::FEW {
            self.few.push((Prints::of(value), value.into(), result));
        } else if self.many.len() < Self::MOST {
            self.many.insert(value.into(), result);
        }
    }

    /// What `value` gave before, else what `find` gives, remembered.
    fn remembered(&mut self, value: &str, find: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        if let Some(known) = self.get(value) {
            return known.clone();
        }
        let found = find();
        self.insert(value, found.clone());
        found
    }
}

/// A text's length and its first and last eight bytes ([`crate::model::end_words`]): equal texts
/// have equal prints, and texts of at most sixteen bytes with equal prints are equal. Three words
/// compared instead of a call to compare the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Prints {
    len: usize,
    head: u64,
    tail: u64,
}

impl Prints {
    #[inline]
    fn of(text: &str) -> Prints {
        let (head, tail) = crate::model::end_words(text.as_bytes());
        Prints { len: text.len(), head, tail }
    }

    /// True when the prints cover every byte of the text: equal prints, equal texts.
    fn whole(self) -> bool {
        self.len <= 16
    }
}

/// What the checks of cells remember between rows: the role sets of the role cells seen, the
/// zone (or the reason it is none) of each time-zone cell seen, the email domain proved last;
/// and what separates the items of a list cell (roles, groups, products).
#[derive(Clone)]
struct CellCaches {
    separators: Arc<[char]>,
    role_sets: RoleSets,
    /// Each distinct role cell: its set of roles, or why it is refused.
    role_cells: Memo<std::result::Result<Arc<RoleSet>, String>>,
    /// Each distinct time-zone cell: its zone, or why it is not one.
    timezones: Memo<std::result::Result<chrono_tz::Tz, String>>,
    /// The email domain proved last.
    email_domain: email::KnownDomain,
}

impl CellCaches {
    fn new(list_separators: &str) -> Self {
        CellCaches {
            separators: list_separators.chars().collect::<Vec<_>>().into(),
            role_sets: RoleSets::default(),
            role_cells: Memo::default(),
            timezones: Memo::default(),
            email_domain: email::KnownDomain::default(),
        }
    }

    /// Checks a cell of the kinds whose check is nearly always a look into these caches or one
    /// call — an email, roles, a time zone, a status, a custom value — stores its value and adds
    /// its issue, if any, to `issues`. Inlined in the row's loop: a call to
    /// [`Validator::check_cell`], the large function for the other kinds, costs ~45 instructions
    /// of prologue and dispatch. What is rare — a refused cell, a role or time-zone cell not seen
    /// before — goes to a cold function of its kind. `false` for a cell of another kind.
    #[inline(always)]
    fn check_cached(
        &mut self,
        config: &ImportConfig,
        row: u64,
        column: &Column,
        value: &str,
        builder: &mut RecordBuilder,
        issues: &mut Vec<Issue>,
    ) -> bool {
        match column.kind {
            Kind::Field(Field::Email) => {
                if !self.email(value, builder) {
                    issues.push(invalid_email(row, column, value));
                }
            }
            Kind::Field(Field::Roles) => match self.role_cells.get(value) {
                Some(Ok(set)) => builder.roles = Some(Arc::clone(set)),
                _ => self.role_cell(&config.catalog, row, column, value, builder, issues),
            },
            Kind::Field(Field::Timezone) => match self.timezones.get(value) {
                Some(Ok(tz)) => builder.timezone = Some(*tz),
                _ => self.timezone_cell(row, column, value, builder, issues),
            },
            Kind::Field(Field::Status) => match Status::parse_trimmed(value) {
                Ok(status) if config.catalog.allows_status(status) => builder.status = Some(status),
                refused => refuse_status(issues, &config.catalog, row, column, value, refused),
            },
            // The columns are made from the same schema: a custom column's field is always there.
            Kind::Custom(i) => {
                let Some(field) = config.schema.custom_fields.get(i) else {
                    return false;
                };
                match cells::custom_value(field, value) {
                    Ok(v) => builder.extras.custom.push((column.name, v)),
                    Err(message) => refuse_cell(issues, row, column, IssueCode::InvalidValue, message, value),
                }
            }
            _ => return false,
        }
        true
    }

    /// Checks an email cell and stores the address (its domain lowercased); `false` when it is
    /// not an address.
    #[inline(always)]
    fn email(&mut self, value: &str, builder: &mut RecordBuilder) -> bool {
        match email::check(value, &mut self.email_domain) {
            Some(true) => builder.set(Text::Email, value),
            Some(false) => email::normalize_into(value, builder.text_mut(Text::Email)),
            None => return false,
        }
        true
    }

    /// A time-zone cell that is not a zone seen before: one not seen at all (its zone, or why it
    /// is none, found and remembered: a column holds a handful of values, and a wrong one tends
    /// to repeat, so its suggestion is searched for once), or one refused before.
    #[cold]
    #[inline(never)]
    fn timezone_cell(
        &mut self,
        row: u64,
        column: &Column,
        value: &str,
        builder: &mut RecordBuilder,
        issues: &mut Vec<Issue>,
    ) {
        let known =
            self.timezones.remembered(value, || cells::timezone(value).ok_or_else(|| cells::timezone_error(value)));
        match known {
            Ok(tz) => builder.timezone = Some(tz),
            Err(message) => issues.push(cell_issue(row, column, IssueCode::InvalidTimezone, message, value)),
        }
    }

    /// A role cell that is not a set of roles seen before: one not seen at all ("Admin",
    /// "Editor;Viewer": they repeat down a file), its roles found in the catalog and their set
    /// remembered, or the unknown ones and a suggestion; or one refused before, its reason
    /// reported again.
    #[cold]
    #[inline(never)]
    fn role_cell(
        &mut self,
        catalog: &Catalog,
        row: u64,
        column: &Column,
        value: &str,
        builder: &mut RecordBuilder,
        issues: &mut Vec<Issue>,
    ) {
        let (sets, separators) = (&mut self.role_sets, &self.separators);
        let known = self.role_cells.remembered(value, || sets.of_cell(catalog, separators, value));
        match known {
            Ok(set) => builder.roles = Some(set),
            Err(message) => issues.push(cell_issue(row, column, IssueCode::UnknownRole, message, value)),
        }
    }
}

/// The role sets of a file's records, each shared by every record with the same roles (most
/// files use a handful of combinations), and the scratch to find a cell's.
#[derive(Clone, Default)]
struct RoleSets {
    sets: FastMap<String, Arc<RoleSet>>,
    /// The set of no roles.
    empty: Arc<RoleSet>,
    /// The key of a set being looked up: its roles' names, each followed by `\u{1f}`.
    key: String,
    scratch: Vec<Role>,
}

impl RoleSets {
    /// The set of roles a role cell names, or why it is refused (the unknown roles, a suggestion
    /// and the catalog's roles).
    fn of_cell(
        &mut self,
        catalog: &Catalog,
        separators: &[char],
        value: &str,
    ) -> std::result::Result<Arc<RoleSet>, String> {
        let mut unknown = Vec::new();
        let mut roles = std::mem::take(&mut self.scratch);
        roles.clear();
        for item in cells::split_list(value, separators) {
            let role = if catalog.roles.is_empty() {
                Role::new(cells::clean_name(item))
            } else {
                match catalog.role(item) {
                    Some(role) => role.clone(),
                    None => {
                        unknown.push(item.to_string());
                        continue;
                    }
                }
            };
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        let known = match unknown.first() {
            Some(first) => {
                let hint = cells::did_you_mean(first, catalog.roles.iter().map(Role::name));
                let list = unknown.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ");
                let known_list = catalog.roles.iter().map(Role::name).collect::<Vec<_>>().join(", ");
                let plural = if unknown.len() == 1 { "" } else { "s" };
                Err(format!("unknown role{plural} {list}{hint}; the roles are: {known_list}"))
            }
            None => Ok(self.intern(&roles)),
        };
        self.scratch = roles;
        known
    }

    /// The shared set of these roles.
    fn intern(&mut self, roles: &[Role]) -> Arc<RoleSet> {
        if roles.is_empty() {
            return Arc::clone(&self.empty);
        }
        self.key.clear();
        for role in roles {
            self.key.push_str(role.name());
            self.key.push('\u{1f}');
        }
        if let Some(set) = self.sets.get(self.key.as_str()) {
            return Arc::clone(set);
        }
        let set = Arc::new(RoleSet(roles.to_vec()));
        self.sets.insert(self.key.clone(), Arc::clone(&set));
        set
    }
}

/// The text a cell goes to as it is, when a byte test is enough to take it (the cells most rows
/// hold: names needing no change, logins of plain ASCII, passwords, references); `None` for
/// every other cell, and for those that fail their test, which [`Validator::check_cell`] checks.
#[inline(always)]
fn plain_text(kind: Kind, value: &str) -> Option<Text> {
    match kind {
        Kind::Field(Field::Password) => Some(Text::Password),
        Kind::Field(Field::Reference) => Some(Text::Reference),
        Kind::Field(Field::Login) if cells::is_plain_login(value) => Some(Text::Login),
        Kind::Field(Field::Superior) if cells::is_plain_login(value) => Some(Text::Superior),
        Kind::Field(Field::FirstName) if cells::is_plain_name(value) => Some(Text::FirstName),
        Kind::Field(Field::LastName) if cells::is_plain_name(value) => Some(Text::LastName),
        _ => None,
    }
}

/// The issue of a cell that is not an email address.
#[cold]
fn invalid_email(row: u64, column: &Column, value: &str) -> Issue {
    let message = format!("'{value}' is not an email address");
    cell_issue(row, column, IssueCode::InvalidEmail, message, value)
}

/// An error in a cell, with the cell's value.
fn cell_issue(row: u64, column: &Column, code: IssueCode, message: String, value: &str) -> Issue {
    Validator::issue(row, column, code, Severity::Error, message).with_value(value)
}

/// Adds the error of a cell refused for `message` (the cold end of a check inlined in the row's
/// loop).
#[cold]
#[inline(never)]
fn refuse_cell(issues: &mut Vec<Issue>, row: u64, column: &Column, code: IssueCode, message: String, value: &str) {
    issues.push(cell_issue(row, column, code, message, value));
}

/// Adds why a status cell is refused: not a status, or one the catalog does not allow.
#[cold]
#[inline(never)]
fn refuse_status(
    issues: &mut Vec<Issue>,
    catalog: &Catalog,
    row: u64,
    column: &Column,
    value: &str,
    parsed: std::result::Result<Status, crate::model::ParseEnumError>,
) {
    let message = match parsed {
        Ok(status) => {
            let allowed = catalog.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            format!("status '{status}' is not allowed here; allowed: {allowed}")
        }
        Err(err) => err.to_string(),
    };
    issues.push(cell_issue(row, column, IssueCode::InvalidValue, message, value));
}

fn unknown_product_role(product: &crate::model::Product, value: &str) -> String {
    let roles: Vec<&str> = product.roles().iter().map(Role::name).collect();
    format!(
        "'{value}' is neither yes/no nor a role of {} ({}){}",
        product.name(),
        roles.join(", "),
        cells::did_you_mean(value, roles.iter().copied())
    )
}

/// The label of a target in this configuration.
fn target_label(config: &ImportConfig, target: &Target) -> String {
    match target {
        Target::Field(field) => {
            config.schema.spec(*field).map_or_else(|| field.label().to_string(), |s| s.label().to_string())
        }
        Target::Product(id) => config.catalog.product_by_id(id).map_or_else(|| id.clone(), |p| p.name().to_string()),
        Target::Custom(name) => {
            config.schema.custom_field(name).map_or_else(|| name.clone(), |c| c.label().to_string())
        }
    }
}

/// Where an issue goes in report order: file-level first, then by row, then by column (an issue
/// of no column after those of the row's cells).
pub(crate) fn issue_order(issue: &Issue) -> (u64, usize) {
    (issue.row.map_or(0, |row| row.saturating_add(1)), issue.column_index.unwrap_or(usize::MAX))
}

/// Issues in report order: file-level first, then by row and column; ties keep their order.
///
/// Each stage writes its issues in row order, so they come in a few sorted runs: a stable sort of
/// their positions by key merges the runs (reading the keys, not copying them), then the issues
/// are swapped into place one cycle of the permutation at a time. No second array of issues
/// (up to 160 bytes each; the plan of the benches' million rows sorts its own 24,000 and writes
/// 127,000 more in place): one position each.
pub(crate) fn sort_issues(issues: &mut [Issue]) {
    let key = issue_order;
    if issues.windows(2).all(|pair| key(&pair[0]) <= key(&pair[1])) {
        return;
    }
    // `order[k]`: the position of the issue that goes to position `k`.
    let mut order: Vec<usize> = (0..issues.len()).collect();
    order.sort_by_key(|&i| issues.get(i).map(key));
    for start in 0..order.len() {
        // Follow the cycle through `start`: each position gets its issue, and the issue that was
        // at `start` travels along to the last position of the cycle. Placed positions point at
        // themselves.
        let mut at = start;
        while let Some(slot) = order.get_mut(at) {
            let from = std::mem::replace(slot, at);
            if from == start || from == at || from >= issues.len() {
                break;
            }
            issues.swap(at, from);
            at = from;
        }
    }
}

/// Rows read by the feeding thread are handed over this many at a time.
const FEED_BATCH: usize = 256;

/// Where [`Validator::check_rows`] gets its rows: straight from the table, or from a thread that
/// reads the table ahead, in batches, over a bounded channel. Batches come back to the reader
/// empty-handed but with their rows' allocations, which it fills again.
enum RowFeed<'a> {
    Direct(&'a mut Table),
    Threaded {
        batches: std::sync::mpsc::Receiver<Result<Vec<Row>>>,
        returns: std::sync::mpsc::Sender<Vec<Row>>,
        batch: Vec<Row>,
        next: usize,
    },
}

impl<'a> RowFeed<'a> {
    /// Starts a thread of `scope` that reads `table`; it stops at the end of the table, at its
    /// first error, or when the feed is dropped.
    fn spawn<'scope, 'env>(scope: &'scope std::thread::Scope<'scope, 'env>, table: &'env mut Table) -> Self
    where
        'env: 'scope,
    {
        let (sender, batches) = std::sync::mpsc::sync_channel::<Result<Vec<Row>>>(8);
        let (returns, returned) = std::sync::mpsc::channel::<Vec<Row>>();
        scope.spawn(move || loop {
            let mut batch = returned.try_recv().unwrap_or_default();
            let mut filled = 0;
            while filled < FEED_BATCH {
                if filled == batch.len() {
                    batch.push(Row::default());
                }
                let Some(row) = batch.get_mut(filled) else { break };
                match table.read_row(row) {
                    Ok(true) => filled += 1,
                    Ok(false) => break,
                    Err(err) => {
                        let _ = sender.send(Err(err));
                        return;
                    }
                }
            }
            batch.truncate(filled);
            if filled > 0 && sender.send(Ok(batch)).is_err() {
                return; // the validation stopped (cancelled, or an error)
            }
            if filled < FEED_BATCH {
                return;
            }
        });
        RowFeed::Threaded { batches, returns, batch: Vec::new(), next: 0 }
    }

    /// Reads the next row into `row`, as [`Table::read_row`] does.
    fn read_row(&mut self, row: &mut Row) -> Result<bool> {
        match self {
            RowFeed::Direct(table) => table.read_row(row),
            RowFeed::Threaded { batches, returns, batch, next } => {
                if *next == batch.len() {
                    if !batch.is_empty() {
                        let _ = returns.send(std::mem::take(batch));
                    }
                    *next = 0;
                    match batches.recv() {
                        Ok(Ok(rows)) => *batch = rows,
                        Ok(Err(err)) => return Err(err),
                        Err(_) => return Ok(false), // the reader is done
                    }
                }
                match batch.get_mut(*next) {
                    Some(slot) => {
                        std::mem::swap(row, slot);
                        *next += 1;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
        }
    }
}

/// How many blocks the workers may be ahead of the merge.
const BLOCKS_AHEAD: usize = 8;

/// The rows of one block, checked.
#[derive(Default)]
struct Part {
    run: Run,
    /// Data rows.
    rows: u64,
    /// The size of the block.
    bytes: usize,
}

/// The parts merged so far, in file order, and what is done as they arrive: the row limit, the
/// directory asked a batch of records at a time, progress told and cancellation heard.
struct Merged {
    run: Run,
    rows: u64,
    max_rows: u64,
    /// The bytes of the blocks merged so far, and of all of them when known: room for the
    /// records is made once, from the first blocks' rows per byte.
    bytes: usize,
    total_bytes: Option<usize>,
    /// Records before this index have been looked up in the directory.
    checked: usize,
    told: std::time::Instant,
}

impl Merged {
    fn new(max_rows: u64, total_bytes: Option<usize>) -> Self {
        Merged {
            run: Run::default(),
            rows: 0,
            max_rows,
            bytes: 0,
            total_bytes,
            checked: 0,
            told: std::time::Instant::now(),
        }
    }

    /// Makes room for the records of the whole file, estimated from the rows per byte so far
    /// (a little more than needed: room not used is never touched).
    fn reserve(&mut self) {
        let Some(total) = self.total_bytes.filter(|_| self.bytes > 0 && !self.run.records.is_empty()) else {
            return;
        };
        let expected = (self.run.records.len() as f64 * total as f64 / self.bytes as f64 * 1.05) as usize;
        let expected = expected.min(usize::try_from(self.max_rows).unwrap_or(usize::MAX));
        let run = &mut self.run;
        if expected > run.records.capacity() {
            run.records.reserve(expected - run.records.len());
            run.keys.logins.reserve(expected.saturating_sub(run.keys.logins.len()));
            run.keys.emails.reserve(expected.saturating_sub(run.keys.emails.len()));
        }
    }

    /// Makes room for the rest of the file when the records are about to outgrow their room.
    fn make_room(&mut self) {
        if self.run.records.capacity() - self.run.records.len() < 16 * 1024 {
            self.reserve();
        }
    }

    /// Merges a part checked on its own; returns its run emptied, with its room, to be filled
    /// again.
    fn add(&mut self, validator: &Validator, mut part: Part, directory: &dyn Directory) -> Result<Run> {
        if self.rows + part.rows > self.max_rows {
            return Err(self.too_many_rows(&part.run, (0, 0)));
        }
        if self.run.records.len() + part.run.records.len() > self.run.records.capacity() {
            self.reserve();
        }
        self.run.absorb(&mut part.run);
        self.added(validator, part.rows, part.bytes, directory)?;
        Ok(part.run)
    }

    /// Refuses the file when the `rows` data rows just added to the run (its records and invalid
    /// rows from `start` on) go beyond the limit.
    fn check_limit(&self, rows: u64, start: (usize, usize)) -> Result<()> {
        if self.rows + rows > self.max_rows {
            return Err(self.too_many_rows(&self.run, start));
        }
        Ok(())
    }

    /// The error for the first data row beyond the limit, among those of `run` from `start` on.
    fn too_many_rows(&self, run: &Run, (records, invalid): (usize, usize)) -> crate::Error {
        let mut numbers: Vec<u64> =
            run.records.get(records..).unwrap_or_default().iter().map(UserRecord::row).collect();
        numbers.extend_from_slice(run.invalid_rows.get(invalid..).unwrap_or_default());
        numbers.sort_unstable();
        let beyond = usize::try_from(self.max_rows - self.rows).unwrap_or(usize::MAX);
        let row = numbers.get(beyond).copied().unwrap_or_default();
        crate::error::Error::too_large(
            crate::source::Limit::Rows,
            self.max_rows,
            format!("row {row} is data row {}", self.max_rows + 1),
        )
    }

    /// What follows each block: counts, the directory asked a batch at a time, progress.
    fn added(&mut self, validator: &Validator, rows: u64, bytes: usize, directory: &dyn Directory) -> Result<()> {
        self.rows += rows;
        self.bytes += bytes;
        while self.run.records.len() - self.checked >= DIRECTORY_BATCH {
            let end = self.checked + DIRECTORY_BATCH;
            validator.check_directory_range(&mut self.run, self.checked, end, directory)?;
            self.checked = end;
        }
        if let Some(progress) = &validator.progress {
            if self.told.elapsed() >= PROGRESS_EVERY {
                self.told = std::time::Instant::now();
                if !progress.rows_read(self.rows) {
                    return Err(crate::error::ErrorKind::Cancelled.into());
                }
            }
        }
        Ok(())
    }

    /// The last records looked up, the last progress told: the run and its number of rows.
    fn finish(mut self, validator: &Validator, directory: &dyn Directory) -> Result<(Run, u64)> {
        validator.check_directory(&mut self.run, self.checked, directory)?;
        if let Some(progress) = &validator.progress {
            if !progress.rows_read(self.rows) {
                return Err(crate::error::ErrorKind::Cancelled.into());
            }
        }
        Ok((self.run, self.rows))
    }
}

/// The state of one pass over a table.
#[derive(Default)]
struct Run {
    records: Vec<UserRecord>,
    invalid_rows: Vec<u64>,
    issues: Vec<Issue>,
    keys: Keys,
    side: Vec<SideKeys>,
    /// Logins of records found invalid after their row was read (duplicates, directory).
    invalid_logins: Vec<(u64, String)>,
}

impl Run {
    /// An invalid row still claims its login and email: a later row with the same one is a
    /// duplicate even before this row is fixed.
    fn add_invalid<R: RowView>(&mut self, row: &R, validator: &Validator) {
        self.invalid_rows.push(row.number());
        let cell = |c: Option<usize>| c.and_then(|i| row.cell(i)).map(cells::trim).filter(|s| !s.is_empty());
        let login = cell(validator.login_column).map(str::to_string);
        let email = cell(validator.email_column).map(str::to_string);
        if login.is_some() || email.is_some() {
            let owner = Owner::side(self.side.len());
            if let Some(login) = &login {
                self.keys.add_login(login, owner, false);
            }
            if let Some(email) = &email {
                self.keys.add_email(email, owner);
            }
            self.side.push(SideKeys { row: row.number(), login, email });
        }
    }

    /// Appends the run of the rows that follow this run's rows, emptying `part` (its room is
    /// kept, for the next block).
    fn absorb(&mut self, part: &mut Run) {
        let (records, side) = (self.records.len(), self.side.len());
        let shift = |(hash, owner): (u32, Owner)| (hash, owner.shifted(records, side));
        self.keys.logins.extend(part.keys.logins.drain(..).map(shift));
        self.keys.emails.extend(part.keys.emails.drain(..).map(shift));
        self.records.append(&mut part.records);
        self.invalid_rows.append(&mut part.invalid_rows);
        self.issues.append(&mut part.issues);
        self.side.append(&mut part.side);
        self.invalid_logins.append(&mut part.invalid_logins);
    }

    /// Moves the records marked invalid to the invalid rows, in place.
    fn compact(&mut self) {
        let (invalid_rows, invalid_logins) = (&mut self.invalid_rows, &mut self.invalid_logins);
        self.records.retain(|record| {
            if record.is_invalid() {
                invalid_rows.push(record.row());
                invalid_logins.push((record.row(), record.login().to_string()));
            }
            !record.is_invalid()
        });
    }

    /// Adds issues found across rows; a record with an error becomes invalid.
    fn add_cross_row(&mut self, issues: Vec<Issue>) {
        for issue in issues {
            if issue.is_error() {
                if let Some(row) = issue.row {
                    if let Ok(at) = self.records.binary_search_by_key(&row, UserRecord::row) {
                        self.records[at].invalidate();
                    }
                }
            }
            self.issues.push(issue);
        }
    }
}

fn row_has<R: RowView>(row: &R, column: Option<usize>) -> bool {
    column.and_then(|c| row.cell(c)).is_some_and(|v| !cells::trim(v).is_empty())
}

/// The login and email of an invalid row, kept to find duplicates.
struct SideKeys {
    row: u64,
    login: Option<String>,
    email: Option<String>,
}

/// Who holds a key: a record (by index) or an invalid row (by index in the side table), with a
/// flag for a login that is the row's email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Owner(u32);

impl Owner {
    const SIDE: u32 = 1 << 31;
    const DERIVED: u32 = 1 << 30;
    const INDEX: u32 = Self::DERIVED - 1;

    fn record(i: usize) -> Owner {
        Owner(u32::try_from(i).unwrap_or(Self::INDEX).min(Self::INDEX))
    }

    fn side(i: usize) -> Owner {
        Owner(u32::try_from(i).unwrap_or(Self::INDEX).min(Self::INDEX) | Self::SIDE)
    }

    fn index(self) -> usize {
        (self.0 & Self::INDEX) as usize
    }

    /// The same owner once `records` records and `side` invalid rows come before its own.
    fn shifted(self, records: usize, side: usize) -> Owner {
        let offset = if self.0 & Self::SIDE == 0 { records } else { side };
        let index = u32::try_from(self.index() + offset).unwrap_or(Self::INDEX).min(Self::INDEX);
        Owner((self.0 & !Self::INDEX) | index)
    }
}

/// The logins and emails seen, as 8-byte (hash, owner) entries: duplicates are found by sorting
/// at the end, which needs far less memory than a map of strings. Equal hashes are confirmed on
/// the strings themselves.
#[derive(Default)]
struct Keys {
    logins: Vec<(u32, Owner)>,
    emails: Vec<(u32, Owner)>,
}

struct Duplicate {
    row: u64,
    first_row: u64,
    key: String,
    email: bool,
}

/// A 32-bit hash of a key (already trimmed: logins and emails are) that keys equal ignoring
/// case share: [`login_key_hash`](crate::model::login_key_hash) folded in two. Different keys may
/// share it too, and are told apart on the strings.
fn key_hash(key: &str) -> u32 {
    let hash = crate::model::login_key_hash(key);
    (hash >> 32) as u32 ^ hash as u32
}

impl Keys {
    fn add_login(&mut self, login: &str, owner: Owner, derived_from_email: bool) {
        let owner = if derived_from_email { Owner(owner.0 | Owner::DERIVED) } else { owner };
        self.logins.push((key_hash(login), owner));
    }

    fn add_email(&mut self, email: &str, owner: Owner) {
        self.emails.push((key_hash(email), owner));
    }

    fn duplicates(&mut self, records: &[UserRecord], side: &[SideKeys]) -> Vec<Duplicate> {
        let lookup = |owner: Owner, email: bool| -> (u64, String) {
            if owner.0 & Owner::SIDE == 0 {
                let Some(record) = records.get(owner.index()) else {
                    return (0, String::new());
                };
                let key = if email { record.email().unwrap_or_default() } else { record.login() };
                (record.row(), key.to_string())
            } else {
                let Some(keys) = side.get(owner.index()) else {
                    return (0, String::new());
                };
                let key = if email { keys.email.clone() } else { keys.login.clone() };
                (keys.row, key.unwrap_or_default())
            }
        };
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        for (entries, is_email) in [(&mut self.logins, false), (&mut self.emails, true)] {
            keep_repeated_hashes(entries);
            crate::radix::sort_by_key(entries, &mut scratch, 4, |entry| u64::from(entry.0));
            for group in entries.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
                let mut members: Vec<(u64, String, bool)> = group
                    .iter()
                    .map(|&(_, owner)| {
                        let (row, key) = lookup(owner, is_email);
                        (row, key, owner.0 & Owner::DERIVED != 0)
                    })
                    .collect();
                members.sort_by_key(|m| m.0);
                for i in 1..members.len() {
                    let key = cells::trim(&members[i].1);
                    if let Some(first) = members[..i].iter().find(|m| same_login_key(cells::trim(&m.1), key)) {
                        out.push(Duplicate {
                            row: members[i].0,
                            first_row: first.0,
                            key: members[i].1.clone(),
                            email: is_email || members[i].2,
                        });
                    }
                }
            }
            *entries = Vec::new();
        }
        out
    }
}

/// Keeps only the entries whose hash may be shared with another entry (see
/// [`RepeatedBuckets`](crate::radix::RepeatedBuckets)): only a few percent of a file's keys are
/// left to sort and compare.
fn keep_repeated_hashes(entries: &mut Vec<(u32, Owner)>) {
    if entries.len() < crate::radix::RepeatedBuckets::WORTH_IT {
        return;
    }
    let repeated = crate::radix::RepeatedBuckets::new(entries.iter().map(|&(hash, _)| hash >> 8));
    entries.retain(|&(hash, _)| repeated.repeated(hash >> 8));
}

/// A [`Validation`] taken apart, for the plan stage.
pub(crate) struct ValidationParts {
    pub(crate) records: Vec<UserRecord>,
    pub(crate) invalid_rows: Vec<u64>,
    pub(crate) invalid_logins: Vec<(u64, String)>,
    pub(crate) issues: Vec<Issue>,
    pub(crate) mapping: Mapping,
}

/// The result of the validate stage: valid records, invalid rows, and every issue.
///
/// Every data row of the file is either a record or an invalid row, never both, never neither.
#[derive(Debug, Clone)]
pub struct Validation {
    info: Option<SourceInfo>,
    headers: Vec<String>,
    mapping: Mapping,
    records: Vec<UserRecord>,
    /// Rows without an error: `records.len()`, or their count when they were not kept.
    valid: u64,
    invalid_rows: Vec<u64>,
    invalid_logins: Vec<(u64, String)>,
    issues: Vec<Issue>,
}

impl Validation {
    /// The logins of invalid rows (as written), by row: a user whose superior is one of them
    /// cannot be imported either.
    pub fn invalid_logins(&self) -> &[(u64, String)] {
        &self.invalid_logins
    }

    pub(crate) fn into_parts(self) -> ValidationParts {
        ValidationParts {
            records: self.records,
            invalid_rows: self.invalid_rows,
            invalid_logins: self.invalid_logins,
            issues: self.issues,
            mapping: self.mapping,
        }
    }

    /// What the parse stage found out about the file.
    pub fn info(&self) -> Option<&SourceInfo> {
        self.info.as_ref()
    }

    /// The file's header cells.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The mapping used.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The valid rows, in file order.
    pub fn records(&self) -> &[UserRecord] {
        &self.records
    }

    /// Takes the valid rows out.
    pub fn into_records(self) -> Vec<UserRecord> {
        self.records
    }

    /// The row numbers of the rows with at least one error, ascending.
    pub fn invalid_rows(&self) -> &[u64] {
        &self.invalid_rows
    }

    /// Every issue: file-level ones first, then by row and column.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// The issues of one row.
    pub fn issues_for_row(&self, row: u64) -> &[Issue] {
        let start = self.issues.partition_point(|i| i.row.is_none_or(|r| r < row));
        let end = self.issues.partition_point(|i| i.row.is_none_or(|r| r <= row));
        &self.issues[start..end]
    }

    /// Data rows read.
    pub fn rows(&self) -> u64 {
        self.valid + self.invalid_rows.len() as u64
    }

    /// Rows without an error.
    pub fn valid(&self) -> u64 {
        self.valid
    }

    /// Rows with at least one error.
    pub fn invalid(&self) -> u64 {
        self.invalid_rows.len() as u64
    }

    /// True when nothing at file level blocks the import (missing required columns, duplicate
    /// columns, unknown columns under strict headers).
    pub fn can_import(&self) -> bool {
        !self.issues.iter().any(|i| i.row.is_none() && i.is_error())
    }

    /// How many issues of each code (errors and warnings together), in code order.
    pub fn counts_by_code(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for issue in &self.issues {
            *counts.entry(issue.code.to_string()).or_insert(0) += 1;
        }
        counts
    }
}

#[cfg(test)]
// Tests change one part of a default config, as hosts do.
#[allow(clippy::field_reassign_with_default)]
mod tests;
