//! The resolve-hierarchy stage: whose superior is whom, and in which order users can be created.
//!
//! A superior is named by login: another user of the same file (before or after its subordinates)
//! or an existing user of the host's directory. [`resolve_hierarchy`] resolves every superior,
//! reports self-references, cycles and superiors that exist nowhere, and gives a creation
//! [`order`](Hierarchy::order) in which every superior from the file comes before its
//! subordinates.
//!
//! The stage takes plain data ([`HierarchyInput`]: a row number, a login, a superior), so it can
//! be used without the other stages. It is iterative (a chain of any depth is fine) and runs in
//! time linear in the number of users.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::issue::{Issue, IssueCode};
use crate::model::{login_key_cow, login_key_hash, same_login_key, trim};
use crate::radix::Bits;
use crate::schema::Field;

/// One user of the file, as the hierarchy stage sees it.
///
/// `row` is the row number a person sees (it goes into the issues), `login` the user's login and
/// `superior` the login of their superior as written in the file. An absent, empty or blank
/// superior means the user is a root of the hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HierarchyInput<'a> {
    /// The row number as a person sees it.
    pub row: u64,
    /// The user's login.
    pub login: &'a str,
    /// The superior's login, if any.
    pub superior: Option<&'a str>,
}

impl<'a> HierarchyInput<'a> {
    /// A user on `row` with a login and, optionally, a superior's login.
    pub fn new(row: u64, login: &'a str, superior: Option<&'a str>) -> Self {
        HierarchyInput { row, login, superior }
    }
}

/// How a user's superior resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Superior {
    /// No superior: the cell is absent, empty or blank. The user is a root.
    None,
    /// Another user of the file: `index` into the input, and that user's row number.
    ///
    /// When a login appears more than once, this is its first occurrence. A member of a cycle
    /// resolves too: the cycle is reported, not the superior.
    InFile {
        /// Index of the superior in the input.
        index: usize,
        /// The superior's row number.
        row: u64,
    },
    /// An existing user of the directory (and no user of the file has that login).
    Directory,
    /// The superior cannot be used: it is neither in the file nor in the directory
    /// (`superior_not_found`), or it is the user themselves (`self_reference`).
    Unresolved,
}

/// Where a user ends up once the hierarchy is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Placement {
    /// In [`Hierarchy::order`], after every superior it has in the file.
    Ordered,
    /// Not in the order: the user has an issue of this stage in [`Hierarchy::issues`]
    /// (`self_reference`, `superior_not_found` or `hierarchy_cycle`).
    Flagged,
    /// Not in the order, and no issue of this stage: the chain of superiors leads to the flagged
    /// user at input index `by` (the nearest one up the chain; for a chain that runs into a cycle,
    /// the first member of the cycle it reaches). A later stage reports these as
    /// `superior_not_imported`.
    Blocked {
        /// Index of the flagged user in the input.
        by: usize,
    },
}

/// The resolved hierarchy of a file: see [`resolve_hierarchy`].
///
/// `superiors` and `placements` have one entry per input user, by input index. Every input index
/// is either in `order` (exactly once, [`Placement::Ordered`]), flagged with exactly one issue
/// ([`Placement::Flagged`]), or [`Placement::Blocked`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hierarchy {
    /// How each user's superior resolved.
    pub superiors: Vec<Superior>,
    /// Where each user ended up: in the order, flagged or blocked.
    pub placements: Vec<Placement>,
    /// Indices into the input in a creation order: every superior from the file comes before its
    /// subordinates. Otherwise it follows the input: users are taken in input order, each one
    /// preceded by those of its superiors that are not placed yet (topmost first).
    pub order: Vec<usize>,
    /// The issues of this stage, sorted by row: `self_reference`, `superior_not_found` and
    /// `hierarchy_cycle`, at most one per user, each on the `superior` field.
    pub issues: Vec<Issue>,
}

impl Hierarchy {
    /// The users whose chain of superiors is broken higher up, as `(index, by)` pairs in input
    /// order (see [`Placement::Blocked`]).
    pub fn blocked(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.placements.iter().enumerate().filter_map(|(index, placement)| match placement {
            Placement::Blocked { by } => Some((index, *by)),
            _ => None,
        })
    }
}

/// Resolves the superiors of `users`, finds self-references, missing superiors and cycles, and
/// orders the users so that every superior from the file comes before its subordinates.
///
/// * Logins are compared as [`login_key`](crate::login_key) does: trimmed, ignoring case.
/// * A superior is looked up in the file first (a login of the file that also exists in the
///   directory is the file's row, which the import creates or updates), then with `exists`, which
///   says whether a login belongs to an existing directory user. `exists` is called with the
///   login key (trimmed, lowercased), at most once per distinct login, and only for superiors
///   that no user of the file has.
/// * If a login appears more than once, superiors resolve to its **first** occurrence; the later
///   ones are duplicates, reported by the validate stage. A user whose superior has the user's own
///   login is a `self_reference`, whichever occurrence it is.
/// * Issues, on the row of the user concerned: `self_reference` (`'ada' is named as their own
///   superior`), `superior_not_found` (`superior 'bob' is neither in the file nor an existing
///   user`), and `hierarchy_cycle` on every row of a cycle (`the superiors form a cycle: ada →
///   bob → carol → ada`, starting from the row's own login; a cycle of more than 8 users is
///   abbreviated).
/// * Users whose chain of superiors leads to a flagged user but who are not themselves flagged
///   get no issue here: they are [`Placement::Blocked`] and left out of the order.
///
/// ```
/// use user_import::{resolve_hierarchy, HierarchyInput, IssueCode, Placement, Superior};
///
/// let users = [
///     HierarchyInput::new(2, "bob", Some("Ada")),    // ada comes later in the file
///     HierarchyInput::new(3, "ada", Some("ceo")),    // ceo is an existing user
///     HierarchyInput::new(4, "carol", Some("dave")), // nobody is called dave
///     HierarchyInput::new(5, "erin", Some("carol")), // carol cannot be imported
/// ];
/// let hierarchy = resolve_hierarchy(&users, |login| login == "ceo");
/// assert_eq!(hierarchy.order, [1, 0]); // ada, then bob
/// assert_eq!(hierarchy.superiors[0], Superior::InFile { index: 1, row: 3 });
/// assert_eq!(hierarchy.superiors[1], Superior::Directory);
/// assert_eq!(hierarchy.placements[3], Placement::Blocked { by: 2 });
///
/// let issue = &hierarchy.issues[0];
/// assert_eq!(issue.code, IssueCode::SuperiorNotFound);
/// assert_eq!(issue.to_string(), "row 4: superior 'dave' is neither in the file nor an existing user");
/// ```
pub fn resolve_hierarchy(users: &[HierarchyInput<'_>], mut exists: impl FnMut(&str) -> bool) -> Hierarchy {
    let found = resolve_compact(users, LoginIndex::of(users), crate::config::machine_threads(), |keys| {
        Ok::<_, std::convert::Infallible>(keys.iter().map(|key| exists(key)).collect())
    });
    let resolved = match found {
        Ok(resolved) => resolved,
        Err(never) => match never {},
    };
    let superiors = resolved
        .superiors
        .iter()
        .map(|&s| match s {
            Resolved::NO_SUPERIOR => Superior::None,
            Resolved::DIRECTORY => Superior::Directory,
            Resolved::UNRESOLVED => Superior::Unresolved,
            index => Superior::InFile { index: index as usize, row: users.get(index as usize).map_or(0, |u| u.row) },
        })
        .collect();
    let placements = resolved
        .placements
        .iter()
        .map(|&p| match p {
            Resolved::ORDERED => Placement::Ordered,
            Resolved::FLAGGED => Placement::Flagged,
            by => Placement::Blocked { by: by as usize },
        })
        .collect();
    let order = resolved.order.iter().map(|&i| i as usize).collect();
    Hierarchy { superiors, placements, order, issues: resolved.issues }
}

/// The users whose hierarchy is resolved, read in place: the plan stage reads its records rather
/// than copying a million [`HierarchyInput`]s.
pub(crate) trait Users: Sync {
    /// How many users there are.
    fn count(&self) -> usize;
    /// The row number of user `i`.
    fn row(&self, i: usize) -> u64;
    /// The login of user `i` (`""` when out of range).
    fn login(&self, i: usize) -> &str;
    /// The bytes of [`Users::login`], where they can be found without reading them (the
    /// lookups find many candidates before they compare any).
    fn login_bytes(&self, i: usize) -> &[u8] {
        self.login(i).as_bytes()
    }
    /// The superior of user `i`, as written.
    fn superior(&self, i: usize) -> Option<&str>;
    /// Asks for user `i` to be brought into the cache, where it is read through
    /// [`Users::login_bytes`] soon after (see [`fetch_ahead`]); nothing by default.
    fn fetch_ahead(&self, _i: usize) {}
}

impl Users for [HierarchyInput<'_>] {
    fn count(&self) -> usize {
        self.len()
    }

    fn row(&self, i: usize) -> u64 {
        self.get(i).map_or(0, |u| u.row)
    }

    fn login(&self, i: usize) -> &str {
        self.get(i).map_or("", |u| u.login)
    }

    fn superior(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|u| u.superior)
    }
}

