//! The data model: users and what they are given (roles, product access, status, …).
//!
//! These are the types the later stages produce and a [`UserStore`](crate) persists. They are
//! serde-ready; a [`Password`] never reveals itself through `Debug`, `Display` or `Serialize`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// A secret: a plain-text password as typed in the file, or a pre-hashed PHC string.
///
/// Its `Debug`, `Display` and `Serialize` forms are always `"[redacted]"`; the text is wiped from
/// memory when the value is dropped. Read it with [`Password::expose`], only to hash it.
///
/// ```
/// use user_import::Password;
///
/// let password = Password::new("Analytical#1");
/// assert_eq!(format!("{password:?} {password}"), "Password([redacted]) [redacted]");
/// assert_eq!(serde_json::to_string(&password).unwrap(), "\"[redacted]\"");
/// assert_eq!(password.expose(), "Analytical#1");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// What every printed form of a password shows.
    pub const REDACTED: &'static str = "[redacted]";

    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Password(Zeroizing::new(secret.into()))
    }

    /// The secret itself. Call it only to hash or check the password.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Number of characters (for password policies), without exposing the text.
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }

    /// True if the text looks like a PHC hash string (`$argon2id$…`, `$2b$…`).
    pub fn is_phc_hash(&self) -> bool {
        looks_like_password_hash(&self.0)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Password({})", Self::REDACTED)
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl Serialize for Password {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::REDACTED)
    }
}

/// True if a text looks like a password hash in PHC or modular crypt form: argon2, bcrypt or
/// scrypt (`$argon2id$v=19$…`, `$2b$12$…`).
pub fn looks_like_password_hash(text: &str) -> bool {
    text.starts_with('$')
        && ["$argon2id$", "$argon2i$", "$argon2d$", "$2a$", "$2b$", "$2y$", "$scrypt$"]
            .iter()
            .any(|p| text.starts_with(p))
        && text.len() >= 20
        && !text.contains(char::is_whitespace)
}

/// A role, by the catalog's spelling of its name. Cheap to clone (the name is shared).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Role(Arc<str>);

impl Role {
    /// A role with this name.
    pub fn new(name: impl AsRef<str>) -> Self {
        Role(Arc::from(name.as_ref()))
    }

    /// The role's name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an empty access cell means for a product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EmptyAccess {
    /// The product's lowest role (Mitratech HQ: "the system will assign the lowest role").
    #[default]
    LowestRole,
    /// No access to the product.
    NoAccess,
}

/// A product users can be given access to, with its roles ordered lowest first.
///
/// ```
/// use user_import::{Product, ProductAccess};
///
/// let hire = Product::new("hire", "Trakstar Hire", ["Viewer", "Recruiter", "Admin"]);
/// assert_eq!(hire.lowest_role().map(|r| r.name()), Some("Viewer"));
/// assert_eq!(hire.default_access(), ProductAccess::Role(hire.roles()[0].clone()));
/// assert!(hire.role("recruiter").is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    id: String,
    name: String,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    empty_means: EmptyAccess,
}

impl Product {
    /// A product with an id, a display name and its roles, lowest first.
    pub fn new<R: AsRef<str>>(
        id: impl Into<String>,
        name: impl Into<String>,
        roles: impl IntoIterator<Item = R>,
    ) -> Self {
        Product {
            id: id.into(),
            name: name.into(),
            roles: roles.into_iter().map(|r| Role::new(r)).collect(),
            empty_means: EmptyAccess::default(),
        }
    }

    /// Sets what an empty access cell means for this product.
    #[must_use]
    pub fn with_empty_access(mut self, empty_means: EmptyAccess) -> Self {
        self.empty_means = empty_means;
        self
    }

    /// The stable identifier.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name people see.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The roles, lowest first.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The lowest role, if the product has roles.
    pub fn lowest_role(&self) -> Option<&Role> {
        self.roles.first()
    }

