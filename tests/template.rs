//! Templates: for every example config, a filled template imports with zero issues; the XLSX has
//! its drop-down lists, a hidden `Lists` sheet and an `Instructions` sheet.

use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use rust_xlsxwriter::Workbook;
use user_import::{write_csv_template, write_xlsx_template, ImportConfig, Importer, MemoryDirectory, TEMPLATE_SHEET};

fn configs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join("configs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 4);
    paths
}

fn unzipped(path: &Path, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

fn cells(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut workbook = open_workbook_auto(path).unwrap();
    let range = workbook.worksheet_range(sheet).unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn filled_templates_import_with_zero_issues() {
    let dir = tempfile::tempdir().unwrap();
    for path in configs() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let config = ImportConfig::from_path(&path).unwrap();
        let importer = Importer::new(config.clone());
        let directory = MemoryDirectory::new();

        // The XLSX template itself: its example row passes.
        let template = dir.path().join(format!("{name}.xlsx"));
        write_xlsx_template(&config, &template).unwrap();
        let validation = importer.validate_path(&template, &directory).unwrap();
        assert!(validation.issues().is_empty(), "{name}: {:?}", validation.issues());
        assert_eq!((validation.rows(), validation.valid()), (1, 1), "{name}");

        // Filled by a program with the same headers: the example row and a few more.
        let sheet = cells(&template, TEMPLATE_SHEET);
        let (header, example) = (&sheet[0], &sheet[1]);
        let mut workbook = Workbook::new();
        let users = workbook.add_worksheet();
        for (c, text) in header.iter().enumerate() {
            users.write_string(0, c as u16, text).unwrap();
        }
        for k in 0..4u32 {
            for (c, text) in example.iter().enumerate() {
                let value = match (k, text.as_str()) {
                    (0, _) => text.clone(),
                    (_, "ada@example.com") => format!("user{k}@example.com"),
                    (_, "alovelace") => format!("user{k}"),
                    (_, "10045") => format!("{}", 10045 + k),
                    _ => text.clone(),
                };
                users.write_string(k + 1, c as u16, value).unwrap();
            }
        }
        let filled = dir.path().join(format!("{name}_filled.xlsx"));
        workbook.save(&filled).unwrap();
        let validation = importer.validate_path(&filled, &directory).unwrap();
        assert!(validation.issues().is_empty(), "{name}: {:?}", validation.issues());
        assert_eq!(validation.valid(), 4, "{name}");

        // The CSV template maps and validates the same way.
        let mut csv = Vec::new();
        write_csv_template(&config, &mut csv).unwrap();
        assert!(String::from_utf8(csv.clone()).unwrap().starts_with(&header.join(",")), "{name}");
        let validation = importer.validate_bytes(csv, &directory).unwrap();
        assert!(validation.issues().is_empty(), "{name}: {:?}", validation.issues());
        assert_eq!(validation.valid(), 1, "{name}");
    }
}

#[test]
fn xlsx_templates_have_lists_on_a_hidden_sheet_and_instructions() {
    let dir = tempfile::tempdir().unwrap();
    for path in configs() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let config = ImportConfig::from_path(&path).unwrap();
        let template = dir.path().join(format!("{name}.xlsx"));
        write_xlsx_template(&config, &template).unwrap();

        let workbook = open_workbook_auto(&template).unwrap();
        assert_eq!(workbook.sheet_names(), [TEMPLATE_SHEET, "Instructions", "Lists"], "{name}");
        let sheet = unzipped(&template, "xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<dataValidation "), "{name}: drop-down lists");
        assert!(sheet.contains("Lists!$A$2"), "{name}: lists come from the Lists sheet");
        let book = unzipped(&template, "xl/workbook.xml");
        assert!(book.contains(r#"name="Lists" sheetId="3" state="hidden""#), "{name}: {book}");

        // Required columns: bold with a "required" note; every column explained.
        let required: Vec<String> = config.schema.required_targets().into_iter().map(|(_, label)| label).collect();
        let comments = unzipped(&template, "xl/comments1.xml");
        assert_eq!(comments.matches("required").count(), required.len(), "{name}");
        let instructions = cells(&template, "Instructions");
        let header = &cells(&template, TEMPLATE_SHEET)[0];
        assert_eq!(instructions.len(), header.len() + 1, "{name}");
        for (row, column) in instructions[1..].iter().zip(header) {
            assert_eq!(&row[0], column);
            let expected = if required.contains(column) { "required" } else { "optional" };
            assert_eq!(row[1], expected, "{name}: {column}");
        }
    }

    // The HQ template: time zones, HQ roles and product access offered.
    let config = ImportConfig::from_path(configs().iter().find(|p| p.ends_with("hq.toml")).unwrap()).unwrap();
    let template = dir.path().join("hq.xlsx");
    write_xlsx_template(&config, &template).unwrap();
    let lists = cells(&template, "Lists");
    let column = |title: &str| -> Vec<String> {
        let at = lists[0].iter().position(|h| h == title).unwrap_or_else(|| panic!("no list {title}"));
        lists[1..].iter().map(|r| r[at].clone()).filter(|v| !v.is_empty()).collect()
    };
    assert_eq!(column("Role in Mitratech HQ"), ["basic", "admin"]);
    assert_eq!(column("Trakstar Hire"), ["yes", "no", "Interviewer", "Recruiter", "Admin"]);
    assert_eq!(column("Time Zone").len(), chrono_tz::TZ_VARIANTS.len());
}
