//! Email addresses: the `validator` crate is the judge; a fast path in front of it proves the
//! common case valid without its regular expressions.
//!
//! `validator` (0.21) accepts an address when, splitting at the last `@`, the local part has at
//! most 64 characters and matches `^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+$`, and the domain has at most
//! 255 characters and either matches the label pattern `^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}
//! [a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`, or is an IP literal, or
//! becomes one of those after IDNA conversion. [`fast_valid`] checks exactly the first two
//! patterns on ASCII text and answers only "valid" or "don't know"; everything it does not
//! prove goes to `validator`. A property test compares the two.

use validator::ValidateEmail;

/// `true` when the address is certainly valid by `validator`'s rules; `false` means "ask
/// `validator`", never "invalid".
pub(crate) fn fast_valid(email: &str) -> bool {
    let bytes = email.as_bytes();
    let Some(at) = bytes.iter().rposition(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.is_empty() || domain.len() > 255 {
        return false;
    }
    if !local.iter().all(|&b| is_local_byte(b)) {
        return false;
    }
    domain.split(|&b| b == b'.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label[0].is_ascii_alphanumeric()
            && label[label.len() - 1].is_ascii_alphanumeric()
            && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b)
}

/// Whether `validator` accepts the address (through the fast path when it can).
pub(crate) fn is_valid(email: &str) -> bool {
    fast_valid(email) || email.validate_email()
}

/// The address as stored: trimmed, domain lowercased (the local part is kept as written).
pub(crate) fn normalize(email: &str) -> String {
    let email = email.trim();
    match email.rfind('@') {
        Some(at) => {
            let (local, domain) = email.split_at(at);
            let mut out = String::with_capacity(email.len());
            out.push_str(local);
            if domain.is_ascii() {
                out.push_str(&domain.to_ascii_lowercase());
            } else {
                out.push_str(&domain.to_lowercase());
            }
            out
        }
        None => email.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_proves_common_addresses() {
        for ok in ["ada@example.com", "a.b+tag@sub.example.co.uk", "o'brien@x.io", "x@localhost", "1@2.3"] {
            assert!(fast_valid(ok), "{ok}");
            assert!(ok.validate_email(), "{ok}");
        }
    }

    #[test]
    fn what_the_fast_path_does_not_prove_goes_to_validator() {
        // Internationalised domains and IP literals are valid, through validator.
        for ok in ["user@exämple.com", "user@[127.0.0.1]", "user@bücher.de"] {
            assert!(!fast_valid(ok), "{ok}");
            assert!(is_valid(ok), "{ok}");
        }
        for bad in
            ["bob@", "@example.com", "a b@example.com", "ada@-example.com", "ada@example..com", "ada", "ü@example.com"]
        {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn domains_are_lowercased_not_local_parts() {
        assert_eq!(normalize(" Ada.L@Example.COM "), "Ada.L@example.com");
        assert_eq!(normalize("x@BÜCHER.de"), "x@bücher.de");
    }
}