    /// What an empty cell means.
    pub fn empty_means(&self) -> EmptyAccess {
        self.empty_means
    }

    /// The access an empty cell gives.
    pub fn default_access(&self) -> ProductAccess {
        match self.empty_means {
            EmptyAccess::LowestRole => self.lowest_access(),
            EmptyAccess::NoAccess => ProductAccess::None,
        }
    }

    /// The access "yes" gives: the lowest role, or plain access when the product has no roles.
    pub fn lowest_access(&self) -> ProductAccess {
        match self.lowest_role() {
            Some(role) => ProductAccess::Role(role.clone()),
            None => ProductAccess::Granted,
        }
    }

    /// Finds a role by name, ignoring case and surrounding spaces.
    pub fn role(&self, name: &str) -> Option<&Role> {
        let name = name.trim();
        self.roles.iter().find(|r| eq_ignore_case(r.name(), name))
    }
}

/// A user's access to one product: none, one of the product's roles, or plain access to a
/// product that has no roles.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductAccess {
    /// No access.
    None,
    /// Access with this role.
    Role(Role),
    /// Access to a product without roles.
    Granted,
}

impl ProductAccess {
    /// True unless the access is [`ProductAccess::None`].
    pub fn has_access(&self) -> bool {
        !matches!(self, ProductAccess::None)
    }
}

/// The error returned when a word is not a known value of an enumeration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a {what}; expected one of: {expected}")]
pub struct ParseEnumError {
    /// The text that was given.
    pub value: String,
    /// What kind of value was expected.
    pub what: &'static str,
    /// The accepted spellings.
    pub expected: &'static str,
}

/// An account's status.
///
/// `Blocked` and `Disabled` are legacy statuses: kept for existing users, never given to a new
/// one ([`Status::is_legacy`]). `Pending` is also read as "invited".
///
/// ```
/// use user_import::Status;
///
/// assert_eq!("Invited".parse::<Status>(), Ok(Status::Pending));
/// assert!(Status::Blocked.is_legacy());
/// assert_eq!(Status::Active.to_string(), "active");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Can sign in.
    #[default]
    Active,
    /// Invited, has not completed sign-up yet.
    #[serde(alias = "invited")]
    Pending,
    /// Access has expired.
    Expired,
    /// Legacy: blocked.
    Blocked,
    /// Legacy: disabled.
    Disabled,
}

impl Status {
    /// Every status, in a fixed order.
    pub const ALL: [Status; 5] = [Status::Active, Status::Pending, Status::Expired, Status::Blocked, Status::Disabled];

    /// The canonical lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Pending => "pending",
            Status::Expired => "expired",
            Status::Blocked => "blocked",
            Status::Disabled => "disabled",
        }
    }

    /// True for the statuses kept for history only (blocked, disabled).
    pub fn is_legacy(self) -> bool {
        matches!(self, Status::Blocked | Status::Disabled)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    /// [`str::parse`] of a value already trimmed (the validate stage's cells).
    pub(crate) fn parse_trimmed(word: &str) -> Result<Self, ParseEnumError> {
        // The names as written most often, compared as they are; then ignoring case.
        let found = STATUS_NAMES.iter().find(|(name, _)| *name == word);
        match found.or_else(|| STATUS_NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(word))) {
            Some((_, status)) => Ok(*status),
            None => Err(ParseEnumError {
                value: word.to_string(),
                what: "status",
                expected: "active, pending (invited), expired, blocked, disabled",
            }),
        }
    }
}

/// Every name a status is read from.
const STATUS_NAMES: [(&str, Status); 9] = [
    ("active", Status::Active),
    ("enabled", Status::Active),
    ("pending", Status::Pending),
    ("invited", Status::Pending),
    ("expired", Status::Expired),
    ("blocked", Status::Blocked),
    ("disabled", Status::Disabled),
    ("inactive", Status::Disabled),
    ("deactivated", Status::Disabled),
];

impl FromStr for Status {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::parse_trimmed(s.trim()).map_err(|err| ParseEnumError { value: s.to_string(), ..err })
    }
}

