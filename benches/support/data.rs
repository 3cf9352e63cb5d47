//! Deterministic benchmark data: a users CSV and XLSX generated at bench time.
//!
//! Every run produces the same bytes (a fixed-seed SplitMix64). About 2% of the rows are
//! deliberately wrong (a bad email, an unknown role, a bad time zone, a duplicate login, a
//! missing superior) so that later stages have issues to report. Superiors form a forest:
//! each user's superior is a user from an earlier row, or nobody.
#![allow(dead_code)]

use std::path::PathBuf;

/// A small, fast, deterministic generator.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Élodie", "Søren", "Zoë", "John", "Radia", "Ken",
    "Margaret", "Tim",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Müller",
    "O'Brien",
    "Ng",
    "Backus",
    "Perlman",
    "Thompson",
    "Hamilton",
    "Berners-Lee",
];
const ROLES: &[&str] = &["Admin", "Editor", "Viewer", "Editor;Viewer", "Auditor"];
const ZONES: &[&str] = &[
    "Europe/Paris",
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Europe/London",
    "America/Sao_Paulo",
    "Australia/Sydney",
];
const STATUSES: &[&str] = &["active", "pending", "active", "expired", ""];

/// The header of the generated users files.
pub const HEADER: [&str; 11] = [
    "First Name",
    "Last Name",
    "Login Name",
    "E-mail Address",
    "Password",
    "Roles",
    "Superior User",
    "Time Zone",
    "Status",
    "Employee ID",
    "Start Date",
];

/// One generated user, as cells.
pub fn user_row(i: u64, rng: &mut SplitMix) -> [String; 11] {
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let mut login = format!("user{i:07}");
    let mut email = format!("{}.{}{i}@example.com", first.to_lowercase(), last.to_lowercase().replace('\'', ""));
    let mut role = rng.pick(ROLES).to_string();
    let mut zone = rng.pick(ZONES).to_string();
    let mut superior = if i == 0 || rng.below(10) == 0 { String::new() } else { format!("user{:07}", rng.below(i)) };
    match rng.below(250) {
        0 => email = format!("{}.{}@", first.to_lowercase(), i),
        1 => role = "Superuser".into(),
        2 => zone = "Europe/Pariss".into(),
        3 if i > 0 => login = format!("user{:07}", i - 1),
        4 => superior = "nobody.here".into(),
        _ => {}
    }
    let password = if rng.below(3) == 0 { String::new() } else { format!("Pw#{:08x}", rng.next_u64() as u32) };
    let day = 1 + rng.below(28);
    let month = 1 + rng.below(12);
    let year = 2000 + rng.below(25);
    [
        first.to_string(),
        last.to_string(),
        login,
        email,
        password,
        role,
        superior,
        zone,
        rng.pick(STATUSES).to_string(),
        format!("{}", 10_000 + i),
        format!("{year}-{month:02}-{day:02}"),
    ]
}

/// A users CSV of `rows` data rows (about 130 bytes a row).
pub fn users_csv(rows: u64) -> Vec<u8> {
    let mut rng = SplitMix::new(0x5EED);
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows as usize * 140));
    writer.write_record(HEADER).expect("header");
    for i in 0..rows {
        writer.write_record(user_row(i, &mut rng)).expect("row");
    }
    writer.into_inner().expect("flush")
}

/// A users XLSX of `rows` data rows, written with rust_xlsxwriter: Employee ID as numbers,
/// Start Date as date cells.
pub fn users_xlsx(rows: u64) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut rng = SplitMix::new(0x5EED);
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Users").expect("name");
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for i in 0..rows {
        let cells = user_row(i, &mut rng);
        let r = i as u32 + 1;
        for (c, value) in cells.iter().enumerate() {
            let c = c as u16;
            if value.is_empty() {
                continue;
            }
            match c {
                9 => {
                    sheet.write_number(r, c, value.parse::<f64>().expect("id")).expect("number");
                }
                10 => {
                    let d = ExcelDateTime::parse_from_str(value).expect("date");
                    sheet.write_datetime_with_format(r, c, &d, &date).expect("date");
                }
                _ => {
                    sheet.write_string(r, c, value).expect("string");
                }
            }
        }
    }
    workbook.save_to_buffer().expect("xlsx")
}

/// Generates a file once per checkout (under `target/bench-data`) and returns its path.
pub fn cached(name: &str, make: impl FnOnce() -> Vec<u8>) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-data");
    let path = dir.join(name);
    if !path.exists() {
        std::fs::create_dir_all(&dir).expect("bench-data dir");
        let tmp = dir.join(format!("{name}.tmp"));
        std::fs::write(&tmp, make()).expect("write bench data");
        std::fs::rename(&tmp, &path).expect("rename bench data");
    }
    path
}

/// The baseline of every CSV benchmark: raw `csv::ByteRecord` reading of the same bytes (no
/// UTF-8 check, no row numbers); returns the number of fields read.
pub fn raw_csv_fields(bytes: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut fields = 0usize;
    while reader.read_byte_record(&mut record).expect("csv") {
        fields += record.len();
    }
    fields
}

/// The configuration the pipeline benchmarks validate with: required names, login, email and
/// roles from a catalog, time zone, status, password policy, a custom date field.
pub fn bench_config() -> user_import::ImportConfig {
    user_import::ImportConfig::from_toml_str(
        r#"
        [schema]
        product_columns = false
        fields = [
            { field = "first_name", required = true },
            { field = "last_name", required = true },
            { field = "login", required = true },
            { field = "email", required = true },
            { field = "password" },
            { field = "roles", required = true },
            { field = "superior" },
            { field = "timezone" },
            { field = "status" },
            { field = "reference" },
        ]
        [[schema.custom_fields]]
        name = "start_date"
        label = "Start Date"
        kind = "date"
        [catalog]
        roles = ["Admin", "Editor", "Viewer", "Auditor"]
        [catalog.password_policy]
        min_length = 8
        "#,
    )
    .expect("bench config")
}
