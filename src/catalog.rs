//! What the host already has: roles, products, groups, allowed statuses, password policy.

use serde::{Deserialize, Serialize};

use crate::model::{eq_ignore_case, Product, Role, Status};

/// What the host application already has, against which cells are checked.
///
/// Roles are matched ignoring case and stored in the catalog's spelling. An empty list of roles
/// (or groups) means the host does not restrict them: any value is accepted as written.
///
/// ```
/// use user_import::{Catalog, Product};
///
/// let catalog = Catalog::new()
///     .roles(["Admin", "Editor", "Viewer"])
///     .product(Product::new("hire", "Trakstar Hire", ["Viewer", "Recruiter", "Admin"]));
/// assert_eq!(catalog.role("editor").map(|r| r.name()), Some("Editor"));
/// assert_eq!(catalog.product_by_name("trakstar hire").map(|p| p.id()), Some("hire"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Catalog {
    /// The host's roles (empty: any role is accepted).
    pub roles: Vec<Role>,
    /// The products users can be given access to.
    pub products: Vec<Product>,
    /// The existing groups (empty: any group is accepted).
    pub groups: Vec<String>,
    /// The statuses an import may give (legacy ones are refused for new users regardless).
    pub statuses: Vec<Status>,
    /// What a password must look like.
    pub password_policy: PasswordPolicy,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            roles: Vec::new(),
            products: Vec::new(),
            groups: Vec::new(),
            statuses: Status::ALL.to_vec(),
            password_policy: PasswordPolicy::default(),
        }
    }
}

impl Catalog {
    /// An empty catalog: any role or group, every status, the default password policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the roles.
    #[must_use]
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.roles = roles.into_iter().map(Role::new).collect();
        self
    }

    /// Adds a product.
    #[must_use]
    pub fn product(mut self, product: Product) -> Self {
        self.products.push(product);
        self
    }

    /// Sets the groups.
    #[must_use]
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the password policy.
    #[must_use]
    pub fn password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.password_policy = policy;
        self
    }

    /// The role with this name, ignoring case.
    pub fn role(&self, name: &str) -> Option<&Role> {
        let name = name.trim();
        self.roles.iter().find(|r| eq_ignore_case(r.name(), name))
    }

    /// The product with this id.
    pub fn product_by_id(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id() == id)
    }

    /// The product with this name or id, ignoring case.
    pub fn product_by_name(&self, name: &str) -> Option<&Product> {
        let name = name.trim();
        self.products.iter().find(|p| eq_ignore_case(p.name(), name) || eq_ignore_case(p.id(), name))
    }

    /// The group with this name, ignoring case.
    pub fn group(&self, name: &str) -> Option<&str> {
        let name = name.trim();
        self.groups.iter().find(|g| eq_ignore_case(g, name)).map(String::as_str)
    }

    /// True if an import may give this status.
    pub fn allows_status(&self, status: Status) -> bool {
        self.statuses.contains(&status)
    }
}

/// What a password must look like. Checked without ever echoing the password.
///
/// ```
/// use user_import::PasswordPolicy;
///
/// let policy = PasswordPolicy::default();
/// assert!(policy.check("Correct-horse-9", Some("ada")).is_empty());
/// assert_eq!(policy.check("short", None), ["it has 5 characters; at least 8 are needed"]);
/// assert!(!policy.check("password123", None).is_empty()); // a well-known password
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// Fewest characters (default 8).
    pub min_length: usize,
    /// Most characters (default 128).
    pub max_length: usize,
    /// Needs a lowercase letter.
    pub require_lowercase: bool,
    /// Needs an uppercase letter.
    pub require_uppercase: bool,
    /// Needs a digit.
    pub require_digit: bool,
    /// Needs a character that is neither a letter nor a digit.
    pub require_symbol: bool,
    /// Refuses passwords that contain the user's login (default on).
    pub forbid_login: bool,
    /// Refuses the best-known passwords (default on).
    pub forbid_common: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 128,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            require_symbol: false,
            forbid_login: true,
            forbid_common: true,
        }
    }
}

/// A few of the most used passwords (lowercase); a policy refuses them whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty123",
    "qwertyuiop",
    "iloveyou",
    "welcome1",
    "welcome123",
    "admin123",
    "letmein1",
    "changeme",
    "11111111",
    "abc12345",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "trustno1",
    "00000000",
    "azerty123",
];

