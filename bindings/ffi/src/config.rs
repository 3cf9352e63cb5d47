//! The import configuration: loaded from TOML or JSON (the same files the command line and
//! Rust hosts use), or built and adjusted in code.

use std::sync::{Arc, Mutex};

use user_import as core;

use crate::error::{lock, UserImportError};
use crate::records::{CustomFieldSpec, MergePolicy, Mode};

/// A condition on one field of a row, for the group distribution rules.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum GroupCondition {
    /// The value equals this (ignoring case).
    Equals {
        /// The value.
        value: String,
    },
    /// The value is one of these (ignoring case).
    OneOf {
        /// The values.
        values: Vec<String>,
    },
    /// The value starts with this (ignoring case).
    StartsWith {
        /// The prefix.
        prefix: String,
    },
    /// The whole value matches this regular expression.
    Matches {
        /// The pattern (Rust `regex` syntax).
        pattern: String,
    },
    /// The field has a value.
    Present,
}

/// Everything an import needs to know: the fields expected (schema), what the host has
/// (catalog) and the options. Every change is checked at once: a setter that would make the
/// configuration invalid raises `UserImportError.InvalidConfig` and changes nothing.
///
/// An [`Importer`](crate::Importer) takes a copy: later changes do not affect it.
#[derive(Debug, uniffi::Object)]
pub struct ImportConfig {
    inner: Mutex<core::ImportConfig>,
}

impl ImportConfig {
    pub(crate) fn wrap(config: core::ImportConfig) -> Arc<Self> {
        Arc::new(ImportConfig { inner: Mutex::new(config) })
    }

    pub(crate) fn snapshot(&self) -> core::ImportConfig {
        lock(&self.inner).clone()
    }

    fn edit(
        &self,
        change: impl FnOnce(&mut core::ImportConfig) -> Result<(), UserImportError>,
    ) -> Result<(), UserImportError> {
        let mut config = lock(&self.inner);
        let mut edited = config.clone();
        change(&mut edited)?;
        edited.check()?;
        *config = edited;
        Ok(())
    }
}

fn target(text: &str) -> Result<core::Target, UserImportError> {
    text.parse::<core::Target>().map_err(|err| UserImportError::InvalidConfig { detail: err.to_string() })
}

