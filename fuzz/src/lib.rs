//! Helpers shared by the fuzz targets.

use std::collections::HashSet;
use std::sync::{Mutex, Once};

use user_import::{Error, IssueCode};

/// The name of the library's workbook reader thread (see `src/source/sheet.rs`).
const SHEET_THREAD: &str = "user-import-sheet";

/// libFuzzer's panic hook aborts on every panic, in any thread. A panic of calamine on damaged
/// data — while the library opens a workbook (inside its `catch_unwind`) or in the workbook
/// reader thread — is contained by the library and ends as an `unreadable` error, so it is not a
/// crash of the host: such panics are let through (each distinct location printed once) and
/// every other panic still aborts. A panic let through that the library did not contain would
/// still abort, at the `catch_unwind` of `fuzz_target!`.
pub fn contain_reader_panics() {
    static HOOK: Once = Once::new();
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_calamine = info.location().is_some_and(|l| l.file().contains("/calamine-"));
            if in_calamine || std::thread::current().name() == Some(SHEET_THREAD) {
                let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
                if seen.get_or_insert_with(HashSet::new).insert(location.clone()) {
                    eprintln!("contained panic of a workbook reader at {location}: {info}");
                }
                return;
            }
            abort(info);
        }));
    });
}

/// Checks what every error must be: a file-level code and a message for a person.
pub fn check_error(err: &Error) {
    let code = err.code();
    assert!(
        code.is_file_level() || matches!(code, IssueCode::StalePlan | IssueCode::Cancelled),
        "an error with a row-level code: {code} ({err})"
    );
    let message = err.to_string();
    assert!(!message.trim().is_empty(), "an error without a message: {err:?}");
    let issue = err.to_issue();
    assert_eq!(issue.code, code);
}

/// The first byte of an input as option bits, and the rest.
pub fn split_options(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, data),
    }
}
