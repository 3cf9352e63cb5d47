//! Import templates: the file an administrator fills in, made from an [`ImportConfig`].
//!
//! The columns are the config's labels — the schema's fields in order, one column per product
//! (when the schema has product columns), then the custom fields — so a filled template maps
//! exactly, with one example row that passes validation. The XLSX template also marks the
//! required columns (bold, with a note), offers drop-down lists (roles, product access, HQ
//! role, status, time zones) kept on a hidden `Lists` sheet, and explains every column on an
//! `Instructions` sheet.

use std::io::{self, Write};
use std::path::Path;

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, Formula, Note, Workbook, Worksheet, XlsxError,
};

use super::{col, neutralize, write_error, xlsx_text};
use crate::config::ImportConfig;
use crate::error::Result;
use crate::model::Status;
use crate::schema::{CustomKind, Field};

/// The name of the template's data sheet.
pub const TEMPLATE_SHEET: &str = "Users";

/// The last row a drop-down list covers (0-based; Excel's last row).
const LAST_ROW: u32 = 1_048_575;

/// One column of a template.
struct Column {
    header: String,
    required: bool,
    meaning: String,
    accepted: String,
    example: String,
    /// The values of its drop-down list, if it has one; `strict` refuses other values.
    list: Option<(Vec<String>, bool)>,
}

fn columns(config: &ImportConfig) -> Vec<Column> {
    let catalog = &config.catalog;
    let mut columns = Vec::new();
    let roles: Vec<String> = catalog.roles.iter().map(|r| r.name().to_string()).collect();
    let statuses: Vec<String> =
        catalog.statuses.iter().filter(|s| !s.is_legacy()).map(|s| s.as_str().to_string()).collect();
    for spec in config.schema.field_specs() {
        let field = spec.field;
        let (meaning, accepted, example, list) = match field {
            Field::FirstName => ("Given name.", "Any text.".to_string(), "Ada".to_string(), None),
            Field::LastName => ("Family name.", "Any text.".to_string(), "Lovelace".to_string(), None),
            Field::Login => {
                ("Sign-in name, unique.", "Any text without spaces.".to_string(), "alovelace".to_string(), None)
            }
            Field::Email => ("Email address, unique.", "An email address.".to_string(), "ada@example.com".into(), None),
            Field::Password => (
                "Initial password (empty: the user is invited to choose one).",
                password_rules(config),
                example_password(config),
                None,
            ),
            Field::Roles => {
                let accepted = if roles.is_empty() {
                    "Any role; several separated by ';'.".to_string()
                } else {
                    format!("{}; several separated by ';'.", roles.join(", "))
                };
                let example = roles.first().cloned().unwrap_or_else(|| "Admin".to_string());
                let list = (!roles.is_empty()).then(|| (roles.clone(), false));
                ("Roles in the application.", accepted, example, list)
            }
            Field::Superior => (
                "The login of the user's superior: a user of this file or an existing one.",
                "A login, or empty.".to_string(),
                String::new(),
                None,
            ),
            Field::Timezone => (
                "Time zone.",
                "An IANA time zone name, e.g. Europe/London.".to_string(),
                "Europe/London".to_string(),
                Some((chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name().to_string()).collect(), true)),
            ),
            Field::HqRole => (
                "Role in the administration console.",
                "basic or admin.".to_string(),
                "basic".to_string(),
                Some((vec!["basic".to_string(), "admin".to_string()], true)),
            ),
            Field::Status => (
                "Account status.",
                format!("{}.", statuses.join(", ")),
                statuses.first().cloned().unwrap_or_else(|| Status::Active.as_str().to_string()),
                Some((statuses.clone(), true)),
            ),
            Field::Reference => {
                ("External reference, e.g. an employee number.", "Any text.".into(), "10045".into(), None)
            }
            Field::Groups => {
                let accepted = if catalog.groups.is_empty() {
                    "Any group; several separated by ';'.".to_string()
                } else {
                    format!("{}; several separated by ';'.", catalog.groups.join(", "))
                };
                let example = catalog.groups.first().cloned().unwrap_or_else(|| "Sales".to_string());
                ("Groups the user joins.", accepted, example, None)
            }
            Field::Mirror => (
                "An existing user whose permissions are copied.",
                "A login, or empty.".to_string(),
                String::new(),
                None,
            ),
            Field::Products => {
                let names: Vec<&str> = catalog.products.iter().map(|p| p.name()).collect();
                (
                    "Product access, e.g. 'Hire: Recruiter; Perform'.",
                    format!("Products ({}) with an optional role.", names.join(", ")),
                    String::new(),
                    None,
                )
            }
        };
        columns.push(Column {
            header: spec.label().to_string(),
            required: spec.required,
            meaning: meaning.to_string(),
            accepted,
            example,
            list,
        });
    }
    if config.schema.product_columns {
        for product in &catalog.products {
            let mut values = vec!["yes".to_string(), "no".to_string()];
            values.extend(product.roles().iter().map(|r| r.name().to_string()));
            let empty = match product.empty_means() {
                crate::model::EmptyAccess::LowestRole => "empty gives the lowest role",
                crate::model::EmptyAccess::NoAccess => "empty gives no access",
            };
            columns.push(Column {
                header: product.name().to_string(),
                required: false,
                meaning: format!("Access to {}.", product.name()),
                accepted: format!("{} ({empty}).", values.join(", ")),
                example: "yes".to_string(),
                list: Some((values, true)),
            });
        }
    }
    for custom in &config.schema.custom_fields {
        let (accepted, example, list) = match custom.kind {
            CustomKind::Text => ("Any text.".to_string(), "Example".to_string(), None),
            CustomKind::Number => ("A number.".to_string(), "1".to_string(), None),
            CustomKind::Date => ("A date, e.g. 2024-01-15.".to_string(), "2024-01-15".to_string(), None),
            CustomKind::Boolean => ("yes or no.".to_string(), "yes".to_string(), None),
            CustomKind::OneOf => (
                format!("{}.", custom.values.join(", ")),
                custom.values.first().cloned().unwrap_or_default(),
                Some((custom.values.clone(), true)),
            ),
        };
        columns.push(Column {
            header: custom.label().to_string(),
            required: custom.required,
            meaning: format!("Custom field '{}'.", custom.name),
            accepted,
            example,
            list,
        });
    }
    columns
}

