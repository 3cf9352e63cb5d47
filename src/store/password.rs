//! Password hashing for stores: argon2id PHC strings, computed on every core.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::thread;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordVerifier, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::model::{Password, User};

/// The argon2 variant and version of every hash [`hash_passwords`] computes (and writes into its
/// PHC string).
const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;

/// The cost of the argon2id hashes [`hash_passwords`] computes.
///
/// The default is the argon2 crate's recommendation (OWASP's first choice): 19 MiB of memory, 2
/// passes, 1 lane — about 20 ms a password on one core of a current machine.
///
/// ```
/// use user_import::Argon2Params;
///
/// let params = Argon2Params::default();
/// assert_eq!((params.memory_kib, params.iterations, params.parallelism), (19_456, 2, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Params {
    /// Memory per hash, in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over the memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`); the lanes of one hash are computed one after the other, the passwords of an
    /// import in parallel.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl Argon2Params {
    fn hasher(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None).map_err(|err| {
            Error::config(format!(
                "argon2 parameters m={} KiB, t={}, p={} are not usable: {err}",
                self.memory_kib, self.iterations, self.parallelism
            ))
        })?;
        Ok(Argon2::new(ALGORITHM, VERSION, params))
    }
}

/// Replaces every plain-text password of these users by its argon2id hash, a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a random salt of its own.
///
/// Passwords that already are PHC strings ([`Password::is_phc_hash`]: a file may carry hashes
/// exported from another system) are kept as they are; users without a password are left alone.
/// The plain texts are wiped from memory as they are replaced. The hashes are computed on every
/// core the machine has.
///
/// ```
/// use user_import::{hash_passwords, verify_password, Argon2Params, Password, User};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let mut ada = User::new("ada", "Ada", "Lovelace");
/// ada.password = Some(Password::new("Analytical#1"));
/// let mut users = vec![ada];
/// // Cheap parameters keep the example fast; use `Argon2Params::default()` for real users.
/// let params = Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 };
/// hash_passwords(&mut users, &params)?;
/// let hash = users[0].password.as_ref().map(|p| p.expose().to_string()).unwrap_or_default();
/// assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
/// assert!(verify_password("Analytical#1", &hash));
/// assert!(!verify_password("analytical#1", &hash));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`ErrorKind::Config`](crate::ErrorKind::Config) when the parameters are out of argon2's range;
/// [`ErrorKind::Store`](crate::ErrorKind::Store) when a password cannot be hashed (longer than
/// argon2 accepts, or no system randomness). On error, no password is left in an unknown state:
/// each is either its hash or its original text.
pub fn hash_passwords(users: &mut [User], params: &Argon2Params) -> Result<()> {
    let hasher = params.hasher()?;
    let mut pending: Vec<(&str, &mut Password)> = users
        .iter_mut()
        .filter_map(|user| user.password.as_mut().map(|password| (user.login.as_str(), password)))
        .filter(|(_, password)| !password.is_phc_hash())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get).min(pending.len());
    if threads <= 1 {
        return HashMemory::new(&hasher).hash_all(&mut pending);
    }
    // Small pieces handed out one at a time: a core that another program slows down takes fewer.
    let piece = (pending.len() / (threads * 8)).max(1);
    let queue = Mutex::new(pending.chunks_mut(piece));
    let (hasher, queue) = (&hasher, &queue);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut memory = HashMemory::new(hasher);
                    loop {
                        let next = match queue.lock() {
                            Ok(mut pieces) => pieces.next(),
                            Err(_) => return Err(Error::store("hashing a password failed unexpectedly")),
                        };
                        match next {
                            Some(part) => memory.hash_all(part)?,
                            None => return Ok(()),
                        }
                    }
                })
            })
            .collect();
        let mut outcome = Ok(());
        for worker in workers {
            let result = worker.join().unwrap_or_else(|_| Err(Error::store("hashing a password failed unexpectedly")));
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    })
}

/// A hasher with the memory its hashes fill (19 MiB by default), allocated once and reused for
/// every password a worker hashes. A fresh allocation per password, as argon2's `hash_password`
/// makes, is not only slower: glibc serves these large, 64-byte-aligned blocks from its arenas
/// once the first is freed, and their fragments stay resident — an import of 40 users peaked at
/// 437 MB. Wiped when dropped: the blocks hold state derived from the passwords.
struct HashMemory<'h> {
    hasher: &'h Argon2<'static>,
    blocks: Zeroizing<Vec<Block>>,
}

impl<'h> HashMemory<'h> {
    fn new(hasher: &'h Argon2<'static>) -> Self {
        HashMemory { hasher, blocks: Zeroizing::new(vec![Block::new(); hasher.params().block_count()]) }
    }