/// The role in the host application itself (Mitratech HQ's "Role in Mitratech HQ"),
/// independent of the roles in individual products.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HqRole {
    /// Dashboard and product switcher.
    #[default]
    Basic,
    /// Also configures authentication and manages users.
    Admin,
}

impl HqRole {
    /// `"basic"` or `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HqRole::Basic => "basic",
            HqRole::Admin => "admin",
        }
    }
}

impl fmt::Display for HqRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HqRole {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [(&str, HqRole); 7] = [
            ("basic", HqRole::Basic),
            ("basic user", HqRole::Basic),
            ("user", HqRole::Basic),
            ("member", HqRole::Basic),
            ("admin", HqRole::Admin),
            ("admin user", HqRole::Admin),
            ("administrator", HqRole::Admin),
        ];
        let word = s.trim();
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, role)| *role)
            .ok_or_else(|| ParseEnumError { value: s.to_string(), what: "HQ role", expected: "basic, admin" })
    }
}

/// The value of a custom field, typed by the field's kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomValue {
    /// Yes or no.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A calendar date.
    Date(NaiveDate),
    /// Free text, or one of a fixed list.
    Text(String),
}

impl fmt::Display for CustomValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomValue::Bool(b) => write!(f, "{b}"),
            CustomValue::Number(n) => write!(f, "{n}"),
            CustomValue::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            CustomValue::Text(t) => f.write_str(t),
        }
    }
}

/// A user account, as an import creates or updates it.
///
/// `login` is the key: unique, compared case-insensitively. `superior` is another user's login.
/// `products` maps a product id to the access given. The password, when any, is a [`Password`]
/// and never printed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The unique sign-in name.
    pub login: String,
    /// Email address, domain lowercased.
    pub email: Option<String>,
    /// Initial password (plain text from the file, or a pre-hashed PHC string); never printed.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// Roles in the host application, in the catalog's spelling.
    pub roles: Vec<Role>,
    /// The login of this user's superior.
    pub superior: Option<String>,
    /// IANA time zone.
    pub timezone: Option<chrono_tz::Tz>,
    /// Role in the host application's admin console (basic or admin).
    pub hq_role: Option<HqRole>,
    /// Account status.
    pub status: Status,
    /// An external reference (employee number, HR id).
    pub reference: Option<String>,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
    /// Access per product id.
    pub products: BTreeMap<String, ProductAccess>,
    /// Custom fields by name.
    pub custom: BTreeMap<String, CustomValue>,
}

impl User {
    /// A user with a login and a name; every other field empty or default.
    pub fn new(login: impl Into<String>, first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        User { login: login.into(), first_name: first_name.into(), last_name: last_name.into(), ..User::default() }
    }

    /// The login as compared: trimmed and lowercased.
    pub fn login_key(&self) -> String {
        login_key(&self.login)
    }

    /// "First Last", or whichever is present.
    pub fn full_name(&self) -> String {
        match (self.first_name.is_empty(), self.last_name.is_empty()) {
            (false, false) => format!("{} {}", self.first_name, self.last_name),
            (false, true) => self.first_name.clone(),
            _ => self.last_name.clone(),
        }
    }
}

/// Compares two names ignoring case (ASCII fast, Unicode when needed), without allocating for
/// ASCII text.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// `str::trim`, without looking at the characters when both ends are printable ASCII (nearly
/// every login and cell): the hot paths compare millions of logins.
pub(crate) fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// The form under which logins (and emails) are compared: trimmed, lowercased.
pub fn login_key(login: &str) -> String {
    login_key_cow(login).into_owned()
}