fn password_rules(config: &ImportConfig) -> String {
    let policy = &config.catalog.password_policy;
    let mut rules = vec![format!("at least {} characters", policy.min_length)];
    if policy.require_lowercase {
        rules.push("a lowercase letter".into());
    }
    if policy.require_uppercase {
        rules.push("an uppercase letter".into());
    }
    if policy.require_digit {
        rules.push("a digit".into());
    }
    if policy.require_symbol {
        rules.push("a symbol".into());
    }
    format!("A password with {}.", rules.join(", "))
}

/// A password the policy accepts (for the example row only).
fn example_password(config: &ImportConfig) -> String {
    let policy = &config.catalog.password_policy;
    let mut password = "Example#Pass2024".to_string();
    while password.chars().count() < policy.min_length {
        password.push('x');
    }
    password
}

/// Writes a CSV template: the header in the config's labels and one example row that passes
/// validation.
///
/// ```
/// use user_import::{write_csv_template, ImportConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ImportConfig::from_path("examples/configs/portal.toml")?;
/// let mut csv = Vec::new();
/// write_csv_template(&config, &mut csv)?;
/// assert!(String::from_utf8(csv)?.starts_with("first name,last name,email,groups,mirror user,status\n"));
/// # Ok(())
/// # }
/// ```
pub fn write_csv_template(config: &ImportConfig, writer: impl Write) -> io::Result<()> {
    let columns = columns(config);
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record(columns.iter().map(|c| neutralize(&c.header).into_owned()))?;
    csv.write_record(columns.iter().map(|c| neutralize(&c.example).into_owned()))?;
    csv.flush()
}

