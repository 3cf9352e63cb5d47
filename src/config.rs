//! One configuration for every host: schema + catalog + options, built in code or loaded from
//! TOML or JSON.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::schema::{normalize_name, CustomKind, Field, Schema, Target};
use crate::source::{HeaderRow, Limits, SheetSelector};

/// What an import does with users that exist already, and with new ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mode {
    /// New users are created; a row for an existing user is an error (`exists_in_directory`).
    CreateOnly,
    /// Existing users are updated; rows for unknown users are skipped.
    UpdateOnly,
    /// New users are created, existing ones updated.
    #[default]
    Upsert,
}

/// How an update treats the values already stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MergePolicy {
    /// A value in the file replaces the stored one (an empty cell keeps it).
    #[default]
    Overwrite,
    /// The file only fills fields that are empty in the store.
    FillEmpty,
}

/// Whether the group rules stop at the first that matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleMatch {
    /// The first matching rule gives its group.
    #[default]
    First,
    /// Every matching rule gives its group.
    Every,
}

/// A condition on one field of a row, for the group distribution rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Condition {
    /// The value equals this (ignoring case).
    Equals(String),
    /// The value is one of these (ignoring case).
    OneOf(Vec<String>),
    /// The value starts with this (ignoring case).
    StartsWith(String),
    /// The value matches this regular expression (whole value, `regex` crate syntax).
    Matches(String),
    /// The field has a value.
    Present,
}

impl Condition {
    /// A `matches` condition's regular expression, anchored to the whole value and compiled: the
    /// configuration's checks refuse it when it does not compile, the plan tests values with it.
    /// `None` for the other conditions.
    pub(crate) fn regex(&self) -> Option<std::result::Result<regex::Regex, regex::Error>> {
        match self {
            Condition::Matches(pattern) => Some(regex::Regex::new(&format!("^(?:{pattern})$"))),
            _ => None,
        }
    }
}

/// An ordered distribution rule: when a field meets a condition, the user joins a group
/// (seed: "the order of automatic distribution rule application").
///
/// ```toml
/// [[options.group_rules]]
/// field = "custom:department"
/// when = { equals = "Sales" }
/// group = "Sales onboarding"
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GroupRule {
    /// The field tested: a built-in field key, `custom:<name>` or `product:<id>`.
    pub field: Target,
    /// The condition.
    pub when: Condition,
    /// The group given.
    pub group: String,
}

/// How a column is named in a mapping override: by header text, or by position.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColumnRef {
    /// By header text (compared after trimming, ignoring case).
    Name(String),
    /// By 0-based position.
    Index(usize),
}

impl ColumnRef {
    /// Parses `#3` (1-based position, as a person counts) or a header name.
    pub fn parse(text: &str) -> ColumnRef {
        match text.trim().strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n >= 1 => ColumnRef::Index(n - 1),
            _ => ColumnRef::Name(text.trim().to_string()),
        }
    }
}

/// Options of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Create, update, or both (default).
    pub mode: Mode,
    /// Accept only the template's exact column names ("do not change the original column
    /// names"): anything else is reported, not guessed.
    pub strict_headers: bool,
    /// Columns that match no field become custom fields (otherwise they are reported as
    /// `unknown_column` candidates for the host to accept or ignore).
    pub accept_unknown_columns: bool,
    /// Characters that separate several values in one cell (roles, groups).
    pub list_separators: String,
    /// Groups the catalog does not have are created (a warning) instead of refused.
    pub create_missing_groups: bool,
    /// The sheet of a workbook to read.
    pub sheet: SheetSelector,
    /// Where the header row is.
    pub header_row: HeaderRow,
    /// Column → field overrides, as a person picks them in a drop-down: `"E-mail" = "email"`,
    /// `"#4" = "login"` (4th column), `"Notes" = "ignore"`.
    pub mapping: BTreeMap<String, String>,
    /// Limits of the parse stage.
    pub limits: Limits,
    /// How updates treat stored values.
    pub merge: MergePolicy,
    /// Ordered group distribution rules.
    pub group_rules: Vec<GroupRule>,
    /// Whether the group rules stop at the first match.
    pub group_rule_match: RuleMatch,
    /// An existing user whose roles, groups and product access every new user receives (a
    /// mirror column, when mapped, names one per row instead).
    pub mirror_user: Option<String>,
    /// Builds logins when the file has none, e.g. `{first}.{last}` (lowercased, accents folded,
    /// made unique with a number). Placeholders: `{first}`, `{last}`, `{f}` (first initial),
    /// `{l}` (last initial), `{email}` (the part before `@`), `{reference}`. Without it, the
    /// email is the login.
    pub login_template: Option<String>,
    /// Accept pre-hashed passwords (argon2 or bcrypt PHC strings, e.g. from another system)
    /// as they are; off by default.
    pub accept_password_hashes: bool,
    /// Also change the passwords of existing users when the file has one (otherwise a password
    /// is only the initial password of a new user).
    pub update_passwords: bool,
    /// How many threads an import may use: `0` (the default) for the machine's cores (at most
    /// 8); `1` runs every stage on the calling thread. With more, a UTF-8 delimited file is read
    /// and checked in blocks on that many threads (any other file is read on one thread while
    /// its rows are checked on another), and superiors are looked up on two. The results are the
    /// same whatever the number.
    pub threads: usize,
}