/// [`login_key`] without allocating when the login is already in that form (trimmed ASCII with no
/// capital letter: the usual case), for code that compares many logins.
pub(crate) fn login_key_cow(login: &str) -> Cow<'_, str> {
    let trimmed = trim(login);
    // One pass with no early exit (it vectorises): bit 0 for a byte beyond ASCII, bit 1 for a
    // capital letter.
    let seen = trimmed.bytes().fold(0u8, |seen, b| seen | (b >> 7) | (u8::from(b.is_ascii_uppercase()) << 1));
    match seen {
        0 => Cow::Borrowed(trimmed),
        2 => Cow::Owned(trimmed.to_ascii_lowercase()),
        _ => Cow::Owned(trimmed.to_lowercase()),
    }
}

/// Whether two trimmed logins (or emails) have the same [`login_key`], without building the keys
/// when both are ASCII: the one test of "the same user" for duplicates in a file, superiors and
/// existing users.
pub(crate) fn same_login_key(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.len() == y.len() {
        // One walk, most often ended by the first byte that differs (a superior against the
        // login of the user naming them, keys sharing a hash): up to there both texts are the
        // same but for the case of ASCII letters, so where two ASCII bytes differ otherwise,
        // the keys differ too.
        for (&p, &q) in x.iter().zip(y) {
            if p != q {
                if (p | q) >= 0x80 {
                    return login_key_cow(a) == login_key_cow(b);
                }
                if !p.eq_ignore_ascii_case(&q) {
                    return false;
                }
            }
        }
        return true;
    }
    // Texts of different lengths have different keys unless a character changes its length
    // when lowercased (the Kelvin sign, a dotted capital I): never in ASCII.
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    login_key_cow(a) == login_key_cow(b)
}

/// A 64-bit hash that logins with the same [`login_key`] share, of a login already trimmed: the
/// duplicate check and the hierarchy's index find candidates with it, then compare the strings.
///
/// ASCII and Latin-1 logins (lead bytes below 0xC4) are hashed as they are, eight bytes at a
/// time with the 0x20 bit of every byte set: their letters differ from their lowercase forms
/// only in that bit of their last byte, so no lowercase copy is made. Other logins hash their
/// [`login_key`] (which lowercases a final sigma as `ς`, as a comparison of keys does).
///
/// The words are mixed as wyhash mixes them (a 64×64→128-bit multiply folded in two): the first
/// and last eight bytes (overlapping when shorter than sixteen) in one multiply, every sixteen
/// bytes between in another, and one to finish: a login or an email address takes two to four
/// multiplies, none of the middle ones waiting for another.
pub(crate) fn login_key_hash(trimmed: &str) -> u64 {
    match folded_hash(trimmed.as_bytes()) {
        (hash, false) => hash,
        (_, true) => folded_hash(login_key_cow(trimmed).as_bytes()).0,
    }
}

/// The first and the last eight bytes of `bytes` as little-endian words (overlapping when there
/// are fewer than sixteen; both the bytes shifted in when fewer than eight): together they hold
/// every byte of up to sixteen.
#[inline]
pub(crate) fn end_words(bytes: &[u8]) -> (u64, u64) {
    let len = bytes.len();
    if len >= 8 {
        (word_at(bytes, 0), word_at(bytes, len - 8))
    } else {
        let short = shifted_in(bytes);
        (short, short)
    }
}

/// The eight bytes from `at` as a little-endian word (0 past the end).
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_le_bytes)
}

/// Up to eight bytes as the low bytes of a little-endian word (the bytes of a hash's last,
/// partial word).
pub(crate) fn shifted_in(bytes: &[u8]) -> u64 {
    let half =
        |at: usize| bytes.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map_or(0, u32::from_le_bytes);
    match bytes.len() {
        // Two four-byte reads, overlapping: the shared bytes are the same on both sides.
        len @ 4..=8 => u64::from(half(0)) | u64::from(half(len - 4)) << (8 * (len - 4)),
        _ => bytes.iter().rev().fold(0u64, |word, &b| (word << 8) | u64::from(b)),
    }
}

