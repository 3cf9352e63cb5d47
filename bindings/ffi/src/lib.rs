//! # user-import-ffi
//!
//! Python and Kotlin bindings of the `user-import` library, generated with uniffi from this
//! crate: a thin layer of objects (stateful handles that keep large results on the Rust side),
//! records (plain data) and foreign traits (what the host implements), over the core crate,
//! which knows nothing of uniffi.
//!
//! * [`ImportConfig`] and [`Importer`]: a configuration from TOML/JSON or built in code, and the
//!   runs: `validate_path`/`validate_bytes`, `plan_path`/`plan_bytes`, the stages one by one
//!   ([`Source`], [`Mapping`], [`Validation`], [`Plan`]), `check_user`, templates;
//! * [`Plan::apply`] to a host [`UserStore`], [`Plan::apply_sqlite`] to the built-in
//!   [`SqliteStore`]; [`Outcome`] and [`Report`] (JSON, CSV, XLSX);
//! * foreign traits: [`PackedDirectory`] (batched lookups of existing users, packed: what the
//!   hand-written `Directory` of the Python package and of the Kotlin library turn a host's
//!   typed lookups into), [`UserStore`], [`ProgressListener`] (a few calls a second), [`Rule`];
//!   and a [`CancelToken`].
//!
//! Bad data is never an error: it is an [`Issue`] in a result. [`UserImportError`] means a call
//! could not do its job (an unreadable file, an invalid configuration, a stale plan, a store
//! that failed, a cancelled run…); an exception raised by a host callback arrives as a
//! [`HostError`] and ends the call with a `UserImportError` carrying its text.
#![deny(missing_docs)]

mod config;
mod error;
mod hierarchy;
mod host;
mod importer;
mod plan;
mod records;
mod report;
mod store;

pub use crate::config::{GroupCondition, ImportConfig};
pub use crate::error::{HostError, UserImportError};
pub use crate::hierarchy::{resolve_hierarchy, HierarchyResult, HierarchyRow, Placement, SuperiorLink};
pub use crate::host::{CancelToken, PackedDirectory, ProgressListener, Rule, RuleIssue, UserStore};
pub use crate::importer::{Importer, Mapping, Source, Validation};
pub use crate::plan::{Outcome, Plan};
pub use crate::records::{
    Action, ApplyOptions, CustomFieldSpec, CustomKind, CustomValue, ErrorPolicy, FieldChange, FormCheck, HqRole,
    ImportLogEntry, Issue, MappingEntry, MatchKind, MergePolicy, Mode, PasswordHashing, PlanSummary, PlannedRow,
    PlannedWrite, ProductAccess, ReportColumn, RowOutcome, RowResult, SavedColumn, SavedMapping, Severity, SourceInfo,
    Status, StoredUser, Summary, User, ValidRecord, ValidationSummary,
};
pub use crate::report::Report;
pub use crate::store::{
    directory_from_path, memory_directory, memory_directory_packed, MemoryDirectory, SqliteDirectory, SqliteStore,
};

// The namespace is the Python module (`user_import`) and the Kotlin file name; the library
// stays `libuser_import_ffi.so`.
uniffi::setup_scaffolding!("user_import");

/// Every built-in issue code (`invalid_email`, `unreadable`…), in a fixed order.
#[uniffi::export]
pub fn issue_codes() -> Vec<String> {
    user_import::IssueCode::BUILT_IN.iter().map(|code| code.as_str().to_string()).collect()
}

/// True when `password` is the one `hash` (a PHC string from a store) was made from: how a host
/// checks a sign-in against the hashes an import wrote.
#[uniffi::export]
pub fn verify_password(password: String, hash: String) -> bool {
    user_import::verify_password(&password, &hash)
}

/// A text made safe for a spreadsheet cell: one that a spreadsheet program would take for a
/// formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`.
#[uniffi::export]
pub fn neutralize(text: String) -> String {
    user_import::neutralize(&text).into_owned()
}