impl ImportOptions {
    /// The number of threads [`ImportOptions::threads`] asks for, `0` resolved to the machine's
    /// cores (at most 8).
    pub fn thread_count(&self) -> usize {
        match self.threads {
            0 => machine_threads(),
            n => n,
        }
    }
}

/// The machine's cores, at most 8.
pub(crate) fn machine_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(8)
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            mode: Mode::default(),
            strict_headers: false,
            accept_unknown_columns: false,
            list_separators: ";,|".to_string(),
            create_missing_groups: false,
            sheet: SheetSelector::default(),
            header_row: HeaderRow::default(),
            mapping: BTreeMap::new(),
            limits: Limits::default(),
            merge: MergePolicy::default(),
            group_rules: Vec::new(),
            group_rule_match: RuleMatch::default(),
            mirror_user: None,
            login_template: None,
            accept_password_hashes: false,
            update_passwords: false,
            threads: 0,
        }
    }
}

/// Everything an import needs to know: the [`Schema`] (fields expected), the [`Catalog`] (what the
/// host has) and the [`ImportOptions`].
///
/// The same TOML or JSON drives the command line, Rust hosts and the Python/Kotlin bindings:
///
/// ```
/// use user_import::{Field, ImportConfig};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let config = ImportConfig::from_toml_str(r#"
///     [schema]
///     fields = [
///         { field = "email", required = true },
///         { field = "login", required = true, label = "userName" },
///         { field = "reference", required = true },
///     ]
///     [catalog]
///     roles = ["Learner", "Manager"]
///     [options]
///     mode = "create_only"
/// "#)?;
/// assert!(config.schema.is_required(Field::Login));
/// assert_eq!(config.schema.spec(Field::Login).unwrap().label(), "userName");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ImportConfig {
    /// The fields expected.
    pub schema: Schema,
    /// What the host has.
    pub catalog: Catalog,
    /// How to import.
    pub options: ImportOptions,
}

impl ImportConfig {
    /// A configuration from its parts (checked).
    pub fn new(schema: Schema, catalog: Catalog, options: ImportOptions) -> Result<Self> {
        let config = ImportConfig { schema, catalog, options };
        config.check()?;
        Ok(config)
    }