/// [`login_key_hash`] of bytes taken as they are, and whether they hold a byte at or above 0xC4
/// (a character beyond Latin-1: the hash is then that of the key instead).
fn folded_hash(bytes: &[u8]) -> (u64, bool) {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const SEEDS: [u64; 4] =
        [0xa076_1d64_78bd_642f, 0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3, 0x5899_65cc_7537_4cc3];
    fn mix(a: u64, b: u64) -> u64 {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    }
    // 0x80 in each byte of `w` at or above 0xC4: its high bit set, and its low seven bits plus
    // 0x3C reaching 0x80 (no carry leaves a byte: 0x7F + 0x3C < 0x100).
    let beyond_latin1 = |w: u64| ((w & LOW7) + 0x3c3c_3c3c_3c3c_3c3c) & w & HIGH;
    let len = bytes.len();
    // The first and last eight bytes (or fewer, shifted in).
    let (first, last) = end_words(bytes);
    let mut beyond = beyond_latin1(first) | beyond_latin1(last);
    let mut hash = mix((first | FOLD) ^ SEEDS[0], (last | FOLD) ^ SEEDS[1] ^ len as u64);
    // Longer keys: every sixteen bytes after the first eight, up to the last eight.
    let mut at = 8;
    while at + 8 < len {
        let (one, two) = (word_at(bytes, at), if at + 16 <= len { word_at(bytes, at + 8) } else { last });
        beyond |= beyond_latin1(one) | beyond_latin1(two);
        hash ^= mix((one | FOLD) ^ SEEDS[2], (two | FOLD) ^ SEEDS[3]);
        hash = hash.rotate_left(23);
        at += 16;
    }
    (mix(hash ^ SEEDS[3], len as u64 ^ SEEDS[0]), beyond != 0)
}