impl PasswordPolicy {
    /// What is wrong with a password, one reason per failed rule (empty when it is fine).
    /// The reasons never contain the password.
    pub fn check(&self, password: &str, login: Option<&str>) -> Vec<String> {
        let mut reasons = Vec::new();
        // Nearly every password is ASCII: found out once, then counted, classed and compared by
        // its bytes.
        let ascii = password.is_ascii();
        let chars = if ascii { password.len() } else { password.chars().count() };
        if chars < self.min_length {
            reasons.push(format!("it has {chars} characters; at least {} are needed", self.min_length));
        }
        if chars > self.max_length {
            reasons.push(format!("it has {chars} characters; at most {} are allowed", self.max_length));
        }
        if self.require_lowercase || self.require_uppercase || self.require_digit || self.require_symbol {
            let has = if ascii { CharKinds::of_ascii(password) } else { CharKinds::of_chars(password) };
            if self.require_lowercase && !has.lowercase {
                reasons.push("it needs a lowercase letter".to_string());
            }
            if self.require_uppercase && !has.uppercase {
                reasons.push("it needs an uppercase letter".to_string());
            }
            if self.require_digit && !has.digit {
                reasons.push("it needs a digit".to_string());
            }
            if self.require_symbol && !has.symbol {
                reasons.push("it needs a symbol (neither a letter nor a digit)".to_string());
            }
        }
        if self.forbid_login {
            if let Some(login) = login.map(crate::model::trim).filter(|l| l.len() >= 3) {
                let contained = if ascii && login.is_ascii() {
                    contains_ascii_ignore_case(password.as_bytes(), login.as_bytes())
                } else {
                    login.chars().count() >= 3 && password.to_lowercase().contains(&login.to_lowercase())
                };
                if contained {
                    reasons.push("it contains the login".to_string());
                }
            }
        }
        if self.forbid_common && is_common_password(password) {
            reasons.push("it is one of the best-known passwords".to_string());
        }
        reasons
    }
}

/// True when `password` is one of [`COMMON_PASSWORDS`] in any case: only those of its length are
/// compared.
fn is_common_password(password: &str) -> bool {
    static BY_LENGTH: std::sync::LazyLock<Vec<Vec<&'static str>>> = std::sync::LazyLock::new(|| {
        let longest = COMMON_PASSWORDS.iter().map(|c| c.len()).max().unwrap_or(0);
        (0..=longest).map(|len| COMMON_PASSWORDS.iter().copied().filter(|c| c.len() == len).collect()).collect()
    });
    BY_LENGTH.get(password.len()).is_some_and(|same| same.iter().any(|c| c.eq_ignore_ascii_case(password)))
}

/// The kinds of characters a password holds, as the policy's rules read them: a lowercase
/// letter, an uppercase letter, an ASCII digit, a symbol (neither a letter nor a digit).
#[derive(Debug, Default, PartialEq, Eq)]
struct CharKinds {
    lowercase: bool,
    uppercase: bool,
    digit: bool,
    symbol: bool,
}

impl CharKinds {
    const LOWER: u8 = 1;
    const UPPER: u8 = 2;
    const DIGIT: u8 = 4;
    const SYMBOL: u8 = 8;
    /// The kind of each ASCII byte.
    const ASCII: [u8; 128] = {
        let mut table = [0u8; 128];
        let mut b = 0;
        while b < 128 {
            let c = b as u8;
            table[b] = if c.is_ascii_lowercase() {
                Self::LOWER
            } else if c.is_ascii_uppercase() {
                Self::UPPER
            } else if c.is_ascii_digit() {
                Self::DIGIT
            } else {
                Self::SYMBOL
            };
            b += 1;
        }
        table
    };

    /// One pass over the bytes of an ASCII password (nearly all of them).
    fn of_ascii(password: &str) -> Self {
        let seen = password.bytes().fold(0u8, |seen, b| seen | Self::ASCII[usize::from(b & 0x7F)]);
        CharKinds {
            lowercase: seen & Self::LOWER != 0,
            uppercase: seen & Self::UPPER != 0,
            digit: seen & Self::DIGIT != 0,
            symbol: seen & Self::SYMBOL != 0,
        }
    }

