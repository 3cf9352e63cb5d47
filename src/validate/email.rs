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
//!
//! One deliberate extension: internationalised addresses (RFC 6531) may have letters and digits
//! of any script in the local part (`élodie@example.com`), which `validator` refuses. Such a
//! local part is judged by `validator` with each non-ASCII letter or digit read as `a`, so every
//! other rule (length, symbols, the domain, IDNA) stays `validator`'s.

use validator::ValidateEmail;

/// `true` when the address is certainly valid by `validator`'s rules; `false` means "ask
/// `validator`", never "invalid". ([`is_valid`] runs the same proof on the address already split.)
#[cfg(test)]
pub(crate) fn fast_valid(email: &str) -> bool {
    let bytes = email.as_bytes();
    memchr::memrchr(b'@', bytes).is_some_and(|at| fast_parts(&bytes[..at], &bytes[at + 1..]))
}

/// [`fast_valid`] for an address split at its last `@`.
#[cfg(test)]
fn fast_parts(local: &[u8], domain: &[u8]) -> bool {
    fast_local(local) && fast_domain(domain).is_some()
}

/// A local part of 1 to 64 bytes the fast path accepts (all ASCII).
fn fast_local(local: &[u8]) -> bool {
    !local.is_empty() && local.len() <= 64 && local.iter().all(|&b| is_local_byte(b))
}

/// [`fast_local`] with the extension for an internationalised local part: each non-ASCII letter
/// or digit stands for `a` (what [`is_valid`] gives `validator`), so the rest of the rules are the
/// fast path's.
fn fast_local_international(local: &str) -> bool {
    let mut count = 0;
    for c in local.chars() {
        count += 1;
        let ok = if c.is_ascii() {
            is_local_byte(c as u8)
        } else {
            // Latin-1 letters (é, ø, ß...) without the Unicode tables; × and ÷ are not letters.
            (matches!(c, '\u{C0}'..='\u{FF}') && c != '\u{D7}' && c != '\u{F7}') || c.is_alphanumeric()
        };
        if !ok || count > 64 {
            return false;
        }
    }
    count > 0
}

/// Labels of letters, digits and inner hyphens, 1 to 63 bytes, separated by dots; at most 255
/// bytes in all. One pass over the bytes. `Some(lowercase)` when the domain is proved valid
/// (`lowercase`: it has no capital letter), `None` when it is not.
fn fast_domain(domain: &[u8]) -> Option<bool> {
    if domain.is_empty() || domain.len() > 255 {
        return None;
    }
    let mut label_start = 0;
    let mut previous = b'.';
    let mut upper = false;
    for (i, &b) in domain.iter().enumerate() {
        match CLASS[usize::from(b)] {
            ALNUM => {}
            UPPER => upper = true,
            HYPHEN if previous != b'.' => {}
            DOT if previous != b'.' && previous != b'-' && i - label_start <= 63 => label_start = i + 1,
            _ => return None,
        }
        previous = b;
    }
    (previous != b'-' && previous != b'.' && domain.len() - label_start <= 63).then_some(!upper)
}

/// What a byte is to the fast path: a lowercase letter or digit, `-`, `.`, another symbol a local
/// part may hold, a capital letter, or anything else.
const ALNUM: u8 = 1;
const HYPHEN: u8 = 2;
const DOT: u8 = 3;
const SYMBOL: u8 = 4;
const UPPER: u8 = 5;
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_alphanumeric() {
            ALNUM
        } else if c == b'-' {
            HYPHEN
        } else if c == b'.' {
            DOT
        } else if matches!(c, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'/' | b'=' | b'?' | b'^')
            || matches!(c, b'_' | b'`' | b'{' | b'|' | b'}' | b'~')
        {
            SYMBOL
        } else {
            0
        };
        b += 1;
    }
    table
};

fn is_local_byte(b: u8) -> bool {
    CLASS[usize::from(b)] != 0
}

/// Whether the address is valid: by the fast path when it can tell, else by `validator`
/// (with the internationalised local part extension described above).
#[cfg(test)]
pub(crate) fn is_valid(email: &str) -> bool {
    check(email, &mut KnownDomain::default()).is_some()
}

/// The last domain the fast path proved valid, and whether it is lowercase: addresses down a
/// file share a few domains, which are then compared, not checked again.
#[derive(Clone, Debug, Default)]
pub(crate) struct KnownDomain {
    domain: Vec<u8>,
    lowercase: bool,
}

impl KnownDomain {
    /// [`fast_domain`], remembering the last domain it proves.
    fn check(&mut self, domain: &[u8]) -> Option<bool> {
        if !self.domain.is_empty() && self.domain == domain {
            return Some(self.lowercase);
        }
        let lowercase = fast_domain(domain)?;
        self.domain.clear();
        self.domain.extend_from_slice(domain);
        self.lowercase = lowercase;
        Some(lowercase)
    }
}