/// Writes an XLSX template: a `Users` sheet with the header (required columns bold, with a
/// note), one example row and drop-down lists; an `Instructions` sheet; the lists on a hidden
/// `Lists` sheet.
pub fn write_xlsx_template(config: &ImportConfig, out: impl AsRef<Path>) -> Result<()> {
    let columns = columns(config);
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();

    let users = workbook.add_worksheet();
    users.set_name(TEMPLATE_SHEET).map_err(write_error)?;
    write_users(users, &columns, &bold)?;

    let instructions = workbook.add_worksheet();
    instructions.set_name("Instructions").map_err(write_error)?;
    write_instructions(instructions, &columns, &bold).map_err(write_error)?;

    let lists = workbook.add_worksheet();
    lists.set_name("Lists").map_err(write_error)?;
    let mut list_col = 0u16;
    for column in &columns {
        let Some((values, _)) = &column.list else { continue };
        lists.write_string(0, list_col, xlsx_text(&column.header)).map_err(write_error)?;
        for (i, value) in values.iter().enumerate() {
            lists.write_string(super::row_num(i as u64 + 1)?, list_col, xlsx_text(value)).map_err(write_error)?;
        }
        list_col += 1;
    }
    lists.set_hidden(true);
    workbook.save(out.as_ref()).map_err(write_error)?;
    Ok(())
}

fn write_users(sheet: &mut Worksheet, columns: &[Column], bold: &Format) -> Result<()> {
    let mut list_col = 0u16;
    for (i, column) in columns.iter().enumerate() {
        let c = col(i)?;
        if column.required {
            sheet.write_string_with_format(0, c, xlsx_text(&column.header), bold).map_err(write_error)?;
            let note = Note::new("required").set_author("user-import").add_author_prefix(false);
            sheet.insert_note(0, c, &note).map_err(write_error)?;
        } else {
            sheet.write_string(0, c, xlsx_text(&column.header)).map_err(write_error)?;
        }
        if !column.example.is_empty() {
            sheet.write_string(1, c, xlsx_text(&column.example)).map_err(write_error)?;
        }
        sheet.set_column_width(c, (column.header.chars().count().max(12) + 2) as f64).map_err(write_error)?;
        if let Some((values, strict)) = &column.list {
            let letter = crate::source::column_letter(list_col as usize);
            let range = format!("=Lists!${letter}$2:${letter}${}", values.len().max(1) + 1);
            let style = if *strict { DataValidationErrorStyle::Stop } else { DataValidationErrorStyle::Warning };
            let validation =
                DataValidation::new().allow_list_formula(Formula::new(range)).ignore_blank(true).set_error_style(style);
            sheet.add_data_validation(1, c, LAST_ROW, c, &validation).map_err(write_error)?;
            list_col += 1;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(write_error)?;
    Ok(())
}

fn write_instructions(sheet: &mut Worksheet, columns: &[Column], bold: &Format) -> std::result::Result<(), XlsxError> {
    for (i, title) in ["Column", "Required", "What it means", "Accepted values"].iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, *title, bold)?;
    }
    for (i, column) in columns.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, xlsx_text(&column.header))?;
        sheet.write_string(row, 1, if column.required { "required" } else { "optional" })?;
        sheet.write_string(row, 2, xlsx_text(&column.meaning))?;
        let accepted = if column.accepted.chars().count() > 500 {
            "See the drop-down list of the column.".to_string()
        } else {
            column.accepted.clone()
        };
        sheet.write_string(row, 3, xlsx_text(&accepted))?;
    }
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(2, 60)?;
    sheet.set_column_width(3, 60)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_password_meets_the_policy() {
        let mut config = ImportConfig::default();
        config.catalog.password_policy.min_length = 24;
        let password = example_password(&config);
        assert!(config.catalog.password_policy.check(&password, Some("alovelace")).is_empty());
    }
}