#[uniffi::export]
impl ImportConfig {
    /// The default configuration: every built-in field optional, no catalog, upsert.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        ImportConfig::wrap(core::ImportConfig::default())
    }

    /// A configuration from TOML text (the format of the files in `examples/configs`).
    #[uniffi::constructor]
    pub fn from_toml(text: String) -> Result<Arc<Self>, UserImportError> {
        Ok(ImportConfig::wrap(core::ImportConfig::from_toml_str(&text)?))
    }

    /// A configuration from JSON text (the same structure as the TOML).
    #[uniffi::constructor]
    pub fn from_json(text: String) -> Result<Arc<Self>, UserImportError> {
        Ok(ImportConfig::wrap(core::ImportConfig::from_json_str(&text)?))
    }

    /// A configuration from a `.toml` or `.json` file.
    #[uniffi::constructor]
    pub fn from_path(path: String) -> Result<Arc<Self>, UserImportError> {
        Ok(ImportConfig::wrap(core::ImportConfig::from_path(path)?))
    }

    /// The configuration as TOML text.
    pub fn to_toml(&self) -> Result<String, UserImportError> {
        Ok(lock(&self.inner).to_toml_string()?)
    }

    /// The configuration as JSON text.
    pub fn to_json(&self) -> Result<String, UserImportError> {
        serde_json::to_string_pretty(&*lock(&self.inner)).map_err(|err| UserImportError::InvalidConfig {
            detail: format!("cannot write the configuration as JSON: {err}"),
        })
    }

    /// Create, update or both.
    pub fn mode(&self) -> Mode {
        lock(&self.inner).options.mode.into()
    }

    /// Sets create, update or both.
    pub fn set_mode(&self, mode: Mode) {
        lock(&self.inner).options.mode = mode.into();
    }

    /// Sets how updates treat stored values.
    pub fn set_merge(&self, merge: MergePolicy) {
        lock(&self.inner).options.merge = merge.into();
    }

    /// Maps a column by hand, as a person does with a drop-down: `column` is a header name or
    /// `#3` (the 3rd column); `target` a field (`email`), `product:<id>`, `custom:<name>`, or
    /// none to ignore the column.
    pub fn set_mapping(&self, column: String, target: Option<String>) -> Result<(), UserImportError> {
        self.edit(|config| {
            let value = target.unwrap_or_else(|| "ignore".to_string());
            config.options.mapping.insert(column, value);
            Ok(())
        })
    }

    /// The mapping overrides: column → target (`ignore` for ignored columns).
    pub fn mapping(&self) -> std::collections::HashMap<String, String> {
        lock(&self.inner).options.mapping.clone().into_iter().collect()
    }

    /// Adds a custom field of the host.
    pub fn add_custom_field(&self, field: CustomFieldSpec) -> Result<(), UserImportError> {
        self.edit(|config| {
            config.schema.custom_fields.push(field.into());
            Ok(())
        })
    }

    /// The custom fields of the schema.
    pub fn custom_fields(&self) -> Vec<CustomFieldSpec> {
        lock(&self.inner).schema.custom_fields.iter().map(CustomFieldSpec::from).collect()
    }

    /// Columns that match no field become custom fields (instead of being reported).
    pub fn set_accept_unknown_columns(&self, accept: bool) {
        lock(&self.inner).options.accept_unknown_columns = accept;
    }

    /// Accept only the template's exact column names.
    pub fn set_strict_headers(&self, strict: bool) {
        lock(&self.inner).options.strict_headers = strict;
    }

    /// Reads the sheet with this name.
    pub fn set_sheet_name(&self, name: String) {
        lock(&self.inner).options.sheet = core::SheetSelector::Name(name);
    }

    /// Reads the sheet at this 0-based position.
    pub fn set_sheet_index(&self, index: u32) {
        lock(&self.inner).options.sheet = core::SheetSelector::Index(index as usize);
    }

    /// The header is on this row (as a person sees it), or found automatically (none).
    pub fn set_header_row(&self, row: Option<u64>) {
        lock(&self.inner).options.header_row = row.map_or(core::HeaderRow::Auto, core::HeaderRow::At);
    }

    /// Requires these built-in fields (`first_name`, `email`…); the others stay as they are.
    pub fn require_fields(&self, fields: Vec<String>) -> Result<(), UserImportError> {
        self.edit(|config| {
            let mut wanted = Vec::with_capacity(fields.len());
            for name in &fields {
                match target(name)? {
                    core::Target::Field(field) => wanted.push(field),
                    other => {
                        return Err(UserImportError::InvalidConfig {
                            detail: format!("'{other}' is not a built-in field; require custom fields with their spec"),
                        })
                    }
                }
            }
            config.schema = std::mem::take(&mut config.schema).require(wanted);
            Ok(())
        })
    }

    /// The roles the catalog knows (replaces the list).
    pub fn set_roles(&self, roles: Vec<String>) -> Result<(), UserImportError> {
        self.edit(|config| {
            config.catalog.roles = roles.iter().map(core::Role::new).collect();
            Ok(())
        })
    }

    /// The groups the catalog knows (replaces the list).
    pub fn set_groups(&self, groups: Vec<String>) -> Result<(), UserImportError> {
        self.edit(|config| {
            config.catalog.groups = groups;
            Ok(())
        })
    }

    /// Groups the catalog does not have are created (a warning) instead of refused.
    pub fn set_create_missing_groups(&self, create: bool) {
        lock(&self.inner).options.create_missing_groups = create;
    }

    /// Adds an ordered group distribution rule: when `field` (a field key, `custom:<name>` or
    /// `product:<id>`) meets `when`, the user joins `group`.
    pub fn add_group_rule(&self, field: String, when: GroupCondition, group: String) -> Result<(), UserImportError> {
        self.edit(|config| {
            let when = match when {
                GroupCondition::Equals { value } => core::Condition::Equals(value),
                GroupCondition::OneOf { values } => core::Condition::OneOf(values),
                GroupCondition::StartsWith { prefix } => core::Condition::StartsWith(prefix),
                GroupCondition::Matches { pattern } => core::Condition::Matches(pattern),
                GroupCondition::Present => core::Condition::Present,
            };
            // `GroupRule` is non-exhaustive: build it through its serde form.
            let rule = serde_json::json!({ "field": target(&field)?.to_string(), "when": when, "group": group });
            let rule: core::GroupRule = serde_json::from_value(rule)
                .map_err(|err| UserImportError::InvalidConfig { detail: format!("group rule: {err}") })?;
            config.options.group_rules.push(rule);
            Ok(())
        })
    }

    /// Every matching group rule gives its group (true), or only the first (false, the default).
    pub fn set_every_group_rule(&self, every: bool) {
        lock(&self.inner).options.group_rule_match =
            if every { core::RuleMatch::Every } else { core::RuleMatch::First };
    }

    /// An existing user whose roles, groups and product access every new user receives.
    pub fn set_mirror_user(&self, login: Option<String>) {
        lock(&self.inner).options.mirror_user = login;
    }

    /// Builds logins when the file has none, e.g. `{first}.{last}`.
    pub fn set_login_template(&self, template: Option<String>) -> Result<(), UserImportError> {
        self.edit(|config| {
            config.options.login_template = template;
            Ok(())
        })
    }

    /// Also change the passwords of existing users when the file has one.
    pub fn set_update_passwords(&self, update: bool) {
        lock(&self.inner).options.update_passwords = update;
    }

    /// Accept pre-hashed passwords (argon2 or bcrypt PHC strings) as they are.
    pub fn set_accept_password_hashes(&self, accept: bool) {
        lock(&self.inner).options.accept_password_hashes = accept;
    }

    /// Checks the configuration as a whole.
    pub fn check(&self) -> Result<(), UserImportError> {
        Ok(lock(&self.inner).check()?)
    }
}