/// A resolved hierarchy in 32-bit numbers (a tenth of the memory of [`Hierarchy`] for a million
/// users): see [`resolve_compact`].
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// Each user's superior: the index of a user, or [`Resolved::NO_SUPERIOR`],
    /// [`Resolved::DIRECTORY`] or [`Resolved::UNRESOLVED`].
    pub(crate) superiors: Vec<u32>,
    /// Each user's placement: [`Resolved::ORDERED`], [`Resolved::FLAGGED`], or the index of the
    /// flagged user that blocks it.
    pub(crate) placements: Vec<u32>,
    /// User indices in a creation order (as [`Hierarchy::order`]).
    pub(crate) order: Vec<u32>,
    /// The issues of the stage, sorted by row.
    pub(crate) issues: Vec<Issue>,
}

impl Resolved {
    pub(crate) const NO_SUPERIOR: u32 = u32::MAX;
    pub(crate) const DIRECTORY: u32 = u32::MAX - 1;
    pub(crate) const UNRESOLVED: u32 = u32::MAX - 2;
    pub(crate) const ORDERED: u32 = u32::MAX;
    pub(crate) const FLAGGED: u32 = u32::MAX - 1;
    /// Users beyond this many are left out (the parse stage's row limit is far below).
    const MOST_USERS: usize = (u32::MAX - 3) as usize;
}

/// [`resolve_hierarchy`] with the directory asked once, for every distinct login that no user of
/// the file has: `exists` gets those login keys (trimmed, lowercased) and answers, key by key,
/// whether an existing user has it. Its error ends the resolution. `index` is
/// [`LoginIndex::of`] these users (built ahead by a caller with other work to do meanwhile).
/// With `threads` above 1, superiors are looked up on two threads.
pub(crate) fn resolve_compact<U: Users + ?Sized, E>(
    users: &U,
    index: LoginIndex<'_, U>,
    threads: usize,
    exists: impl FnOnce(&[&str]) -> Result<Vec<bool>, E>,
) -> Result<Resolved, E> {
    let (superiors, mut issues) = resolve_superiors(users, &index, threads, exists)?;
    drop(index);
    let (order, placements) = order_users(users, &superiors, &mut issues);
    issues.sort_by_key(|issue| issue.row);
    Ok(Resolved { superiors, placements, order, issues })
}

/// A user index in 32 bits.
fn index32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(Resolved::UNRESOLVED)
}

/// Resolves each user's superior; reports self-references and superiors found nowhere.
///
/// Logins are found through a [`LoginIndex`] (hashes of the folded keys, confirmed on the
/// strings); only the superiors found nowhere in the file have their key built, once each.
fn resolve_superiors<'u, U: Users + ?Sized, E>(
    users: &'u U,
    index: &LoginIndex<'_, U>,
    threads: usize,
    exists: impl FnOnce(&[&str]) -> Result<Vec<bool>, E>,
) -> Result<(Vec<u32>, Vec<Issue>), E> {
    // Each user's superior found in the file (or none, or itself, or not in the file), made each
    // user's superior in place: only the users naming themselves or someone not in the file are
    // read again.
    let mut superiors = index.find_superiors(threads);
    let mut issues = Vec::new();
    // Superiors outside the file: each distinct key once, and who names it.
    let mut outside: HashMap<Cow<'u, str>, usize> = HashMap::new();
    let mut outside_keys: Vec<Cow<'u, str>> = Vec::new();
    let mut waiting: Vec<(usize, usize)> = Vec::new();
    for (position, slot) in superiors.iter_mut().enumerate() {
        if *slot != NAMES_ITSELF && *slot != NAMES_OUTSIDE {
            continue; // a user of the file, or no superior
        }
        let written = users.superior(position).unwrap_or_default();
        if *slot == NAMES_ITSELF {
            let message = format!("'{}' is named as their own superior", index.key(position));
            issues.push(superior_issue(IssueCode::SelfReference, message, users.row(position), written));
        } else {
            let key = login_key_cow(trim(written));
            let slot = match outside.get(&key) {
                Some(&slot) => slot,
                None => {
                    outside.insert(key.clone(), outside_keys.len());
                    outside_keys.push(key);
                    outside_keys.len() - 1
                }
            };
            waiting.push((position, slot));
        }
        *slot = Resolved::UNRESOLVED; // a self-reference; outside, until the directory answers
    }
    if !waiting.is_empty() {
        let keys: Vec<&str> = outside_keys.iter().map(AsRef::as_ref).collect();
        let known = exists(&keys)?;
        for (position, slot) in waiting {
            if known.get(slot).copied().unwrap_or(false) {
                if let Some(superior) = superiors.get_mut(position) {
                    *superior = Resolved::DIRECTORY;
                }
            } else {
                let written = users.superior(position).unwrap_or_default();
                let message = format!("superior '{}' is neither in the file nor an existing user", trim(written));
                issues.push(superior_issue(IssueCode::SuperiorNotFound, message, users.row(position), written));
            }
        }
    }
    Ok((superiors, issues))
}