// `Password` deserializes from a plain string (for configs and stores); it still never prints.
impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Password::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bytes_beyond_latin1_are_found_in_every_word() {
        for text in ["ж", "abcdefgж", "abcdefghijж", "abcdefghijklmnopqrstuvwж", "жabcdefghijklmnopqrstuvwxyz"] {
            assert!(folded_hash(text.as_bytes()).1, "{text}");
        }
        for text in ["", "a", "éÿÀÞ", "abcdefghijklmnopqrstuvwxyzé@example.com"] {
            assert!(!folded_hash(text.as_bytes()).1, "{text}");
        }
    }

    proptest! {
        /// Up to eight bytes, shifted in as a byte at a time would be.
        #[test]
        fn bytes_are_shifted_in_as_one_at_a_time(bytes in proptest::collection::vec(any::<u8>(), 0..=8)) {
            let one_at_a_time = bytes.iter().rev().fold(0u64, |word, &b| (word << 8) | u64::from(b));
            prop_assert_eq!(shifted_in(&bytes), one_at_a_time);
        }

        /// Any byte at or above 0xC4 is seen, wherever it is.
        #[test]
        fn bytes_beyond_latin1_are_always_seen(text in "\\PC{0,40}") {
            prop_assert_eq!(folded_hash(text.as_bytes()).1, text.bytes().any(|b| b >= 0xC4));
        }

        /// `same_login_key` is the comparison of the keys, whatever the texts (ASCII, Latin-1,
        /// Greek with a final sigma, the Kelvin sign, dotted I, ß; the same text in other cases).
        #[test]
        fn same_login_key_compares_keys(
            a in "[a-zA-Z0-9.@_ éÉÿŸßẞΣσςΑαİiK\u{212A}Жж]{0,12}",
            b in "[a-zA-Z0-9.@_ éÉÿŸßẞΣσςΑαİiK\u{212A}Жж]{0,12}",
            flips in proptest::collection::vec(any::<bool>(), 12),
        ) {
            let (a, b) = (trim(&a), trim(&b));
            prop_assert_eq!(same_login_key(a, b), login_key(a) == login_key(b), "{:?} {:?}", a, b);
            // The same text with some letters in the other case: nearly always the same key.
            let other: String = a
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, &flip)| match (flip, c.is_lowercase()) {
                    (false, _) => c.to_string(),
                    (true, true) => c.to_uppercase().collect(),
                    (true, false) => c.to_lowercase().collect(),
                })
                .collect();
            let other = trim(&other);
            prop_assert_eq!(same_login_key(a, other), login_key(a) == login_key(other), "{:?} {:?}", a, other);
            prop_assert_eq!(same_login_key(other, a), login_key(a) == login_key(other), "{:?} {:?}", other, a);
        }

        /// Logins with the same key hash alike: a login and its key, and a login and its
        /// capitals whenever those have the same key (Latin-1, Greek with a final sigma, the
        /// Kelvin sign, dotted I, ß included).
        #[test]
        fn equal_login_keys_hash_alike(login in "[a-zA-Z0-9.@_ éÉÿŸßẞΣσςΑαİiK\u{212A}Жж]{0,20}") {
            let trimmed = trim(&login);
            prop_assert_eq!(login_key_hash(trimmed), login_key_hash(&login_key(&login)));
            let capitals = login.to_uppercase();
            if login_key(&capitals) == login_key(&login) {
                prop_assert_eq!(login_key_hash(trim(&capitals)), login_key_hash(trimmed));
            }
        }
    }

    #[test]
    fn a_user_with_a_password_never_prints_it() {
        let mut user = User::new("ada", "Ada", "Lovelace");
        user.password = Some(Password::new("Analytical#1"));
        let debug = format!("{user:?}");
        let json = serde_json::to_string(&user).unwrap();
        assert!(!debug.contains("Analytical"), "{debug}");
        assert!(!json.contains("Analytical"), "{json}");
        assert!(json.contains("[redacted]"));
    }

    #[test]
    fn statuses_parse_their_aliases_and_reject_the_rest() {
        assert_eq!("  PENDING ".parse::<Status>(), Ok(Status::Pending));
        assert_eq!("disabled".parse::<Status>(), Ok(Status::Disabled));
        let err = "gone".parse::<Status>().unwrap_err();
        assert!(err.to_string().contains("'gone' is not a status"));
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
    }

    #[test]
    fn product_default_access_follows_its_rule() {
        let p = Product::new("cmo", "CMO", ["Basic", "Power"]);
        assert_eq!(p.default_access(), ProductAccess::Role(Role::new("Basic")));
        let p = p.with_empty_access(EmptyAccess::NoAccess);
        assert_eq!(p.default_access(), ProductAccess::None);
        let none: [&str; 0] = [];
        assert_eq!(Product::new("x", "X", none).default_access(), ProductAccess::Granted);
    }

    #[test]
    fn user_round_trips_through_json_without_the_password() {
        let mut user = User::new("grace", "Grace", "Hopper");
        user.timezone = Some(chrono_tz::Europe::Paris);
        user.products.insert("hire".into(), ProductAccess::Role(Role::new("Admin")));
        user.custom.insert("start".into(), CustomValue::Date(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()));
        let json = serde_json::to_string(&user).unwrap();
        let back: User = serde_json::from_str(&json).unwrap();
        assert_eq!(back, user);
        assert!(json.contains("\"Europe/Paris\""));
        assert!(json.contains("\"2024-01-15\""));
    }

    #[test]
    fn login_keys_borrow_only_when_nothing_changes() {
        assert!(matches!(login_key_cow("ada.lovelace"), Cow::Borrowed("ada.lovelace")));
        assert!(matches!(login_key_cow("  ada "), Cow::Borrowed("ada")));
        for login in ["ADA", " Ada ", "Zoë", "ZOË", "\u{1C5}x", "", "  "] {
            assert_eq!(login_key_cow(login), login.trim().to_lowercase(), "{login:?}");
        }
        assert_eq!(login_key(" Søren.K "), "søren.k");
    }

    #[test]
    fn phc_hashes_are_recognised() {
        assert!(Password::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").is_phc_hash());
        assert!(!Password::new("hunter2").is_phc_hash());
    }
}
