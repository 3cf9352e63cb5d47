//! The map stage: which column holds which field.
//!
//! Matching ignores case, spaces and punctuation, knows the aliases people use (`E-mail
//! Address`, `Login Name`, `userName`, `Superior User`, `Manager`…), accepts another word order
//! (`Name First`), and then tolerates typos (edit distance on the normalised names). Each match
//! has a confidence. A host overrides any pair, by column name or position, as a person does with
//! the drop-downs of an import screen; a confirmed mapping can be saved under the header's
//! [signature](Mapping::signature) and reapplied next time.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{ColumnRef, ImportConfig};
use crate::error::Result;
use crate::issue::{Issue, IssueCode};
use crate::schema::{normalize_name, Field, Target};
use crate::source::column_letter;

/// The column this crate's XLSX error reports add after the data; the map stage ignores it.
pub(crate) const REPORT_ERRORS_HEADER: &str = "Import errors";

/// How a column was matched to its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchKind {
    /// The header is the template's label.
    Exact,
    /// The header is a known alias (or the field's key).
    Alias,
    /// The header has the label's words in another order.
    WordOrder,
    /// The header is close to a name (a typo).
    Fuzzy,
    /// Chosen by the host or a person.
    Override,
    /// An unknown column accepted as a custom field.
    CustomField,
    /// No field.
    Unmapped,
}

/// One column of the file and the field it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnMapping {
    /// The 0-based position.
    pub index: usize,
    /// The header text.
    pub header: String,
    /// The field, product or custom field it holds; `None` when unmapped or ignored.
    pub target: Option<Target>,
    /// How sure the match is, from 0 to 1.
    pub confidence: f32,
    /// How it was matched.
    pub how: MatchKind,
}

impl ColumnMapping {
    /// The column's name for messages: the header, or its letter when the header is empty.
    pub fn display_name(&self) -> String {
        if self.header.is_empty() {
            format!("column {}", column_letter(self.index))
        } else {
            self.header.clone()
        }
    }
}

/// A mapping as a host stores it to reapply it to files with the same header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SavedMapping {
    /// The header signature it belongs to.
    pub signature: String,
    /// Column header → target (`None`: ignored).
    pub columns: Vec<(String, Option<Target>)>,
}

/// Where a host keeps confirmed mappings, by header signature.
pub trait MappingMemory {
    /// The mapping saved for this signature.
    fn load(&self, signature: &str) -> Option<SavedMapping>;
    /// Saves (or replaces) a mapping.
    fn save(&mut self, mapping: SavedMapping);
}

/// A [`MappingMemory`] in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryMappings(HashMap<String, SavedMapping>);

impl MappingMemory for MemoryMappings {
    fn load(&self, signature: &str) -> Option<SavedMapping> {
        self.0.get(signature).cloned()
    }

    fn save(&mut self, mapping: SavedMapping) {
        self.0.insert(mapping.signature.clone(), mapping);
    }
}

/// What each column of a file holds, and what is missing.
///
/// ```
/// use user_import::{Field, ImportConfig, Mapping, Schema, Target};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let mut config = ImportConfig::default();
/// config.schema = Schema::new().require([Field::FirstName, Field::Email]).optional([Field::Superior]);
/// let headers = ["Given name", "E-mail Address", "Manager", "Shoe size"].map(String::from);
/// let mapping = Mapping::new(&headers, &config)?;
/// assert_eq!(mapping.column_of(&Target::Field(Field::Email)), Some(1));
/// assert_eq!(mapping.column_of(&Target::Field(Field::Superior)), Some(2));
/// assert_eq!(mapping.custom_candidates().next().map(|c| c.header.as_str()), Some("Shoe size"));
/// assert!(mapping.is_complete());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    columns: Vec<ColumnMapping>,
    #[serde(skip)]
    required: Vec<(Target, String)>,
    #[serde(skip)]
    strict: bool,
    signature: String,
    #[serde(skip)]
    issues: Vec<Issue>,
}

/// A name a target is known by, normalised, with the confidence of an exact hit on it.
struct Name {
    norm: String,
    words: Option<String>,
    confidence: f32,
    how: MatchKind,
}

struct Candidate {
    target: Target,
    label: String,
    names: Vec<Name>,
}

