//! # user-import
//!
//! Import users in bulk from the CSV and Excel files administrators really send.
//!
//! ## Brief overview
//!
//! The pipeline is a chain of stages, each usable on its own:
//!
//! ```text
//! bytes/path ─► parse ─► map ─► validate ─► resolve hierarchy ─► plan ─► apply (optional)
//!                                                                  └─► report (always)
//! ```
//!
//! * **parse** ([`SourceBuilder`] → [`Table`]): CSV/TSV in any common encoding, XLSX, XLSB, XLS
//!   and ODS, detected from the bytes; a streaming iterator of [`Row`]s with the row numbers a
//!   person sees in their spreadsheet program.
//! * **map** ([`Mapping`]): which column holds which field — aliases, word order, typos,
//!   overrides, custom-field candidates, missing required fields.
//! * **validate** ([`Validator`] → [`Validation`]): every cell checked against the [`Schema`]
//!   and [`Catalog`], duplicates and conflicts with existing users ([`Directory`]) found; each row
//!   a typed [`UserRecord`] or [`Issue`]s.
//! * **resolve hierarchy** ([`resolve_hierarchy`]): superiors resolved, cycles and dangling
//!   references flagged, a creation order.
//!
//! [`Importer`] runs the stages in one call; [`ImportConfig`] (TOML or JSON) configures them.
//! * **resolve hierarchy** ([`resolve_hierarchy`] → [`Hierarchy`]): superiors resolved to rows of
//!   the file (forward references allowed) or existing users; self-references, cycles and missing
//!   superiors reported; a creation order with every superior before its subordinates.
//! * **stores** ([`UserStore`]: [`MemoryStore`], and `SqliteStore` with the `sqlite` feature):
//!   where an import's users go, in one transaction, with passwords hashed by [`hash_passwords`].
//!
//! Bad data is never an `Err`: it is an [`Issue`] with a stable [`IssueCode`]. An [`Error`] means
//! a stage cannot continue (an unreadable file, say), and it too has an issue code.
//!
//! ## Setup
//!
//! `cargo add user-import`. Crate features: `sqlite` (the embedded SQLite user store,
//! `SqliteStore`, with bundled SQLite) and `cli` (the `user-import` command line; implies
//! `sqlite`). The default build has neither.
//!
//! ## Example
//!
//! ```
//! use user_import::{Catalog, Field, ImportConfig, Importer, IssueCode, MemoryDirectory, Schema};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = ImportConfig::default();
//! config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login, Field::Roles]);
//! config.catalog = Catalog::new().roles(["Admin", "Editor"]);
//! let csv = "First Name,Last Name,Login Name,Roles\nAda,Lovelace,ada,admin\nGrace,Hopper,grace,Admn\n";
//!
//! let validation = Importer::new(config).validate_bytes(csv, &MemoryDirectory::new())?;
//! assert_eq!(validation.records()[0].roles()[0].name(), "Admin");
//! let issue = &validation.issues()[0];
//! assert_eq!(issue.code, IssueCode::UnknownRole);
//! assert!(issue.to_string().starts_with("row 3, column 'Roles': unknown role 'Admn' — did you mean 'Admin'?"));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apply;
mod catalog;
mod config;
mod directory;
mod error;
mod hierarchy;
mod importer;
mod issue;
mod mapping;
mod model;
mod plan;
mod radix;
mod report;
mod schema;
mod source;
mod store;
mod validate;

pub use crate::apply::{apply, ApplyOptions, ErrorPolicy, Outcome, RowResult, Summary, Threshold};
pub use crate::catalog::{Catalog, PasswordPolicy};
pub use crate::config::{ColumnRef, Condition, GroupRule, ImportConfig, ImportOptions, MergePolicy, Mode, RuleMatch};
pub use crate::directory::{Directory, MemoryDirectory};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::hierarchy::{resolve_hierarchy, Hierarchy, HierarchyInput, Placement, Superior};
pub use crate::importer::Importer;
pub use crate::issue::{Issue, IssueCode, Severity, UnknownIssueCode};
pub use crate::mapping::{ColumnMapping, Mapping, MappingMemory, MatchKind, MemoryMappings, SavedMapping};
pub use crate::model::{
    login_key, looks_like_password_hash, CustomValue, EmptyAccess, HqRole, ParseEnumError, Password, Product,
    ProductAccess, Role, Status, User,
};
pub use crate::plan::{Action, FieldChange, Plan, PlanSummary, PlannedRow};
pub use crate::report::{
    neutralize, write_csv_template, write_xlsx_template, Report, ERRORS_HEADER, MAX_XLSX_NOTES, SUMMARY_SHEET,
    TEMPLATE_SHEET,
};
pub use crate::schema::{
    builtin_header_names, normalize_name, CustomField, CustomKind, Field, FieldSpec, Schema, Target, UnknownTarget,
};
pub use crate::source::{
    column_letter, Format, HeaderRow, Limit, Limits, Row, RowSource, Rows, SheetInfo, SheetSelector, SourceBuilder,
    SourceInfo, Table, TextEncoding,
};
pub use crate::store::{hash_passwords, verify_password, Argon2Params, ImportLogEntry, MemoryStore, UserStore};
#[cfg(feature = "sqlite")]
pub use crate::store::{SqliteStore, StoredUser};
pub use crate::validate::{Progress, RowOutcome, Rule, UserRecord, Validation, Validator};

/// The README's examples are compiled and run as doc tests, so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