    /// Replaces each plain text by its hash.
    fn hash_all(&mut self, part: &mut [(&str, &mut Password)]) -> Result<()> {
        for (login, password) in part.iter_mut() {
            let hash = self
                .hash(password.expose().as_bytes())
                .map_err(|err| Error::store(format!("the password of user '{login}' cannot be hashed: {err}")))?;
            // The old value (the plain text) is zeroized when it is dropped here.
            **password = Password::new(hash);
        }
        Ok(())
    }

    /// The PHC string of `password` with a fresh random salt, as argon2's `hash_password` writes
    /// it.
    fn hash(&mut self, password: &[u8]) -> std::result::Result<String, argon2::password_hash::Error> {
        let salt = argon2::password_hash::try_generate_salt()?;
        self.hash_with_salt(password, &salt)
    }

    fn hash_with_salt(
        &mut self,
        password: &[u8],
        salt: &[u8],
    ) -> std::result::Result<String, argon2::password_hash::Error> {
        let params = self.hasher.params();
        let salt = Salt::new(salt)?;
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let out = buffer.get_mut(..length).ok_or(argon2::password_hash::Error::OutputSize)?;
        self.hasher.hash_password_into_with_memory(password, &salt, out, &mut self.blocks[..])?;
        let hash = PasswordHash {
            algorithm: ALGORITHM.ident(),
            version: Some(VERSION.into()),
            params: ParamsString::try_from(params)?,
            salt: Some(salt),
            hash: Some(Output::new(out)?),
        };
        Ok(hash.to_string())
    }
}

/// True when `password` is the one `phc` (an argon2 PHC string, as [`hash_passwords`] writes)
/// was computed from. Any other or malformed hash gives `false`.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Params = Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 };

    fn user(login: &str, password: Option<&str>) -> User {
        let mut user = User::new(login, "First", "Last");
        user.password = password.map(Password::new);
        user
    }

    #[test]
    fn plain_passwords_are_hashed_with_salts_of_their_own_and_hashes_are_kept() {
        let existing = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        let mut users: Vec<User> = (0..9).map(|i| user(&format!("u{i}"), Some("Same#Secret1"))).collect();
        users.push(user("none", None));
        users.push(user("prehashed", Some(existing)));
        hash_passwords(&mut users, &CHEAP).unwrap();
        let hashes: Vec<&str> = users[..9].iter().map(|u| u.password.as_ref().unwrap().expose()).collect();
        for hash in &hashes {
            assert!(hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{hash}");
            assert!(verify_password("Same#Secret1", hash));
            assert!(!verify_password("Same#Secret2", hash));
        }
        let mut unique = hashes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 9, "every hash has its own salt");
        assert!(users[9].password.is_none());
        assert_eq!(users[10].password.as_ref().unwrap().expose(), existing);
    }

    #[test]
    fn reused_memory_gives_the_hashes_argon2_itself_gives() {
        use argon2::PasswordHasher;
        for params in [CHEAP, Argon2Params { memory_kib: 512, iterations: 2, parallelism: 2 }] {
            let hasher = params.hasher().unwrap();
            let mut memory = HashMemory::new(&hasher);
            for (i, password) in ["Analytical#1", "Difference#2", "", "Analytical#1"].into_iter().enumerate() {
                let salt = [i as u8 + 7; 16];
                let ours = memory.hash_with_salt(password.as_bytes(), &salt).unwrap();
                let theirs = hasher.hash_password_with_salt(password.as_bytes(), &salt).unwrap().to_string();
                assert_eq!(ours, theirs, "{params:?}, password {i}");
                assert!(verify_password(password, &ours));
            }
        }
    }

    #[test]
    fn the_default_parameters_are_the_recommended_ones() {
        let mut users = vec![user("ada", Some("Analytical#1"))];
        hash_passwords(&mut users, &Argon2Params::default()).unwrap();
        let hash = users[0].password.as_ref().unwrap().expose();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("Analytical#1", hash));
    }

    #[test]
    fn bad_parameters_and_bad_hashes_are_errors_not_panics() {
        let mut users = vec![user("ada", Some("x"))];
        let err =
            hash_passwords(&mut users, &Argon2Params { memory_kib: 1, iterations: 1, parallelism: 1 }).unwrap_err();
        assert!(err.to_string().contains("m=1 KiB"), "{err}");
        assert_eq!(users[0].password.as_ref().unwrap().expose(), "x");
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", "$argon2id$v=19$m=256,t=1,p=1$$"));
        assert!(!verify_password("x", ""));
    }

    #[test]
    fn params_read_from_toml_with_defaults() {
        let params: Argon2Params = toml::from_str("memory_kib = 65536").unwrap();
        assert_eq!(params, Argon2Params { memory_kib: 65536, ..Argon2Params::default() });
    }
}