impl Candidate {
    fn new(target: Target, label: &str) -> Self {
        let mut candidate = Candidate { target, label: label.to_string(), names: Vec::new() };
        candidate.add(label, 1.0, MatchKind::Exact);
        candidate
    }

    fn add(&mut self, name: &str, confidence: f32, how: MatchKind) {
        let norm = normalize_name(name);
        if norm.is_empty() || self.names.iter().any(|n| n.norm == norm) {
            return;
        }
        let words = sorted_words(name).filter(|w| w.contains(' '));
        self.names.push(Name { norm, words, confidence, how });
    }
}

/// The words of a name, lowercased, accents folded, in alphabetical order.
fn sorted_words(name: &str) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_lowercase();
            current.push(c);
        } else {
            previous_lower = false;
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut words: Vec<String> = words.iter().map(|w| normalize_name(w)).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return None;
    }
    words.sort();
    Some(words.join(" "))
}

/// The candidates of a configuration: built-in fields, product columns, custom fields.
fn candidates(config: &ImportConfig) -> Vec<Candidate> {
    let mut out = Vec::new();
    for spec in config.schema.field_specs() {
        let mut c = Candidate::new(Target::Field(spec.field), spec.label());
        c.add(spec.field.label(), 0.95, MatchKind::Alias);
        c.add(spec.field.key(), 0.95, MatchKind::Alias);
        for alias in spec.field.aliases().iter().copied().chain(spec.aliases.iter().map(String::as_str)) {
            c.add(alias, 0.95, MatchKind::Alias);
        }
        out.push(c);
    }
    if config.schema.product_columns {
        for product in &config.catalog.products {
            let mut c = Candidate::new(Target::Product(product.id().to_string()), product.name());
            c.add(product.id(), 0.95, MatchKind::Alias);
            for pattern in ["{} role", "{} access", "role in {}", "access to {}", "{} permission"] {
                c.add(&pattern.replace("{}", product.name()), 0.9, MatchKind::Alias);
                c.add(&pattern.replace("{}", product.id()), 0.9, MatchKind::Alias);
            }
            out.push(c);
        }
    }
    for custom in &config.schema.custom_fields {
        let mut c = Candidate::new(Target::Custom(custom.name.clone()), custom.label());
        c.add(&custom.name, 0.95, MatchKind::Alias);
        for alias in &custom.aliases {
            c.add(alias, 0.95, MatchKind::Alias);
        }
        out.push(c);
    }
    out
}

/// The best candidate for one header: (candidate index, confidence, kind).
fn best_match(header: &str, candidates: &[Candidate], strict: bool) -> Option<(usize, f32, MatchKind)> {
    if strict {
        return candidates.iter().position(|c| c.label.trim() == header.trim()).map(|i| (i, 1.0, MatchKind::Exact));
    }
    let norm = normalize_name(header);
    if norm.is_empty() {
        return None;
    }
    let words = sorted_words(header);
    let mut best: Option<(usize, f32, MatchKind)> = None;
    let mut consider = |i: usize, confidence: f32, how: MatchKind| {
        if best.is_none_or(|(_, c, _)| confidence > c) {
            best = Some((i, confidence, how));
        }
    };
    for (i, candidate) in candidates.iter().enumerate() {
        for name in &candidate.names {
            if name.norm == norm {
                consider(i, name.confidence, name.how);
            } else if name.words.is_some() && name.words == words {
                consider(i, 0.9, MatchKind::WordOrder);
            } else if norm.chars().count() >= 4 && name.norm.chars().count() >= 4 {
                let similarity = strsim::normalized_damerau_levenshtein(&norm, &name.norm) as f32;
                if similarity >= 0.8 {
                    consider(i, similarity * 0.85, MatchKind::Fuzzy);
                }
            }
        }
    }
    best
}