/// The first user of each login, in an open-addressing table of 4-byte slots: the user's index
/// in the low bits, as many of its hash's high bits as are left above them (a tag). A sixth of
/// the memory of a map of strings, 16 slots a cache line, and the strings read only to confirm a
/// matching tag.
///
/// A candidate is confirmed on the user's own login, read where the users keep it (no copy of
/// the logins: the index of a million users takes 6 MB, 1.5 slots a user with a 12-bit tag each,
/// and a bit a user marking the logins an earlier user has). With more users the tags are shorter
/// (none from 2^31 users on), and more candidates are confirmed on their strings: the answers stay
/// the same.
pub(crate) struct LoginIndex<'u, U: ?Sized> {
    /// [`EMPTY`], or a tag and the user's index + 1.
    slots: Vec<u32>,
    /// The bits of a slot that hold its tag (those above the user's index + 1).
    tag_mask: u32,
    users: &'u U,
    /// How many users are indexed (the first ones).
    count: usize,
    /// A bit a user, set for a user whose login an earlier user already has: only such a user
    /// can name itself without being the user its superior is found to be.
    repeated: Bits,
}

/// Not found: in a [`LoginIndex`] answer, a login that no user has.
pub(crate) const NOT_FOUND: u32 = u32::MAX;
/// In [`LoginIndex::find_superiors`]' answer: the user names itself.
const NAMES_ITSELF: u32 = u32::MAX - 1;
/// In [`LoginIndex::find_superiors`]' answer: the user names a login that no user of the file has.
const NAMES_OUTSIDE: u32 = u32::MAX - 2;
/// In a [`LoginIndex`]: a slot that holds no user.
const EMPTY: u32 = 0;
/// How many inserts [`LoginIndex::filled`] asks for the first slots of ahead.
const BATCH: usize = 32;
/// How many users [`LoginIndex::find_superiors_of`] asks for a lookup's memory before it reads it.
const AHEAD: usize = 4;
/// The lookups [`LoginIndex::find_superiors_of`] holds: its four steps, [`AHEAD`] users apart.
const RING: usize = 4 * AHEAD;
/// How many users a thread of [`LoginIndex::filled_beside`] takes at a time (512 batches).
const FILL_RUN: usize = 16_384;
/// How many slots a lookup probes from its first one before it probes on at the end (see
/// [`LoginIndex::settle`]).
const NEAR: usize = 8;

impl<'u, U: Users + ?Sized> LoginIndex<'u, U> {
    /// The index of these users' logins (of the first [`Resolved::MOST_USERS`]).
    pub(crate) fn of(users: &'u U) -> Self {
        LoginIndex::empty(users).filled()
    }

    /// Room for the index of these users' logins, none in it yet: [`LoginIndex::filled`] puts
    /// them in. Apart, so that a caller filling it on another thread allocates it on its own: a
    /// thread's allocator keeps what is freed for that thread's use, and this memory is then
    /// reused by the stages after the index instead of adding to them.
    pub(crate) fn empty(users: &'u U) -> Self {
        let count = users.count().min(Resolved::MOST_USERS);
        LoginIndex::with_tags(users, count, tag_mask(count))
    }

    /// Room for the first `count` users (at most [`Resolved::MOST_USERS`]: their index + 1 fits a
    /// slot), with the tags in these bits of a slot (above every index + 1).
    fn with_tags(users: &'u U, count: usize, tag_mask: u32) -> Self {
        // Two slots in three used: probes stay short, and the slots take 6 bytes a user.
        let capacity = count.saturating_add(count / 2).clamp(8, u32::MAX as usize);
        LoginIndex { slots: vec![EMPTY; capacity], tag_mask, users, count, repeated: Bits::new(count) }
    }

    /// This index with its users in it.
    pub(crate) fn filled(mut self) -> Self {
        let users = self.users;
        for_each_login_batch(users, 0..self.count, |first, hashes, keys| {
            fetch_first_slots(&self.slots, hashes);
            for ((position, &hash), key) in (first..).zip(hashes).zip(keys) {
                self.insert(hash, index32(position), key);
            }
        });
        self
    }

    /// This index filled by a second thread while this one runs `work`, then by both, a run of
    /// users at a time; and what `work` gave. Meanwhile the slots are atomic. Where users share
    /// a login, the first stays in the table whichever thread comes to it first, and the others
    /// are marked repeated: every lookup answers as in the index [`LoginIndex::filled`] makes
    /// (only where in a run of probes a login lies may differ).
    pub(crate) fn filled_beside<T>(mut self, work: impl FnOnce() -> T) -> (T, Self) {
        // In place: an `AtomicU32` is a `u32` in memory.
        let slots: Vec<AtomicU32> = std::mem::take(&mut self.slots).into_iter().map(AtomicU32::new).collect();
        let next = AtomicUsize::new(0);
        // Takes runs of users until none is left; the users found repeated.
        let fill = |index: &Self| {
            let mut repeated = Vec::new();
            loop {
                let start = next.fetch_add(FILL_RUN, Ordering::Relaxed);
                if start >= index.count {
                    return repeated;
                }
                index.insert_shared(&slots, start..(start + FILL_RUN).min(index.count), &mut repeated);
            }
        };
        let (done, mine, theirs) = std::thread::scope(|scope| {
            let index = &self;
            let helper = scope.spawn(move || fill(index));
            let done = work();
            let mine = fill(index);
            (done, mine, helper.join())
        });
        // Inserting cannot panic; were it to, this thread builds the index on its own.
        let Ok(theirs) = theirs else { return (done, LoginIndex::empty(self.users).filled()) };
        self.slots = slots.into_iter().map(AtomicU32::into_inner).collect();
        mine.into_iter().chain(theirs).for_each(|user| _ = self.repeated.insert(user as usize));
        (done, self)
    }

    /// Inserts the users of `range` into `slots` (this index's, atomic) while another thread
    /// inserts others, as [`LoginIndex::filled`] does; adds to `repeated` the users found to
    /// share a login with an earlier one.
    fn insert_shared(&self, slots: &[AtomicU32], range: std::ops::Range<usize>, repeated: &mut Vec<u32>) {
        for_each_login_batch(self.users, range, |first, hashes, keys| {
            fetch_first_slots(slots, hashes);
            for ((position, &hash), key) in (first..).zip(hashes).zip(keys) {
                repeated.extend(self.insert_into(slots, hash, index32(position), key));
            }
        });
    }

    /// Puts `position`, whose trimmed login is `key`, in `slots` under `hash` while another
    /// thread puts others, unless an earlier user with the same login is there. Returns the user
    /// found to repeat an earlier one's login: `position`, or, when the other thread put a later
    /// user of that login there first, that user, whose slot `position` takes.
    fn insert_into(&self, slots: &[AtomicU32], hash: u64, position: u32, key: &str) -> Option<u32> {
        let tag = self.tag(hash);
        let new = tag | (position + 1);
        let mut at = home(hash, slots.len());
        loop {
            let slot = slots.get(at)?;
            let current = slot.load(Ordering::Relaxed);
            let claimed = if current == EMPTY {
                slot.compare_exchange(EMPTY, new, Ordering::Relaxed, Ordering::Relaxed).map(|_| None)
            } else {
                if !self.holds(current, tag, key) {
                    at = next(at, slots.len());
                    continue;
                }
                let user = self.user(current);
                if user < position {
                    return Some(position);
                }
                // Only the other thread puts a later user there first.
                slot.compare_exchange(current, new, Ordering::Relaxed, Ordering::Relaxed).map(|_| Some(user))
            };
            match claimed {
                Ok(repeated) => return repeated,
                // The slot changed meanwhile: look at it again.
                Err(_) => continue,
            }
        }
    }