/// [`is_valid`], and for a valid address whether [`normalize_into`] would give it as it is
/// (`Some(true)`: no capital letter and nothing but ASCII after its last `@`). `known` is the
/// domain proved last (by this call or an earlier one).
pub(crate) fn check(email: &str, known: &mut KnownDomain) -> Option<bool> {
    let Some(at) = memchr::memrchr(b'@', email.as_bytes()) else {
        return email.validate_email().then_some(true);
    };
    let (local, domain) = (&email[..at], &email.as_bytes()[at + 1..]);
    // An ASCII local part (nearly always), else one with letters of other scripts: both are
    // proved in one pass.
    if fast_local(local.as_bytes()) || fast_local_international(local) {
        if let Some(lowercase) = known.check(domain) {
            return Some(lowercase);
        }
    }
    let valid = if local.is_ascii() { email.validate_email() } else { international_valid(email, at) };
    valid.then(|| domain.iter().all(|&b| b.is_ascii() && !b.is_ascii_uppercase()))
}

/// The slow path for a local part that is not ASCII (one the fast path could not prove).
fn international_valid(email: &str, at: usize) -> bool {
    let (local, domain) = email.split_at(at);
    if local.chars().any(|c| !c.is_ascii() && !c.is_alphanumeric()) {
        return false;
    }
    let ascii: String = local.chars().map(|c| if c.is_ascii() { c } else { 'a' }).chain(domain.chars()).collect();
    ascii.validate_email()
}

/// The address as stored: trimmed, domain lowercased (the local part is kept as written).
#[cfg(test)]
pub(crate) fn normalize(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    normalize_into(email, &mut out);
    out
}

/// [`normalize`] into a buffer (no allocation when it has room).
pub(crate) fn normalize_into(email: &str, out: &mut String) {
    let email = super::cells::trim(email);
    match memchr::memrchr(b'@', email.as_bytes()) {
        Some(at) => {
            let (local, domain) = email.split_at(at);
            out.push_str(local);
            if domain.is_ascii() {
                let start = out.len();
                out.push_str(domain);
                if let Some(appended) = out.get_mut(start..) {
                    appended.make_ascii_lowercase();
                }
            } else {
                out.push_str(&domain.to_lowercase());
            }
        }
        None => out.push_str(email),
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
            ["bob@", "@example.com", "a b@example.com", "ada@-example.com", "ada@example..com", "ada", "€@example.com"]
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn agrees(email: &str) -> Result<(), TestCaseError> {
        if fast_valid(email) {
            prop_assert!(email.validate_email(), "the fast path accepted '{email}', validator does not");
        }
        // With an ASCII local part, validator alone decides.
        if email.rfind('@').is_none_or(|at| email[..at].is_ascii()) {
            prop_assert_eq!(is_valid(email), email.validate_email());
        }
        // "Stored as it is" means that normalising changes nothing; with an ASCII domain, also the
        // other way round (a domain that is not ASCII is always normalised).
        if let Some(normal) = check(email, &mut KnownDomain::default()) {
            let ascii_domain = email.rsplit('@').next().is_some_and(str::is_ascii);
            if normal || ascii_domain {
                prop_assert_eq!(normal, normalize(email) == email, "'{}'", email);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Addresses built from the characters that matter to either rule set.
        #[test]
        fn the_fast_path_agrees_with_validator_on_generated_addresses(
            local in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~@ \"(),:;<>\\[\\]é-]{0,70}",
            domain in "[a-zA-Z0-9.\\-_\\[\\]:é ]{0,70}",
        ) {
            agrees(&format!("{local}@{domain}"))?;
        }

        #[test]
        fn the_fast_path_agrees_with_validator_on_any_text(text in "\\PC{0,40}") {
            agrees(&text)?;
        }

        /// The domain remembered from one address gives the next one the answer it gets alone
        /// (domains from a few, so that they repeat, in other cases, and wrong ones).
        #[test]
        fn a_remembered_domain_changes_no_answer(
            locals in prop::collection::vec("[a-zA-Z0-9.é€ +_-]{0,8}", 2..6),
            domains in prop::collection::vec(
                prop::sample::select(vec!["example.com", "Example.COM", "exämple.com", "a-.com", "", "b.c", "[1.2.3.4]"]),
                2..6,
            ),
        ) {
            let mut known = KnownDomain::default();
            for (local, domain) in locals.iter().zip(&domains) {
                let email = format!("{local}@{domain}");
                prop_assert_eq!(check(&email, &mut known), check(&email, &mut KnownDomain::default()), "{}", email);
            }
        }

        /// Label-length edges: 63 vs 64 characters, local parts of 64 vs 65.
        #[test]
        fn the_fast_path_agrees_at_the_length_limits(local_len in 60usize..68, label_len in 60usize..66) {
            agrees(&format!("{}@{}.com", "a".repeat(local_len), "b".repeat(label_len)))?;
        }
    }

    #[test]
    fn the_fast_path_agrees_on_the_fixture_addresses() {
        let fixtures =
            ["ada@example.com", "grace@example.com", "elodie@example.com", "soren@example.com", "zoe@example.com"];
        let edge = [
            "a@b",
            "a@b.",
            "a@.b",
            "a..b@c.d",
            ".a@b.c",
            "a.@b.c",
            "a@b-.c",
            "a@-b.c",
            "a@b_c.d",
            "a@[1.2.3.4]",
            "a@[::1]",
            "\"a\"@b.c",
        ];
        for email in fixtures.iter().chain(edge.iter()) {
            assert_eq!(is_valid(email), email.validate_email(), "{email}");
            if fast_valid(email) {
                assert!(email.validate_email(), "{email}");
            }
        }
    }
}