/// A stable signature of a header row: FNV-1a over the normalised header cells.
fn signature(headers: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, header) in headers.iter().enumerate() {
        if i > 0 {
            hash ^= 0x1f;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        for byte in normalize_name(header).bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

impl Mapping {
    /// Maps a header row with the configuration's schema, catalog and overrides.
    pub fn new(headers: &[String], config: &ImportConfig) -> Result<Mapping> {
        let strict = config.options.strict_headers;
        let candidates = candidates(config);
        let mut columns: Vec<ColumnMapping> = headers
            .iter()
            .enumerate()
            .map(|(index, header)| ColumnMapping {
                index,
                header: header.clone(),
                target: None,
                confidence: 0.0,
                how: MatchKind::Unmapped,
            })
            .collect();
        let mut issues = Vec::new();

        // 1. Overrides, as a person picks them.
        let overrides = config.mapping_overrides()?;
        let mut overridden = vec![false; columns.len()];
        for (column, target) in &overrides {
            match find_column(&columns, column) {
                Some(i) => {
                    columns[i].target = target.clone();
                    columns[i].confidence = 1.0;
                    columns[i].how = MatchKind::Override;
                    overridden[i] = true;
                }
                None => issues.push(Issue::warning(
                    IssueCode::InvalidConfig,
                    format!("the mapping names {}, which this file does not have", describe(column)),
                )),
            }
        }
        // The reasons column of an error report being re-imported: not data.
        for (i, column) in columns.iter_mut().enumerate() {
            if !overridden[i] && column.header == REPORT_ERRORS_HEADER {
                column.how = MatchKind::Override;
                overridden[i] = true;
            }
        }
        let taken: Vec<Target> = columns.iter().filter_map(|c| c.target.clone()).collect();

        // 2. Best candidate per column; 3. one column per target.
        let mut claims: HashMap<usize, Vec<(usize, f32, MatchKind)>> = HashMap::new();
        for (i, column) in columns.iter().enumerate() {
            if overridden[i] {
                continue;
            }
            if let Some((candidate, confidence, how)) = best_match(&column.header, &candidates, strict) {
                if !taken.contains(&candidates[candidate].target) {
                    claims.entry(candidate).or_default().push((i, confidence, how));
                }
            }
        }
        let mut claimed: Vec<_> = claims.into_iter().collect();
        claimed.sort_by_key(|(candidate, _)| *candidate);
        for (candidate, mut claimants) in claimed {
            claimants.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let (winner, confidence, how) = claimants[0];
            columns[winner].target = Some(candidates[candidate].target.clone());
            columns[winner].confidence = confidence;
            columns[winner].how = how;
            for &(loser, loser_confidence, _) in &claimants[1..] {
                if confidence >= 0.9 && loser_confidence >= 0.9 {
                    let message = format!(
                        "columns '{}' ({}) and '{}' ({}) both hold {}; remove one, or map one of them to another field",
                        columns[winner].display_name(),
                        column_letter(winner),
                        columns[loser].display_name(),
                        column_letter(loser),
                        candidates[candidate].label
                    );
                    issues.push(
                        Issue::error(IssueCode::DuplicateColumn, message)
                            .in_column(loser, columns[loser].header.clone())
                            .for_field(candidates[candidate].target.to_string()),
                    );
                }
            }
        }

        // 4. Unknown columns become custom fields when the host says so.
        if config.options.accept_unknown_columns && !strict {
            for column in columns.iter_mut() {
                if column.target.is_none() && column.how == MatchKind::Unmapped && !column.header.is_empty() {
                    column.target = Some(Target::Custom(column.header.clone()));
                    column.confidence = 1.0;
                    column.how = MatchKind::CustomField;
                }
            }
        }

        let required = config.schema.required_targets();
        let mut mapping = Mapping { columns, required, strict, signature: signature(headers), issues: Vec::new() };
        mapping.issues = issues;
        mapping.refresh();
        Ok(mapping)
    }

    /// Recomputes the issues that depend on the assignment (missing fields, unknown columns),
    /// keeping the others.
    fn refresh(&mut self) {
        self.issues.retain(|i| !matches!(i.code, IssueCode::RequiredMissing | IssueCode::UnknownColumn));
        // A duplicate stays an error until a person decides what the losing column holds.
        self.issues.retain(|i| {
            i.code != IssueCode::DuplicateColumn
                || i.column_index.is_some_and(|c| self.columns.get(c).is_some_and(|col| col.how == MatchKind::Unmapped))
        });
        for (target, label) in &self.required {
            if self.column_of(target).is_none() {
                let mut message = format!("no column holds {label}, which is required");
                let mut names = vec![normalize_name(label)];
                if let Target::Field(field) = target {
                    names.extend(field.aliases().iter().map(|a| (*a).to_string()));
                }
                if let Some(close) = self.closest_unmapped(&names) {
                    message.push_str(&format!("; is it column '{close}'? map it by hand"));
                }
                self.issues.push(Issue::error(IssueCode::RequiredMissing, message).for_field(target.to_string()));
            }
        }
        let duplicates: Vec<usize> = self
            .issues
            .iter()
            .filter(|i| i.code == IssueCode::DuplicateColumn)
            .filter_map(|i| i.column_index)
            .collect();
        for column in &self.columns {
            if column.how == MatchKind::Unmapped && !column.header.is_empty() && !duplicates.contains(&column.index) {
                let issue = if self.strict {
                    Issue::error(
                        IssueCode::UnknownColumn,
                        "the column is not in the template; do not change the original column names",
                    )
                } else {
                    Issue::warning(
                        IssueCode::UnknownColumn,
                        "the column matches no field; accept it as a custom field, map it, or it is ignored",
                    )
                };
                self.issues.push(issue.in_column(column.index, column.header.clone()));
            }
        }
        self.issues.sort_by_key(|i| (i.column_index.unwrap_or(usize::MAX), i.code.clone()));
    }

    /// The unmapped header closest to any of `names` (normalised), if it is close at all.
    fn closest_unmapped(&self, names: &[String]) -> Option<String> {
        let similarity = |header: &str| {
            let header = normalize_name(header);
            names.iter().map(|n| strsim::normalized_damerau_levenshtein(&header, n)).fold(0.0, f64::max)
        };
        self.columns
            .iter()
            .filter(|c| c.target.is_none() && !c.header.is_empty())
            .map(|c| (similarity(&c.header), c))
            .filter(|(similarity, _)| *similarity >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, c)| c.header.clone())
    }

    /// Every column, in file order.
    pub fn columns(&self) -> &[ColumnMapping] {
        &self.columns
    }

    /// The column holding a target.
    pub fn column_of(&self, target: &Target) -> Option<usize> {
        self.columns.iter().find(|c| c.target.as_ref() == Some(target)).map(|c| c.index)
    }

    /// The column holding a built-in field.
    pub fn column_of_field(&self, field: Field) -> Option<usize> {
        self.column_of(&Target::Field(field))
    }

    /// Required fields that no column provides.
    pub fn missing_required(&self) -> Vec<&Target> {
        self.required.iter().filter(|(t, _)| self.column_of(t).is_none()).map(|(t, _)| t).collect()
    }

    /// Unmapped columns with a header: candidates for custom fields.
    pub fn custom_candidates(&self) -> impl Iterator<Item = &ColumnMapping> {
        self.columns.iter().filter(|c| c.how == MatchKind::Unmapped && !c.header.is_empty())
    }

    /// File-level issues: required fields missing, two columns for one field, unknown columns.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// True when nothing blocks the import (no error among [`Mapping::issues`]).
    pub fn is_complete(&self) -> bool {
        !self.issues.iter().any(Issue::is_error)
    }

    /// The signature of the header row, stable across runs and versions: a host stores a
    /// confirmed mapping under it.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// Maps a column by hand (`None` = ignore it), as with a drop-down. A target held by another
    /// column moves to this one.
    pub fn set(&mut self, column: &ColumnRef, target: Option<Target>) -> Result<()> {
        let index = find_column(&self.columns, column)
            .ok_or_else(|| crate::Error::config(format!("this file has no {}", describe(column))))?;
        if let Some(target) = &target {
            for other in self.columns.iter_mut().filter(|c| c.target.as_ref() == Some(target)) {
                other.target = None;
                other.how = MatchKind::Unmapped;
                other.confidence = 0.0;
            }
        }
        let column = &mut self.columns[index];
        column.target = target;
        column.confidence = 1.0;
        column.how = MatchKind::Override;
        self.refresh();
        Ok(())
    }

    /// Accepts an unmapped column as a custom field named after its header.
    pub fn accept_custom(&mut self, column: &ColumnRef) -> Result<()> {
        let index = find_column(&self.columns, column)
            .ok_or_else(|| crate::Error::config(format!("this file has no {}", describe(column))))?;
        let name = self.columns[index].header.clone();
        self.set(&ColumnRef::Index(index), Some(Target::Custom(name)))?;
        self.columns[index].how = MatchKind::CustomField;
        self.refresh();
        Ok(())
    }

    /// The mapping as a host saves it.
    pub fn to_saved(&self) -> SavedMapping {
        SavedMapping {
            signature: self.signature.clone(),
            columns: self.columns.iter().map(|c| (c.header.clone(), c.target.clone())).collect(),
        }
    }

    /// Reapplies a saved mapping if it was saved for this header; returns whether it applied.
    pub fn apply_saved(&mut self, saved: &SavedMapping) -> bool {
        if saved.signature != self.signature || saved.columns.len() != self.columns.len() {
            return false;
        }
        for (column, (_, target)) in self.columns.iter_mut().zip(&saved.columns) {
            column.target = target.clone();
            column.confidence = 1.0;
            column.how = match target {
                Some(Target::Custom(_)) => MatchKind::CustomField,
                Some(_) => MatchKind::Override,
                None => MatchKind::Override,
            };
        }
        self.issues.retain(|i| i.code != IssueCode::DuplicateColumn);
        self.refresh();
        true
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.columns {
            let target = c.target.as_ref().map_or_else(|| "-".to_string(), ToString::to_string);
            writeln!(
                f,
                "{:>3} {:<30} -> {target} ({:?}, {:.2})",
                column_letter(c.index),
                c.display_name(),
                c.how,
                c.confidence
            )?;
        }
        Ok(())
    }
}

fn find_column(columns: &[ColumnMapping], column: &ColumnRef) -> Option<usize> {
    match column {
        ColumnRef::Index(i) => columns.get(*i).map(|c| c.index),
        ColumnRef::Name(name) => {
            let name = name.trim();
            columns
                .iter()
                .find(|c| c.header == name)
                .or_else(|| columns.iter().find(|c| crate::model::eq_ignore_case(&c.header, name)))
                .map(|c| c.index)
        }
    }
}

fn describe(column: &ColumnRef) -> String {
    match column {
        ColumnRef::Index(i) => format!("column #{} ({})", i + 1, column_letter(*i)),
        ColumnRef::Name(name) => format!("column '{name}'"),
    }
}

#[cfg(test)]
// Tests change one part of a default config, as hosts do.
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use crate::{Catalog, CustomField, CustomKind, Product, Schema};

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn targets(mapping: &Mapping) -> Vec<Option<String>> {
        mapping.columns().iter().map(|c| c.target.as_ref().map(ToString::to_string)).collect()
    }

    #[test]
    fn aliases_case_punctuation_and_word_order() {
        let config = ImportConfig::default();
        let mapping = Mapping::new(
            &headers(&["E-MAIL address", "login_name", "Name, First", "SURNAME", "Time zone", "reports to"]),
            &config,
        )
        .unwrap();
        assert_eq!(
            targets(&mapping),
            [Some("email"), Some("login"), Some("first_name"), Some("last_name"), Some("timezone"), Some("superior")]
                .map(|t| t.map(String::from))
        );
        assert_eq!(mapping.columns()[2].how, MatchKind::WordOrder);
    }

    #[test]
    fn typos_match_with_lower_confidence() {
        let mapping = Mapping::new(&headers(&["Frist Name", "Emial", "Pasword"]), &ImportConfig::default()).unwrap();
        assert_eq!(
            targets(&mapping),
            [Some("first_name"), Some("email"), Some("password")].map(|t| t.map(String::from))
        );
        for column in mapping.columns() {
            assert_eq!(column.how, MatchKind::Fuzzy);
            assert!(column.confidence < 0.9 && column.confidence > 0.6, "{column:?}");
        }
    }

    #[test]
    fn missing_required_fields_and_unknown_columns_are_reported() {
        let mut config = ImportConfig::default();
        config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login]);
        let mapping = Mapping::new(&headers(&["First Name", "Lgn", "Favourite colour"]), &config).unwrap();
        assert!(!mapping.is_complete());
        let missing: Vec<String> = mapping.missing_required().iter().map(|t| t.to_string()).collect();
        assert_eq!(missing, ["last_name", "login"]);
        let codes: Vec<(IssueCode, Option<&str>)> =
            mapping.issues().iter().map(|i| (i.code.clone(), i.column.as_deref())).collect();
        assert!(codes.contains(&(IssueCode::UnknownColumn, Some("Favourite colour"))));
        let login = mapping.issues().iter().find(|i| i.field.as_deref() == Some("login")).unwrap();
        assert!(login.message.contains("is it column 'Lgn'?"), "{}", login.message);
    }

    #[test]
    fn two_columns_for_one_field_are_an_error_until_one_is_remapped() {
        let mut mapping =
            Mapping::new(&headers(&["Email", "E-mail Address", "Login"]), &ImportConfig::default()).unwrap();
        assert!(!mapping.is_complete());
        assert_eq!(mapping.issues()[0].code, IssueCode::DuplicateColumn);
        mapping.set(&ColumnRef::Name("e-mail address".into()), None).unwrap();
        assert!(mapping.is_complete(), "{:?}", mapping.issues());
    }

    #[test]
    fn overrides_win_over_matching() {
        let mut config = ImportConfig::default();
        config.options.mapping.insert("Mail".into(), "login".into());
        config.options.mapping.insert("#1".into(), "ignore".into());
        let mapping = Mapping::new(&headers(&["First Name", "Mail"]), &config).unwrap();
        assert_eq!(targets(&mapping), [None, Some("login".to_string())]);
        assert_eq!(mapping.columns()[1].how, MatchKind::Override);
    }

    #[test]
    fn products_and_custom_fields_are_matched() {
        let mut config = ImportConfig::default();
        config.catalog = Catalog::new().product(Product::new("hire", "Trakstar Hire", ["Viewer", "Admin"]));
        config.schema =
            Schema::new().optional([Field::Email]).custom(CustomField::new("department", CustomKind::Text).required());
        let mapping = Mapping::new(&headers(&["Email", "Trakstar Hire", "Department"]), &config).unwrap();
        assert_eq!(
            targets(&mapping),
            [Some("email"), Some("product:hire"), Some("custom:department")].map(|t| t.map(String::from))
        );
        let mapping = Mapping::new(&headers(&["Email", "Hire role"]), &config).unwrap();
        assert_eq!(mapping.column_of(&Target::Product("hire".into())), Some(1));
        assert_eq!(mapping.missing_required(), [&Target::Custom("department".into())]);
    }

    #[test]
    fn strict_headers_accept_only_the_template() {
        let mut config = ImportConfig::default();
        config.schema = Schema::new()
            .require([Field::FirstName, Field::LastName, Field::Email])
            .label(Field::FirstName, "first name")
            .label(Field::LastName, "last name")
            .label(Field::Email, "email");
        config.options.strict_headers = true;
        let mapping = Mapping::new(&headers(&["first name", "Last Name", "email"]), &config).unwrap();
        assert_eq!(mapping.column_of_field(Field::LastName), None);
        assert!(mapping
            .issues()
            .iter()
            .any(|i| i.code == IssueCode::UnknownColumn && i.is_error() && i.column.as_deref() == Some("Last Name")));
        assert!(!mapping.is_complete());
    }

    #[test]
    fn a_saved_mapping_is_reapplied_to_the_same_header() {
        let config = ImportConfig::default();
        let h = headers(&["Col A", "Col B"]);
        let mut first = Mapping::new(&h, &config).unwrap();
        first.set(&ColumnRef::Index(0), Some(Target::Field(Field::Login))).unwrap();
        first.accept_custom(&ColumnRef::Index(1)).unwrap();
        let mut memory = MemoryMappings::default();
        memory.save(first.to_saved());

        let mut second = Mapping::new(&h, &config).unwrap();
        let saved = memory.load(second.signature()).unwrap();
        assert!(second.apply_saved(&saved));
        assert_eq!(targets(&second), [Some("login".to_string()), Some("custom:Col B".to_string())]);
        assert!(second.is_complete());
        // Another header: another signature.
        let other = Mapping::new(&headers(&["Col A", "Col C"]), &config).unwrap();
        assert_ne!(other.signature(), first.signature());
        assert_eq!(signature(&headers(&[" col-a ", "COL B"])), first.signature(), "signatures ignore spelling noise");
    }

    #[test]
    fn camel_case_headers_split_into_words() {
        assert_eq!(sorted_words("userName").as_deref(), Some("name user"));
        assert_eq!(sorted_words("Name, First").as_deref(), Some("first name"));
    }
}