    /// Slot `at` ([`EMPTY`] past the table).
    fn slot(&self, at: usize) -> u32 {
        self.slots.get(at).copied().unwrap_or(EMPTY)
    }

    /// User `i`'s trimmed login (`""` past the users indexed).
    fn key(&self, i: usize) -> &'u str {
        if i < self.count {
            trim(self.users.login(i))
        } else {
            ""
        }
    }

    /// User `i`'s login as [`Users::login_bytes`] finds it: untrimmed, not read yet (empty past
    /// the users indexed).
    fn key_bytes(&self, i: usize) -> &'u [u8] {
        if i < self.count {
            self.users.login_bytes(i)
        } else {
            &[]
        }
    }

    /// The first slot to probe for a login's hash: its low 32 bits scaled to the slots (the tag
    /// is taken from the high ones).
    fn home(&self, hash: u64) -> usize {
        home(hash, self.slots.len())
    }

    /// The slot probed after `at`.
    fn next(&self, at: usize) -> usize {
        next(at, self.slots.len())
    }

    /// The tag of a login's hash, as its slot holds it.
    fn tag(&self, hash: u64) -> u32 {
        (hash >> 32) as u32 & self.tag_mask
    }

    /// Whether a slot that is not [`EMPTY`] holds a user whose login is `login` (ignoring case),
    /// `tag` being the tag of its hash: the tags first, then the strings.
    #[inline]
    fn holds(&self, slot: u32, tag: u32, login: &str) -> bool {
        slot & self.tag_mask == tag && is_login(self.key(self.user(slot) as usize), login)
    }

    /// The user a slot that is not [`EMPTY`] holds.
    fn user(&self, slot: u32) -> u32 {
        (slot & !self.tag_mask).wrapping_sub(1)
    }

    /// Probes from the home slot of `hash` (the hash of `login`) to the slot of the first user
    /// whose login is `login` (ignoring case), or to the first empty slot: the slot, and that
    /// user if there is one.
    fn probe(&self, hash: u64, login: &str) -> (usize, Option<u32>) {
        let tag = self.tag(hash);
        let mut at = self.home(hash);
        loop {
            let slot = self.slot(at);
            if slot == EMPTY {
                return (at, None);
            }
            if self.holds(slot, tag, login) {
                return (at, Some(self.user(slot)));
            }
            at = self.next(at);
        }
    }

    /// Puts `position`, whose trimmed login is `key`, in the table under `hash`, unless a user
    /// with the same login is there (a later duplicate: the first occurrence stays).
    fn insert(&mut self, hash: u64, position: u32, key: &str) {
        match self.probe(hash, key) {
            (at, None) => {
                let slot = self.tag(hash) | (position + 1);
                if let Some(free) = self.slots.get_mut(at) {
                    *free = slot;
                }
            }
            (_, Some(_)) => {
                self.repeated.insert(position as usize);
            }
        }
    }

    /// The index of the first user whose login is `trimmed` (ignoring case): what the tests hold
    /// the pipelined lookups to.
    #[cfg(test)]
    fn find(&self, trimmed: &str) -> Option<u32> {
        self.probe(login_key_hash(trimmed), trimmed).1
    }

    /// The superior of each user indexed among the users: the index of the first user with
    /// that login, [`Resolved::NO_SUPERIOR`] when the cell is empty or absent, [`NAMES_ITSELF`]
    /// when it is the user's own login, [`NAMES_OUTSIDE`] when no user has it. Looked up as a
    /// pipeline (see [`LoginIndex::find_superiors_of`]); with `threads` above 1 and enough
    /// users, the two halves on two threads.
    fn find_superiors(&self, threads: usize) -> Vec<u32> {
        // Allocated by this thread even when another fills half of it: see `LoginIndex::empty`.
        let mut superiors = vec![Resolved::NO_SUPERIOR; self.count];
        if threads < 2 || self.count < 65_536 {
            self.find_superiors_of(0, &mut superiors);
            return superiors;
        }
        let half = self.count / 2;
        let (first, second) = superiors.split_at_mut(half);
        let other_failed = std::thread::scope(|scope| {
            let other = scope.spawn(|| self.find_superiors_of(half, second));
            self.find_superiors_of(0, first);
            other.join().is_err()
        });
        if other_failed {
            // Cannot happen (lookups do not panic); were it to, this thread does that half.
            if let Some(second) = superiors.get_mut(half..) {
                self.find_superiors_of(half, second);
            }
        }
        superiors
    }

    /// Fills `out` with the superiors of the users from `from` on (one per slot; see
    /// [`LoginIndex::find_superiors`]).
    ///
    /// A lookup reads three places one after the other, each a likely cache miss in a large
    /// index and a million users' records: the superior's first slot, the candidate user it
    /// names, that user's login. So each superior goes through four steps — hashed, settled on
    /// a slot, its candidate's login found, compared — and each step asks for what the next one
    /// reads ([`fetch_ahead`], which does not wait) [`AHEAD`] users before that step comes to
    /// it: the misses of a lookup overlap with the work on the users between.
    fn find_superiors_of(&self, from: usize, out: &mut [u32]) {
        let users = self.users;
        let mut ring = [Lookup::default(); RING];
        let count = out.len();
        for t in 0..count + 3 * AHEAD {
            // The user that step `n` (0 to 3) takes now, if any: `n` steps of AHEAD behind `t`.
            let user_at = |n: usize| t.checked_sub(n * AHEAD).filter(|&k| k < count);
            // Step 1: a user's superior hashed, its first slot asked for.
            if let Some(lookup) = user_at(0).and_then(|k| ring.get_mut(k % RING)) {
                let query = users.superior(from + t).map_or("", trim);
                *lookup = Lookup { query, ..Lookup::default() };
                if !query.is_empty() {
                    lookup.hash = login_key_hash(query);
                    if let Some(slot) = self.slots.get(self.home(lookup.hash)) {
                        fetch_ahead(slot);
                    }
                }
            }
            // Step 2: settled on the slot that holds its tag, or an empty one; the candidate
            // user asked for.
            if let Some(lookup) = user_at(1).and_then(|k| ring.get_mut(k % RING)) {
                if !lookup.query.is_empty() {
                    lookup.settled = self.settle(lookup.hash);
                    if let Some(slot) = lookup.settled.filter(|&slot| slot != EMPTY) {
                        users.fetch_ahead(self.user(slot) as usize);
                    }
                }
            }
            // Step 3: where the candidate's login lies (its record read); its login asked for.
            if let Some(lookup) = user_at(2).and_then(|k| ring.get_mut(k % RING)) {
                if let Some(slot) = lookup.settled.filter(|&slot| slot != EMPTY) {
                    lookup.candidate = self.key_bytes(self.user(slot) as usize);
                    if let Some(first) = lookup.candidate.first() {
                        fetch_ahead(first);
                    }
                }
            }
            // Step 4: compared; the user's superior.
            let Some(k) = user_at(3) else { continue };
            let (Some(lookup), Some(out)) = (ring.get(k % RING), out.get_mut(k)) else { continue };
            let i = from + k;
            let query = lookup.query;
            let found = match lookup.settled {
                _ if query.is_empty() => NOT_FOUND,
                Some(EMPTY) => NOT_FOUND,
                Some(slot) if is_login_bytes(lookup.candidate, query) => self.user(slot),
                // No slot near, or a tag shared by another login: probe on (the hash at hand).
                _ => self.probe(lookup.hash, query).1.unwrap_or(NOT_FOUND),
            };
            // A user names itself when the superior found is that user, or when an earlier
            // user has its login (and is the one found): only then is its own login compared.
            *out = if query.is_empty() {
                Resolved::NO_SUPERIOR
            } else if found == NOT_FOUND {
                NAMES_OUTSIDE
            } else if found as usize == i || (self.repeated.contains(i) && is_login(self.key(i), query)) {
                NAMES_ITSELF
            } else {
                found
            };
        }
    }

    /// The slot that settles a lookup of `hash` in the slots near its first one (the same cache
    /// line or the next): an empty one (not found), or one with its tag (a candidate); `None`
    /// when none near does (the lookup probes on).
    fn settle(&self, hash: u64) -> Option<u32> {
        let tag = self.tag(hash);
        let mut at = self.home(hash);
        for _ in 0..NEAR {
            let slot = self.slot(at);
            if slot == EMPTY || slot & self.tag_mask == tag {
                return Some(slot);
            }
            at = self.next(at);
        }
        None
    }
}