    /// Loads a configuration from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let config: ImportConfig = toml::from_str(text).map_err(|e| Error::config(e.to_string().trim_end()))?;
        config.check()?;
        Ok(config)
    }

    /// Loads a configuration from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let config: ImportConfig = serde_json::from_str(text).map_err(|e| Error::config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Loads a `.toml` or `.json` file (other names: JSON if the text starts with `{`).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).with_file(name.clone()))?;
        let is_json = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => true,
            Some(ext) if ext.eq_ignore_ascii_case("toml") => false,
            _ => text.trim_start().starts_with('{'),
        };
        let config = if is_json { Self::from_json_str(&text) } else { Self::from_toml_str(&text) };
        config.map_err(|e| e.with_file(name))
    }

    /// The configuration as TOML text.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::config(e.to_string()))
    }

    /// The mapping overrides, parsed: column → target (`None` = ignore the column).
    pub fn mapping_overrides(&self) -> Result<Vec<(ColumnRef, Option<Target>)>> {
        self.options
            .mapping
            .iter()
            .map(|(column, target)| {
                let target = match target.trim() {
                    t if t.eq_ignore_ascii_case("ignore") || t.is_empty() => None,
                    t => Some(t.parse::<Target>().map_err(|e| Error::config(format!("mapping '{column}': {e}")))?),
                };
                Ok((ColumnRef::parse(column), target))
            })
            .collect()
    }

    /// Checks what serde cannot: unique names, lists that must not be empty, targets that exist.
    pub fn check(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for spec in &self.schema.fields {
            if !seen.insert(spec.field) {
                return Err(Error::config(format!("schema lists the field '{}' twice", spec.field)));
            }
        }
        let mut names = HashSet::new();
        for custom in &self.schema.custom_fields {
            let norm = normalize_name(&custom.name);
            if norm.is_empty() {
                return Err(Error::config("a custom field needs a name"));
            }
            if !names.insert(norm.clone()) {
                return Err(Error::config(format!("custom field '{}' is defined twice", custom.name)));
            }
            if Field::from_key(&custom.name).is_some() {
                return Err(Error::config(format!("custom field '{}' has the name of a built-in field", custom.name)));
            }
            if custom.kind == CustomKind::OneOf && custom.values.is_empty() {
                return Err(Error::config(format!("custom field '{}' is one_of but lists no values", custom.name)));
            }
        }
        let mut ids = HashSet::new();
        for product in &self.catalog.products {
            if product.id().trim().is_empty() {
                return Err(Error::config("a product needs an id"));
            }
            if !ids.insert(product.id().to_string()) {
                return Err(Error::config(format!("product '{}' is defined twice", product.id())));
            }
        }
        let mut roles = HashSet::new();
        for role in &self.catalog.roles {
            if !roles.insert(role.name().to_lowercase()) {
                return Err(Error::config(format!("role '{role}' is listed twice")));
            }
        }
        // Names end up in reports and in the compact record encoding: no control characters.
        let names = self
            .catalog
            .products
            .iter()
            .flat_map(|p| {
                std::iter::once(p.id()).chain(std::iter::once(p.name())).chain(p.roles().iter().map(|r| r.name()))
            })
            .chain(self.catalog.roles.iter().map(|r| r.name()))
            .chain(self.catalog.groups.iter().map(String::as_str))
            .chain(self.schema.custom_fields.iter().map(|c| c.name.as_str()));
        for name in names {
            if name.chars().any(char::is_control) {
                return Err(Error::config(format!("{name:?} contains a control character")));
            }
        }
        let policy = &self.catalog.password_policy;
        if policy.max_length > 1024 {
            return Err(Error::config("password_policy.max_length may be at most 1024"));
        }
        if policy.min_length > policy.max_length {
            return Err(Error::config("password_policy.min_length is larger than max_length"));
        }
        for rule in &self.options.group_rules {
            if let Some(Err(e)) = rule.when.regex() {
                return Err(Error::config(format!("group rule for '{}': bad pattern: {e}", rule.group)));
            }
            if !self.catalog.groups.is_empty()
                && self.catalog.group(&rule.group).is_none()
                && !self.options.create_missing_groups
            {
                return Err(Error::config(format!(
                    "group rule gives '{}', which the catalog does not have (set create_missing_groups to create it)",
                    rule.group
                )));
            }
        }
        if let Some(template) = &self.options.login_template {
            crate::plan::check_login_template(template).map_err(Error::config)?;
        }
        for (_, target) in self.mapping_overrides()? {
            match target {
                Some(Target::Product(id)) if self.catalog.product_by_id(&id).is_none() => {
                    return Err(Error::config(format!(
                        "mapping names product '{id}', which the catalog does not have"
                    )));
                }
                Some(Target::Custom(name))
                    if self.schema.custom_field(&name).is_none() && !self.options.accept_unknown_columns =>
                {
                    return Err(Error::config(format!(
                        "mapping names custom field '{name}', which the schema does not define"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IssueCode;

    #[test]
    fn config_errors_say_what_is_wrong() {
        let err = ImportConfig::from_toml_str("[schema]\nfeilds = []").unwrap_err();
        assert_eq!(err.code(), IssueCode::InvalidConfig);
        assert!(err.to_string().contains("feilds"), "{err}");
        let err = ImportConfig::from_toml_str("[schema]\nfields = [{ field = \"emial\" }]").unwrap_err();
        assert!(err.to_string().contains("emial"), "{err}");
        let err =
            ImportConfig::from_toml_str("[[schema.custom_fields]]\nname = \"dept\"\nkind = \"one_of\"").unwrap_err();
        assert!(err.to_string().contains("lists no values"), "{err}");
        let err = ImportConfig::from_toml_str("[options.mapping]\n\"Mail\" = \"product:nope\"").unwrap_err();
        assert!(err.to_string().contains("product 'nope'"), "{err}");
        let rule = "[options]\ncreate_missing_groups = true\n[[options.group_rules]]\nfield = \"email\"\n";
        let err = ImportConfig::from_toml_str(&format!("{rule}when = {{ matches = \"(sales\" }}\ngroup = \"Sales\""))
            .unwrap_err();
        assert!(err.to_string().contains("group rule for 'Sales': bad pattern"), "{err}");
        assert!(ImportConfig::from_toml_str(&format!("{rule}when = {{ matches = \".*@sales\" }}\ngroup = \"Sales\""))
            .is_ok());
    }

    #[test]
    fn toml_and_json_give_the_same_config() {
        let toml = r##"
            [schema]
            fields = [{ field = "email", required = true }]
            [options]
            mode = "update_only"
            strict_headers = true
            [options.mapping]
            "E-mail" = "email"
            "#3" = "ignore"
        "##;
        let from_toml = ImportConfig::from_toml_str(toml).unwrap();
        let json = serde_json::to_string(&from_toml).unwrap();
        assert_eq!(ImportConfig::from_json_str(&json).unwrap(), from_toml);
        let back = ImportConfig::from_toml_str(&from_toml.to_toml_string().unwrap()).unwrap();
        assert_eq!(back, from_toml);
        let overrides = from_toml.mapping_overrides().unwrap();
        assert!(overrides.contains(&(ColumnRef::Index(2), None)));
        assert!(overrides.contains(&(ColumnRef::Name("E-mail".into()), Some(Target::Field(Field::Email)))));
    }
}