    /// Any password, one char at a time.
    fn of_chars(password: &str) -> Self {
        password.chars().fold(CharKinds::default(), |has, c| CharKinds {
            lowercase: has.lowercase || c.is_lowercase(),
            uppercase: has.uppercase || c.is_uppercase(),
            digit: has.digit || c.is_ascii_digit(),
            symbol: has.symbol || !c.is_alphanumeric(),
        })
    }
}

/// ASCII `haystack` contains ASCII `needle`, ignoring case.
fn contains_ascii_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    // `windows(0)` would panic: the empty needle is in every haystack.
    needle.is_empty()
        || (needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_common_password_is_refused_in_any_case() {
        let policy = PasswordPolicy { min_length: 1, ..PasswordPolicy::default() };
        for common in COMMON_PASSWORDS {
            for spelling in [common.to_string(), common.to_uppercase()] {
                let reasons = policy.check(&spelling, None);
                assert!(reasons.iter().any(|r| r.contains("best-known")), "{spelling}: {reasons:?}");
            }
        }
        assert!(policy.check("password12", None).is_empty());
        assert!(policy.check("password\0", None).is_empty(), "a NUL byte makes another password");
    }

    proptest! {
        /// The byte table reads ASCII passwords as the char classes do.
        #[test]
        fn char_kinds_of_bytes_and_of_chars_agree(password in "[\\x00-\\x7F]{0,16}") {
            prop_assert_eq!(CharKinds::of_ascii(&password), CharKinds::of_chars(&password));
        }

        /// A password contains the login (trimmed, of three characters or more) as lowercasing
        /// both would say, whether either is ASCII or not.
        #[test]
        fn the_login_is_found_as_lowercasing_finds_it(password in "[aAbB1é]{0,12}", login in "[aAbB1é ]{0,5}") {
            let policy = PasswordPolicy { min_length: 0, forbid_common: false, ..PasswordPolicy::default() };
            let found = policy.check(&password, Some(&login)).iter().any(|r| r == "it contains the login");
            let login = login.trim();
            let expected = login.chars().count() >= 3 && password.to_lowercase().contains(&login.to_lowercase());
            prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn each_rule_gives_its_reason() {
        let policy = PasswordPolicy {
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            require_symbol: true,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            policy.check("ABCDEFGH", None),
            ["it needs a lowercase letter", "it needs a digit", "it needs a symbol (neither a letter nor a digit)"]
        );
        assert_eq!(policy.check("xAda1!xxxx", Some("ada")), ["it contains the login"]);
        assert!(policy.check("Grace-Hopper-1906", Some("ada")).is_empty());
        let long = "a".repeat(200);
        assert_eq!(PasswordPolicy::default().check(&long, None), ["it has 200 characters; at most 128 are allowed"]);
    }

    #[test]
    fn catalog_lookups_ignore_case_and_keep_the_catalog_spelling() {
        let catalog = Catalog::new().roles(["Admin", "Éditeur"]).groups(["Sales"]);
        assert_eq!(catalog.role(" ADMIN ").map(Role::name), Some("Admin"));
        assert_eq!(catalog.role("éDITEUR").map(Role::name), Some("Éditeur"));
        assert_eq!(catalog.group("sales"), Some("Sales"));
        assert!(catalog.role("Owner").is_none());
        assert!(catalog.allows_status(Status::Blocked));
    }

    #[test]
    fn catalogs_load_from_toml() {
        let catalog: Catalog = toml::from_str(
            r#"
            roles = ["Admin", "Viewer"]
            statuses = ["active", "pending"]
            [[products]]
            id = "hire"
            name = "Trakstar Hire"
            roles = ["Viewer", "Admin"]
            empty_means = "no_access"
            [password_policy]
            min_length = 12
            "#,
        )
        .unwrap();
        assert_eq!(catalog.roles.len(), 2);
        assert_eq!(catalog.products[0].default_access(), crate::ProductAccess::None);
        assert_eq!(catalog.password_policy.min_length, 12);
        assert!(!catalog.allows_status(Status::Expired));
        let typo = toml::from_str::<Catalog>("rolez = []");
        assert!(typo.is_err());
    }
}