/// A superior being looked up by [`LoginIndex::find_superiors_of`]: the superior as written
/// (trimmed), its hash, the slot that settles it, its candidate's login.
#[derive(Clone, Copy, Default)]
struct Lookup<'u> {
    query: &'u str,
    hash: u64,
    settled: Option<u32>,
    candidate: &'u [u8],
}

/// Asks the processor to bring `value` into the cache without waiting for it (a prefetch: it
/// never faults and changes nothing); nothing on a processor without one.
#[inline(always)]
pub(crate) fn fetch_ahead<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    safe_arch::prefetch_t0(value);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Asks for the first slot of each hash in `slots` (plain or atomic), so that a batch's slots
/// come into the cache side by side before any is written, instead of each waiting for the one
/// before.
fn fetch_first_slots<T>(slots: &[T], hashes: &[u64]) {
    for &hash in hashes {
        if let Some(slot) = slots.get(home(hash, slots.len())) {
            fetch_ahead(slot);
        }
    }
}

/// The first slot to probe for a login's hash in a table of `slots` slots: its low 32 bits scaled
/// to the slots (the tag is taken from the high ones).
fn home(hash: u64, slots: usize) -> usize {
    (((hash & u64::from(u32::MAX)) * slots as u64) >> 32) as usize
}

/// The slot probed after `at` in a table of `slots` slots.
fn next(at: usize, slots: usize) -> usize {
    if at + 1 < slots {
        at + 1
    } else {
        0
    }
}

