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
//! * **resolve hierarchy** ([`resolve_hierarchy`] → [`Hierarchy`]): superiors resolved to rows of
//!   the file (forward references allowed) or existing users; self-references, cycles and missing
//!   superiors reported; a creation order with every superior before its subordinates.
//! * **stores** ([`UserStore`]: [`MemoryStore`], and `SqliteStore` with the `sqlite` feature):
//!   where an import's users go, in one transaction, with passwords hashed by [`hash_passwords`].
//!
//! Bad data is never an `Err`: it is an [`Issue`] with a stable [`IssueCode`]. An [`Error`] means
//! a stage cannot continue (an unreadable file, say), and it too has an issue code.
//!
//! ## Example
//!
//! ```
//! use user_import::SourceBuilder;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let csv = "First Name,Last Name,Login Name,E-mail Address\nAda,Lovelace,ada,ada@example.com\n";
//! let mut table = SourceBuilder::new().from_bytes(csv)?;
//! assert_eq!(table.headers()[3], "E-mail Address");
//! for row in table.rows() {
//!     let row = row?;
//!     assert_eq!((row.number(), row.get(2)), (2, Some("ada")));
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod catalog;
mod config;
mod directory;
mod error;
mod hierarchy;
mod importer;
mod issue;
mod mapping;
mod model;
mod schema;
mod source;
mod store;
mod validate;

pub use crate::catalog::{Catalog, PasswordPolicy};
pub use crate::config::{ColumnRef, ImportConfig, ImportOptions, Mode};
pub use crate::directory::{Directory, MemoryDirectory};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::hierarchy::{resolve_hierarchy, Hierarchy, HierarchyInput, Placement, Superior};
pub use crate::importer::Importer;
pub use crate::issue::{Issue, IssueCode, Severity, UnknownIssueCode};
pub use crate::mapping::{ColumnMapping, Mapping, MappingMemory, MatchKind, MemoryMappings, SavedMapping};
pub use crate::model::{
    login_key, CustomValue, EmptyAccess, HqRole, ParseEnumError, Password, Product, ProductAccess, Role, Status, User,
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
pub use crate::validate::{RowOutcome, Rule, UserRecord, Validation, Validator};

/// The README's examples are compiled and run as doc tests, so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