/// Hands `each` the users of `range` a batch of [`BATCH`] at a time (to be inserted: every first
/// slot of a batch is asked for before any is written, see [`fetch_first_slots`]):
/// the first user's index, the hashes of their trimmed logins and those logins (each found once,
/// for its hash and its insertion).
fn for_each_login_batch<'u, U: Users + ?Sized>(
    users: &'u U,
    range: std::ops::Range<usize>,
    mut each: impl FnMut(usize, &[u64], &[&'u str]),
) {
    let mut hashes = [0u64; BATCH];
    let mut keys: [&'u str; BATCH] = [""; BATCH];
    let mut start = range.start;
    while start < range.end {
        let end = (start + BATCH).min(range.end);
        for ((position, hash), key) in (start..end).zip(&mut hashes).zip(&mut keys) {
            *key = trim(users.login(position));
            *hash = login_key_hash(key);
        }
        let n = end - start;
        each(start, hashes.get(..n).unwrap_or_default(), keys.get(..n).unwrap_or_default());
        start = end;
    }
}

/// [`is_login`] of a candidate's untrimmed bytes and a trimmed login that is not empty: nearly
/// always the very same bytes.
fn is_login_bytes(candidate: &[u8], login: &str) -> bool {
    candidate == login.as_bytes()
        || std::str::from_utf8(candidate).is_ok_and(|c| {
            let c = trim(c);
            !c.is_empty() && is_login(c, login)
        })
}

/// Whether a candidate found by its hash has this login (ignoring case): nearly always it is
/// the very same text, which one comparison of the bytes settles.
fn is_login(candidate: &str, login: &str) -> bool {
    candidate == login || same_login_key(candidate, login)
}

/// An error of this stage on `row`, on the superior field, with the superior as written.
fn superior_issue(code: IssueCode, message: String, row: u64, superior: &str) -> Issue {
    Issue::error(code, message).at_row(row).for_field(Field::Superior.key()).with_value(superior)
}

/// The bits of a [`LoginIndex`] slot left for the tag above the index + 1 of any of `count` users.
fn tag_mask(count: usize) -> u32 {
    let index_bits = u32::BITS - u32::try_from(count).unwrap_or(u32::MAX).leading_zeros();
    u32::MAX.checked_shl(index_bits).unwrap_or(0)
}

/// In [`order_users`]: a user not reached yet.
const UNVISITED: u32 = u32::MAX - 2;
/// In [`order_users`]: a user on the walk in progress (where, the walk's path says).
const ON_PATH: u32 = u32::MAX - 3;
// A user index (below `MOST_USERS`) is never taken for a mark.
const _: () = assert!(Resolved::MOST_USERS <= ON_PATH as usize);

/// Orders the users, flags the members of cycles and settles every placement.
///
/// For each user not yet settled, in input order, walks up the chain of superiors until it meets
/// a root, a settled user, a user whose superior is unresolved, or a user of the walk itself (a
/// cycle); then settles the whole walk at once. Each user is walked once: linear time, and the
/// walk lives in a vector, not on the stack.
fn order_users<U: Users + ?Sized>(users: &U, superiors: &[u32], issues: &mut Vec<Issue>) -> (Vec<u32>, Vec<u32>) {
    // Each user's state: `UNVISITED`, `ON_PATH`, or settled (its placement). A user index is
    // below both (`Resolved::MOST_USERS`).
    let mut marks = vec![UNVISITED; superiors.len()];
    let mut order = Vec::with_capacity(superiors.len());
    let mut path: Vec<u32> = Vec::new();
    for start in 0..superiors.len() {
        if marks.get(start) != Some(&UNVISITED) {
            continue;
        }
        path.clear();
        let mut current = index32(start);
        // `path[..flagged_from]` gets `rest`; `path[flagged_from..]` are flagged.
        let (flagged_from, rest) = loop {
            match marks.get(current as usize).copied() {
                Some(UNVISITED) => {}
                Some(ON_PATH) => {
                    // A cycle (rare): where it starts, the walk's path says.
                    let position = path.iter().rposition(|&on| on == current).unwrap_or(0);
                    report_cycle(users, path.get(position..).unwrap_or_default(), issues);
                    let by = path.get(position).copied().unwrap_or(current);
                    break (position, by);
                }
                Some(Resolved::FLAGGED) => break (path.len(), current),
                Some(settled) => break (path.len(), settled),
                None => break (path.len(), Resolved::ORDERED),
            }
            if let Some(mark) = marks.get_mut(current as usize) {
                *mark = ON_PATH;
            }
            path.push(current);
            match superiors.get(current as usize) {
                Some(&Resolved::UNRESOLVED) => break (path.len() - 1, current),
                Some(&index) if index < Resolved::UNRESOLVED => current = index,
                _ => break (path.len(), Resolved::ORDERED),
            }
        };
        for (position, &index) in path.iter().enumerate() {
            let placement = if position < flagged_from { rest } else { Resolved::FLAGGED };
            if let Some(mark) = marks.get_mut(index as usize) {
                *mark = placement;
            }
        }
        if rest == Resolved::ORDERED {
            // The walk went from subordinate to superior: create in the reverse order.
            order.extend(path.iter().rev());
        }
    }
    // Every walk settles all it visits, so every mark is a placement by now.
    (order, marks)
}

/// Cycles longer than this are abbreviated in messages (a message per member, each listing the
/// whole cycle, would take time quadratic in the length of the cycle).
const CYCLE_LISTED: usize = 8;

/// Flags every member of a cycle; `cycle` lists it from a subordinate to its superior.
fn report_cycle<U: Users + ?Sized>(users: &U, cycle: &[u32], issues: &mut Vec<Issue>) {
    let len = cycle.len();
    let abbreviated = len > CYCLE_LISTED;
    let listed = if abbreviated { CYCLE_LISTED / 2 } else { len };
    let login = |offset: usize| {
        let index = cycle.get(offset % len.max(1)).copied();
        index.map_or("", |index| trim(users.login(index as usize)))
    };
    for (start, &index) in cycle.iter().enumerate() {
        let index = index as usize;
        let mut message = String::from("the superiors form a cycle");
        if abbreviated {
            let _ = write!(message, " of {len} users");
        }
        message.push(':');
        for step in 0..listed {
            let _ = write!(message, " {} →", login(start + step));
        }
        if abbreviated {
            let _ = write!(message, " … → {} →", login(start + len - 1));
        }
        let _ = write!(message, " {}", login(start));
        issues.push(superior_issue(
            IssueCode::HierarchyCycle,
            message,
            users.row(index),
            users.superior(index).unwrap_or_default(),
        ));
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn input<'a>(rows: &[(&'a str, &'a str)]) -> Vec<HierarchyInput<'a>> {
        rows.iter().zip(2..).map(|(&(login, superior), row)| HierarchyInput::new(row, login, Some(superior))).collect()
    }

    fn nobody(_: &str) -> bool {
        false
    }

    #[test]
    fn a_candidates_bytes_are_compared_as_its_trimmed_key() {
        assert!(is_login_bytes(b"ada", "ada"));
        assert!(is_login_bytes(b"Ada", "aDA"), "case is ignored");
        assert!(is_login_bytes(" Ada\t".as_bytes(), "ada"), "the candidate is trimmed");
        assert!(is_login_bytes("Émile".as_bytes(), "émile"));
        assert!(!is_login_bytes(b"ada2", "ada"));
        assert!(!is_login_bytes(b"", "ada"));
        assert!(!is_login_bytes(b"  ", "ada"));
        assert!(!is_login_bytes(b"ad\xffa", "ada"), "bytes that are not text match nothing");
    }

    /// `(row, code, message)` of every issue.
    fn issues(hierarchy: &Hierarchy) -> Vec<(u64, &str, &str)> {
        hierarchy.issues.iter().map(|i| (i.row.unwrap(), i.code.as_str(), i.message.as_str())).collect()
    }

    /// The position of every index in the order.
    fn assert_superiors_first(hierarchy: &Hierarchy) {
        let mut position = vec![usize::MAX; hierarchy.superiors.len()];
        for (at, &index) in hierarchy.order.iter().enumerate() {
            assert_eq!(position[index], usize::MAX, "{index} twice in the order");
            position[index] = at;
        }
        for &index in &hierarchy.order {
            if let Superior::InFile { index: superior, .. } = hierarchy.superiors[index] {
                assert!(position[superior] < position[index], "{superior} must come before {index}");
            }
        }
    }

    #[test]
    fn forward_references_are_ordered_superiors_first() {
        let users = input(&[("carol", "bob"), ("bob", "ada"), ("ada", ""), ("dan", "ada")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(hierarchy.order, [2, 1, 0, 3]);
        assert_eq!(
            hierarchy.superiors,
            [
                Superior::InFile { index: 1, row: 3 },
                Superior::InFile { index: 2, row: 4 },
                Superior::None,
                Superior::InFile { index: 2, row: 4 }
            ]
        );
        assert!(hierarchy.issues.is_empty());
        assert!(hierarchy.placements.iter().all(|p| *p == Placement::Ordered));
        assert_superiors_first(&hierarchy);
    }

    #[test]
    fn a_superior_in_the_directory_only_resolves_to_it() {
        let users = input(&[("bob", "  CEO "), ("ada", "ceo")]);
        let mut calls = Vec::new();
        let hierarchy = resolve_hierarchy(&users, |login| {
            calls.push(login.to_string());
            login == "ceo"
        });
        assert_eq!(calls, ["ceo"], "called once, with the key");
        assert_eq!(hierarchy.superiors, [Superior::Directory, Superior::Directory]);
        assert_eq!(hierarchy.order, [0, 1]);
        assert!(hierarchy.issues.is_empty());
    }

    #[test]
    fn the_file_wins_over_the_directory() {
        let users = input(&[("bob", "ada"), ("ada", "")]);
        let hierarchy = resolve_hierarchy(&users, |_| panic!("not asked: ada is in the file"));
        assert_eq!(hierarchy.superiors[0], Superior::InFile { index: 1, row: 3 });
    }

    #[test]
    fn a_self_reference_is_flagged_and_its_subordinates_blocked() {
        let users = input(&[("ada", " Ada"), ("bob", "ada")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(issues(&hierarchy), [(2, "self_reference", "'ada' is named as their own superior")]);
        let issue = &hierarchy.issues[0];
        assert_eq!((issue.field.as_deref(), issue.value.as_deref()), (Some("superior"), Some(" Ada")));
        assert_eq!(hierarchy.superiors[0], Superior::Unresolved);
        assert_eq!(hierarchy.placements, [Placement::Flagged, Placement::Blocked { by: 0 }]);
        assert!(hierarchy.order.is_empty());
    }

    #[test]
    fn a_cycle_is_flagged_on_every_row_and_its_tail_is_blocked() {
        // dan → eve → ada, and ada → bob → carol → ada; fay is fine.
        let users =
            input(&[("dan", "eve"), ("ada", "bob"), ("eve", "ada"), ("bob", "carol"), ("carol", "ada"), ("fay", "")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(
            issues(&hierarchy),
            [
                (3, "hierarchy_cycle", "the superiors form a cycle: ada → bob → carol → ada"),
                (5, "hierarchy_cycle", "the superiors form a cycle: bob → carol → ada → bob"),
                (6, "hierarchy_cycle", "the superiors form a cycle: carol → ada → bob → carol"),
            ]
        );
        assert_eq!(hierarchy.issues[0].value.as_deref(), Some("bob"));
        assert_eq!(hierarchy.placements[0], Placement::Blocked { by: 1 });
        assert_eq!(hierarchy.placements[2], Placement::Blocked { by: 1 });
        assert_eq!(hierarchy.blocked().collect::<Vec<_>>(), [(0, 1), (2, 1)]);
        assert_eq!(hierarchy.order, [5]);
    }

    #[test]
    fn two_separate_cycles_are_each_reported() {
        let users = input(&[("a", "b"), ("x", "y"), ("b", "a"), ("y", "z"), ("z", "x")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(
            issues(&hierarchy),
            [
                (2, "hierarchy_cycle", "the superiors form a cycle: a → b → a"),
                (3, "hierarchy_cycle", "the superiors form a cycle: x → y → z → x"),
                (4, "hierarchy_cycle", "the superiors form a cycle: b → a → b"),
                (5, "hierarchy_cycle", "the superiors form a cycle: y → z → x → y"),
                (6, "hierarchy_cycle", "the superiors form a cycle: z → x → y → z"),
            ]
        );
        assert!(hierarchy.order.is_empty());
    }

    #[test]
    fn a_long_cycle_is_abbreviated() {
        let logins: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
        let users: Vec<_> = (0..20)
            .map(|i| HierarchyInput::new(i as u64 + 2, &logins[i], Some(logins[(i + 1) % 20].as_str())))
            .collect();
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(hierarchy.issues.len(), 20);
        assert_eq!(
            hierarchy.issues[3].message,
            "the superiors form a cycle of 20 users: u3 → u4 → u5 → u6 → … → u2 → u3"
        );
    }

    #[test]
    fn a_missing_superior_is_flagged_and_blocks_its_chain() {
        let users = input(&[("carol", "bob"), ("bob", " Dave "), ("ada", "")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(
            issues(&hierarchy),
            [(3, "superior_not_found", "superior 'Dave' is neither in the file nor an existing user")]
        );
        assert_eq!(hierarchy.issues[0].value.as_deref(), Some(" Dave "));
        assert_eq!(hierarchy.placements, [Placement::Blocked { by: 1 }, Placement::Flagged, Placement::Ordered]);
        assert_eq!(hierarchy.order, [2]);
    }

    #[test]
    fn logins_match_ignoring_case_and_spaces() {
        let users = input(&[("Bob", "ADA "), (" ada", "")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(hierarchy.superiors[0], Superior::InFile { index: 1, row: 3 });
        assert_eq!(hierarchy.order, [1, 0]);
        let users = input(&[("zoë", "ZOË")]);
        assert_eq!(resolve_hierarchy(&users, nobody).issues[0].code, IssueCode::SelfReference);
    }

    #[test]
    fn superiors_resolve_to_the_first_of_duplicate_logins() {
        // Row 3 and row 5 are both "ada"; row 5 is the duplicate (another stage reports it).
        let users = input(&[("bob", "ada"), ("ada", ""), ("carol", "ADA"), ("ada", "bob")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(hierarchy.superiors[0], Superior::InFile { index: 1, row: 3 });
        assert_eq!(hierarchy.superiors[2], Superior::InFile { index: 1, row: 3 });
        assert!(hierarchy.issues.is_empty(), "the duplicate's superior is bob, not a cycle");
        assert_eq!(hierarchy.order, [1, 0, 2, 3]);
        assert_superiors_first(&hierarchy);
        // A duplicate naming its own login is a self-reference.
        let users = input(&[("ada", ""), ("ada", "ada")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(issues(&hierarchy), [(3, "self_reference", "'ada' is named as their own superior")]);
        // Also when written otherwise: the login found is the first one, the user's own is not.
        let users = input(&[("Ada", ""), (" ADA", "ada "), ("bob", "ADA")]);
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(issues(&hierarchy), [(3, "self_reference", "'ADA' is named as their own superior")]);
        assert_eq!(hierarchy.superiors[2], Superior::InFile { index: 0, row: 2 });
        // Far down a longer file (the repeated logins are told apart by a bit a user).
        let logins: Vec<String> = (0..200).map(|i| format!("u{i}")).collect();
        let mut rows: Vec<(&str, &str)> = logins.iter().map(|l| (l.as_str(), "u0")).collect();
        rows[0].1 = "";
        rows[130] = ("U3", "u3"); // a repeated login naming itself
        rows[150] = ("u70", "u71"); // a repeated login naming someone else
        rows[190] = ("u190", "u190"); // a login of its own naming itself
        let hierarchy = resolve_hierarchy(&input(&rows), nobody);
        assert_eq!(
            issues(&hierarchy),
            [
                (132, "self_reference", "'U3' is named as their own superior"),
                (192, "self_reference", "'u190' is named as their own superior")
            ]
        );
        assert_eq!(hierarchy.superiors[150], Superior::InFile { index: 71, row: 73 });
        assert_eq!(hierarchy.superiors[3], Superior::InFile { index: 0, row: 2 });
    }

    #[test]
    fn empty_and_blank_superiors_are_roots() {
        let users = [
            HierarchyInput::new(2, "ada", None),
            HierarchyInput::new(3, "bob", Some("")),
            HierarchyInput::new(4, "", Some(" ")),
        ];
        let hierarchy = resolve_hierarchy(&users, nobody);
        assert_eq!(hierarchy.superiors, [Superior::None; 3]);
        assert_eq!(hierarchy.order, [0, 1, 2]);
    }

    #[test]
    fn an_empty_input_gives_an_empty_hierarchy() {
        assert_eq!(resolve_hierarchy(&[], nobody), Hierarchy::default());
    }

    #[test]
    fn tags_take_the_bits_that_indexes_leave() {
        assert_eq!(tag_mask(0), u32::MAX);
        assert_eq!(tag_mask(1), u32::MAX << 1);
        assert_eq!(tag_mask(7), u32::MAX << 3, "indexes + 1 up to 7");
        assert_eq!(tag_mask(8), u32::MAX << 4);
        assert_eq!(tag_mask(1_000_000), u32::MAX << 20);
        assert_eq!(tag_mask(1 << 31), 0);
        assert_eq!(tag_mask(Resolved::MOST_USERS), 0);
        for count in [1, 7, 8, 1_000_000, (1 << 31) - 1, Resolved::MOST_USERS] {
            assert_eq!(index32(count) & tag_mask(count), 0, "{count}");
        }
    }

    /// Users with these logins (the k-th on row k + 2) and no superiors.
    fn without_superiors<'a>(logins: &'a [impl AsRef<str>]) -> Vec<HierarchyInput<'a>> {
        logins.iter().enumerate().map(|(i, login)| HierarchyInput::new(i as u64 + 2, login.as_ref(), None)).collect()
    }

    #[test]
    fn a_full_small_index_wraps_around() {
        // Eight slots for five users, no tags: every probe run is long and most wrap.
        let logins = ["a", "b", "c", "d", "e"];
        let users = without_superiors(&logins);
        let users: &[HierarchyInput<'_>] = &users;
        let index = LoginIndex::with_tags(users, users.len(), 0).filled();
        assert_eq!(index.slots.len(), 8);
        for (i, login) in logins.iter().enumerate() {
            assert_eq!(index.find(login), Some(i as u32));
        }
        assert_eq!(index.find("f"), None);
        // The same users naming superiors, looked up as a pipeline longer than the users.
        let superiors = ["e", "f", "a", "E", "e"];
        let users: Vec<HierarchyInput<'_>> = logins
            .iter()
            .zip(superiors)
            .enumerate()
            .map(|(i, (login, superior))| HierarchyInput::new(i as u64 + 2, login, Some(superior)))
            .collect();
        let users: &[HierarchyInput<'_>] = &users;
        let index = LoginIndex::with_tags(users, users.len(), 0).filled();
        assert_eq!(index.find_superiors(1), [4, NAMES_OUTSIDE, 0, 4, NAMES_ITSELF]);
    }

    /// Filled by two threads, a later user of a login may come first: it gives way to the first.
    #[test]
    fn a_later_duplicate_inserted_first_gives_way_to_the_first() {
        let logins = ["ada", "bob", "ADA", " ada ", "carol"];
        let users = without_superiors(&logins);
        let users: &[HierarchyInput<'_>] = &users;
        for tags in [tag_mask(users.len()), 0] {
            let mut index = LoginIndex::with_tags(users, users.len(), tags);
            let slots: Vec<AtomicU32> = index.slots.iter().map(|&slot| AtomicU32::new(slot)).collect();
            let found = |index: &mut LoginIndex<'_, _>, slots: &[AtomicU32], login: &str| {
                index.slots = slots.iter().map(|slot| slot.load(Ordering::Relaxed)).collect();
                index.find(login)
            };
            let mut repeated = Vec::new();
            // The other thread's run, the later users, goes in first.
            index.insert_shared(&slots, 2..5, &mut repeated);
            assert_eq!(repeated, [3]);
            assert_eq!(found(&mut index, &slots, "ada"), Some(2));
            index.insert_shared(&slots, 0..2, &mut repeated);
            assert_eq!(repeated, [3, 2], "user 2 gives way to user 0");
            assert_eq!(found(&mut index, &slots, "ada"), Some(0));
            assert_eq!(found(&mut index, &slots, "bob"), Some(1));
            assert_eq!(found(&mut index, &slots, "carol"), Some(4));
        }
    }

    #[test]
    fn the_login_index_finds_every_login_as_a_map_of_keys_would() {
        // Enough logins for long probe runs and tag collisions between batches; capitals,
        // spaces, non-ASCII case (the Kelvin sign lowercases to an ASCII 'k') and duplicates.
        let mut logins: Vec<String> = (0..20_000).map(|i| format!("user.{i}")).collect();
        logins.extend(["ÉLODIE".to_string(), " Søren ".to_string(), "\u{212A}en".to_string(), "USER.7".to_string()]);
        let users = without_superiors(&logins);
        let users: &[HierarchyInput<'_>] = &users;
        let mut expected: HashMap<String, usize> = HashMap::new();
        for (i, login) in logins.iter().enumerate() {
            expected.entry(crate::login_key(login)).or_insert(i);
        }
        // Tags as wide as the slots leave (17 bits here), 2 bits, none (2^31 users and more):
        // narrower tags confirm more candidates on their strings, with the same answers.
        // Filled by two threads: this one from the start, or once its own work is done.
        let wide = LoginIndex::of(users);
        assert_eq!(wide.tag_mask, 0xFFFF_8000);
        let repeated: Vec<bool> = (0..users.len()).map(|i| wide.repeated.contains(i)).collect();
        assert_eq!(repeated.iter().filter(|r| **r).count(), 1, "USER.7 repeats user.7");
        let (done, shared) = LoginIndex::empty(users).filled_beside(|| 7);
        assert_eq!(done, 7);
        let late = || std::thread::sleep(std::time::Duration::from_millis(5));
        for index in [
            wide,
            LoginIndex::with_tags(users, users.len(), 0xC000_0000).filled(),
            LoginIndex::with_tags(users, users.len(), 0).filled(),
            shared,
            LoginIndex::with_tags(users, users.len(), 0).filled_beside(late).1,
        ] {
            let marked: Vec<bool> = (0..users.len()).map(|i| index.repeated.contains(i)).collect();
            assert!(marked == repeated, "the same users are marked repeated");
            for (key, &i) in &expected {
                assert_eq!(index.find(key), Some(i as u32), "{key}");
                assert_eq!(index.find(&key.to_uppercase()), Some(i as u32), "{key} in capitals");
            }
            assert_eq!(index.find("ken"), expected.get("ken").map(|&i| i as u32), "ASCII finds the Kelvin sign");
            assert_eq!(index.find("élodie"), Some(20_000));
            assert_eq!(index.find("søren"), Some(20_001));
            assert_eq!(index.find("user.7"), Some(7), "the first of duplicates");
            assert_eq!(index.find("user.20000"), None);
            assert_eq!(index.find("user"), None);
        }
    }

    #[test]
    fn the_pipelined_lookups_agree_with_the_single_one() {
        // Each user names a superior: others, nobody, an empty or blank cell, capitals, spaces,
        // itself, a login an earlier user also has (USER.7 repeats user.7), the Kelvin sign.
        let mut logins: Vec<String> = (0..20_000).map(|i| format!("user.{i}")).collect();
        logins.extend(["ÉLODIE".to_string(), " Søren ".to_string(), "\u{212A}en".to_string(), "USER.7".to_string()]);
        let mut superiors: Vec<String> = (0..logins.len())
            .map(|i| match i % 9 {
                0 => String::new(),
                1 => "  ".to_string(),
                2 => format!("USER.{}", i * 7 % 20_000),
                3 => format!(" user.{} ", i * 13 % 25_000),
                4 => logins[i].clone(),
                5 => "nobody".to_string(),
                6 => "ken".to_string(),
                7 => "user.7".to_string(),
                _ => format!("user.{}", i * 997 % 20_500),
            })
            .collect();
        if let Some(last) = superiors.last_mut() {
            *last = "user.7".to_string(); // USER.7's own login, which user 7 has first
        }
        let users: Vec<HierarchyInput<'_>> = logins
            .iter()
            .zip(&superiors)
            .enumerate()
            .map(|(i, (login, superior))| HierarchyInput::new(i as u64 + 2, login, Some(superior)))
            .collect();
        let users: &[HierarchyInput<'_>] = &users;
        for index in [LoginIndex::of(users), LoginIndex::with_tags(users, users.len(), 0).filled()] {
            let expected: Vec<u32> = (0..users.len())
                .map(|i| {
                    let query = trim(&superiors[i]);
                    match index.find(query) {
                        _ if query.is_empty() => Resolved::NO_SUPERIOR,
                        None => NAMES_OUTSIDE,
                        Some(found) if found as usize == i => NAMES_ITSELF,
                        Some(_) if index.repeated.contains(i) && is_login(index.key(i), query) => NAMES_ITSELF,
                        Some(found) => found,
                    }
                })
                .collect();
            assert_eq!(expected.last(), Some(&NAMES_ITSELF), "USER.7 names user.7: its own login");
            assert_eq!(index.find_superiors(1), expected);
            // Pipelines shorter than their steps, and a second one from the middle.
            for from in [0, 3, 10_007] {
                for count in [0, 1, 2 * AHEAD + 1, 3 * AHEAD, 100] {
                    let mut out = vec![0; count.min(users.len() - from)];
                    index.find_superiors_of(from, &mut out);
                    assert_eq!(out[..], expected[from..from + out.len()], "{from} {count}");
                }
            }
        }
    }
}
