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

use crate::issue::{Issue, IssueCode};
use crate::model::{login_key_cow, login_key_hash, same_login_key, trim};
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
    /// The superior of user `i`, as written.
    fn superior(&self, i: usize) -> Option<&str>;
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
    // Each user's superior found in the file, made each user's superior in place.
    let mut superiors = index.find_superiors(threads);
    let mut issues = Vec::new();
    // Superiors outside the file: each distinct key once, and who names it.
    let mut outside: HashMap<Cow<'u, str>, usize> = HashMap::new();
    let mut outside_keys: Vec<Cow<'u, str>> = Vec::new();
    let mut waiting: Vec<(usize, usize)> = Vec::new();
    for (position, slot) in superiors.iter_mut().enumerate() {
        let found = Some(*slot).filter(|&f| f != NOT_FOUND);
        let Some(written) = users.superior(position) else {
            *slot = Resolved::NO_SUPERIOR;
            continue;
        };
        let trimmed = trim(written);
        let login = index.key(position);
        let superior = if trimmed.is_empty() {
            Resolved::NO_SUPERIOR
        } else if same_login_key(trimmed, login) {
            let message = format!("'{login}' is named as their own superior");
            issues.push(superior_issue(IssueCode::SelfReference, message, users.row(position), written));
            Resolved::UNRESOLVED
        } else if let Some(found) = found {
            found
        } else {
            let key = login_key_cow(trimmed);
            let slot = match outside.get(&key) {
                Some(&slot) => slot,
                None => {
                    outside.insert(key.clone(), outside_keys.len());
                    outside_keys.push(key);
                    outside_keys.len() - 1
                }
            };
            waiting.push((position, slot));
            Resolved::UNRESOLVED // until the directory answers
        };
        *slot = superior;
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

/// The first user of each login, in an open-addressing table of 8-byte slots (a hash tag and a
/// user index): a third of the memory of a map of strings, one cache line per probe, and the
/// strings read only to confirm a matching tag.
///
/// A candidate is confirmed on the user's own login, read where the users keep it (no copy of
/// the logins: the index of a million users takes 16 MB).
pub(crate) struct LoginIndex<'u, U: ?Sized> {
    slots: Vec<(u32, u32)>,
    mask: usize,
    users: &'u U,
    /// How many users are indexed (the first ones).
    count: usize,
}

/// In a [`LoginIndex`]: an empty slot, or a login not found.
pub(crate) const NOT_FOUND: u32 = u32::MAX;
/// How many lookups [`LoginIndex::find_batch`] interleaves (and inserts it reads ahead).
const BATCH: usize = 32;
/// How many slots [`LoginIndex::find_batch`] probes at once, from a query's first slot.
const NEAR: usize = 8;
/// In [`LoginIndex::find_batch`]: no slot near the first one settles the query.
const PROBE_ON: u32 = u32::MAX - 1;

impl<'u, U: Users + ?Sized> LoginIndex<'u, U> {
    /// The index of these users' logins (of the first [`Resolved::MOST_USERS`]).
    pub(crate) fn of(users: &'u U) -> Self {
        LoginIndex::new(users, users.count().min(Resolved::MOST_USERS))
    }

    /// The index of the first `count` users.
    fn new(users: &'u U, count: usize) -> Self {
        let capacity = (count.max(4) * 2).next_power_of_two();
        let mut index = LoginIndex { slots: vec![(0, NOT_FOUND); capacity], mask: capacity - 1, users, count };
        // A batch at a time: every first slot is read before any is written, so that the cache
        // misses of a batch overlap.
        let mut hashes = [0u64; BATCH];
        let mut start = 0;
        while start < count {
            let end = (start + BATCH).min(count);
            for (position, hash) in (start..end).zip(&mut hashes) {
                *hash = login_key_hash(index.key(position));
            }
            let touched = hashes
                .iter()
                .take(end - start)
                .fold(0u32, |acc, hash| acc ^ index.slots.get(*hash as usize & index.mask).map_or(0, |slot| slot.1));
            std::hint::black_box(touched);
            for (position, &hash) in (start..end).zip(&hashes) {
                index.insert(hash, index32(position));
            }
            start = end;
        }
        index
    }

    /// User `i`'s trimmed login (`""` past the users indexed).
    fn key(&self, i: usize) -> &'u str {
        if i < self.count {
            trim(self.users.login(i))
        } else {
            ""
        }
    }

    /// Puts `position` in the table under `hash`, unless a user with the same login is there.
    fn insert(&mut self, hash: u64, position: u32) {
        let tag = (hash >> 32) as u32;
        let login = self.key(position as usize);
        let mut slot = hash as usize & self.mask;
        loop {
            let Some(&(other_tag, other)) = self.slots.get(slot) else { return };
            if other == NOT_FOUND {
                break;
            }
            if other_tag == tag && same_login_key(self.key(other as usize), login) {
                return; // a later duplicate: the first occurrence stays
            }
            slot = (slot + 1) & self.mask;
        }
        if let Some(free) = self.slots.get_mut(slot) {
            *free = (tag, position);
        }
    }

    /// The index of the first user whose login is `trimmed` (ignoring case).
    fn find(&self, trimmed: &str) -> Option<u32> {
        let hash = login_key_hash(trimmed);
        let tag = (hash >> 32) as u32;
        let mut slot = hash as usize & self.mask;
        loop {
            let (slot_tag, position) = self.slots.get(slot).copied()?;
            if position == NOT_FOUND {
                return None;
            }
            if slot_tag == tag && same_login_key(self.key(position as usize), trimmed) {
                return Some(position);
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// The superior of each user indexed among the users (`NOT_FOUND` when no user has that
    /// login, or the user has no superior), looked up a batch at a time so that the cache misses
    /// overlap; with `threads` above 1 and enough users, the two halves on two threads.
    fn find_superiors(&self, threads: usize) -> Vec<u32> {
        let (users, count) = (self.users, self.count);
        let lookup = |from: usize, to: usize| -> Vec<u32> {
            let mut out = Vec::with_capacity(to - from);
            let mut found = [NOT_FOUND; BATCH];
            let mut queries: Vec<&str> = Vec::with_capacity(BATCH);
            let mut start = from;
            while start < to {
                let end = (start + BATCH).min(to);
                queries.clear();
                queries.extend((start..end).map(|i| users.superior(i).map_or("", trim)));
                self.find_batch(&queries, &mut found);
                out.extend(found.iter().take(end - start));
                start = end;
            }
            out
        };
        if threads < 2 || count < 65_536 {
            return lookup(0, count);
        }
        let half = count / 2;
        std::thread::scope(|scope| {
            let other = scope.spawn(|| lookup(half, count));
            let mut found = lookup(0, half);
            match other.join() {
                Ok(rest) => found.extend(rest),
                Err(_) => found.extend(lookup(half, count)), // cannot happen: lookups do not panic
            }
            found
        })
    }

    /// [`LoginIndex::find`] for up to [`BATCH`] logins (an empty one is not looked
    /// up; `NOT_FOUND` when not found), in stages: every first slot is read, then every candidate
    /// user, then the strings are compared. The memory reads of one stage do not wait for each
    /// other.
    fn find_batch(&self, queries: &[&str], found: &mut [u32; BATCH]) {
        let mut hashes = [0u64; BATCH];
        let mut first = [(0u32, NOT_FOUND); BATCH];
        for ((query, hash), first) in queries.iter().zip(&mut hashes).zip(&mut first) {
            if !query.is_empty() {
                *hash = login_key_hash(query);
                *first = self.slots.get(*hash as usize & self.mask).copied().unwrap_or((0, NOT_FOUND));
            }
        }
        // The first slots are in memory now: probe on from each while the slots are near (the
        // same cache line or the next), to the slot with the query's tag or an empty one.
        for (hash, first) in hashes.iter().zip(&mut first) {
            let tag = (*hash >> 32) as u32;
            if first.1 == NOT_FOUND || first.0 == tag {
                continue;
            }
            *first = (0, PROBE_ON);
            for step in 1..NEAR {
                let slot = self.slots.get((*hash as usize + step) & self.mask).copied().unwrap_or((0, NOT_FOUND));
                if slot.1 == NOT_FOUND || slot.0 == tag {
                    *first = slot;
                    break;
                }
            }
        }
        let mut candidates: [&str; BATCH] = [""; BATCH];
        for ((hash, &(tag, position)), candidate) in hashes.iter().zip(&first).zip(&mut candidates) {
            if position < PROBE_ON && tag == (*hash >> 32) as u32 {
                *candidate = self.key(position as usize);
            }
        }
        // Read the first byte of every candidate now, so that those reads overlap too.
        std::hint::black_box(candidates.iter().fold(0u8, |acc, c| acc ^ c.as_bytes().first().copied().unwrap_or(0)));
        for (k, out) in found.iter_mut().enumerate() {
            let (query, (_, position)) = match (queries.get(k), first.get(k)) {
                (Some(query), Some(first)) if !query.is_empty() => (*query, *first),
                _ => {
                    *out = NOT_FOUND;
                    continue;
                }
            };
            *out = if position == NOT_FOUND {
                NOT_FOUND
            } else if position < PROBE_ON
                && candidates.get(k).is_some_and(|c| !c.is_empty() && same_login_key(c, query))
            {
                position
            } else {
                self.find(query).unwrap_or(NOT_FOUND) // a tag that differs, or a collision: probe on
            };
        }
    }
}

/// An error of this stage on `row`, on the superior field, with the superior as written.
fn superior_issue(code: IssueCode, message: String, row: u64, superior: &str) -> Issue {
    Issue::error(code, message).at_row(row).for_field(Field::Superior.key()).with_value(superior)
}

/// The state of a user during [`order_users`] (8 bytes).
#[derive(Clone, Copy)]
enum Mark {
    /// Not reached yet.
    Unvisited,
    /// On the walk in progress, at this position of the path.
    OnPath(u32),
    /// Settled: a placement of [`Resolved`].
    Done(u32),
}

/// Orders the users, flags the members of cycles and settles every placement.
///
/// For each user not yet settled, in input order, walks up the chain of superiors until it meets
/// a root, a settled user, a user whose superior is unresolved, or a user of the walk itself (a
/// cycle); then settles the whole walk at once. Each user is walked once: linear time, and the
/// walk lives in a vector, not on the stack.
fn order_users<U: Users + ?Sized>(users: &U, superiors: &[u32], issues: &mut Vec<Issue>) -> (Vec<u32>, Vec<u32>) {
    let mut marks = vec![Mark::Unvisited; superiors.len()];
    let mut order = Vec::with_capacity(superiors.len());
    let mut path: Vec<u32> = Vec::new();
    for start in 0..superiors.len() {
        if !matches!(marks.get(start), Some(Mark::Unvisited)) {
            continue;
        }
        path.clear();
        let mut current = index32(start);
        // `path[..flagged_from]` gets `rest`; `path[flagged_from..]` are flagged.
        let (flagged_from, rest) = loop {
            match marks.get(current as usize) {
                Some(Mark::Unvisited) => {}
                Some(&Mark::OnPath(position)) => {
                    let position = position as usize;
                    report_cycle(users, path.get(position..).unwrap_or_default(), issues);
                    let by = path.get(position).copied().unwrap_or(current);
                    break (position, by);
                }
                Some(Mark::Done(Resolved::FLAGGED)) => break (path.len(), current),
                Some(&Mark::Done(settled)) => break (path.len(), settled),
                None => break (path.len(), Resolved::ORDERED),
            }
            if let Some(mark) = marks.get_mut(current as usize) {
                *mark = Mark::OnPath(index32(path.len()));
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
                *mark = Mark::Done(placement);
            }
        }
        if rest == Resolved::ORDERED {
            // The walk went from subordinate to superior: create in the reverse order.
            order.extend(path.iter().rev());
        }
    }
    // Every walk settles all it visits, so every mark is `Done` by now.
    let mut placements: Vec<u32> = marks
        .into_iter()
        .map(|mark| if let Mark::Done(placement) = mark { placement } else { Resolved::ORDERED })
        .collect();
    // Collected in the marks' own allocation (8 bytes a user): half of it is given back.
    placements.shrink_to_fit();
    (order, placements)
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
    fn the_login_index_finds_every_login_as_a_map_of_keys_would() {
        // Enough logins for long probe runs and tag collisions between batches; capitals,
        // spaces, non-ASCII case (the Kelvin sign lowercases to an ASCII 'k') and duplicates.
        let mut logins: Vec<String> = (0..20_000).map(|i| format!("user.{i}")).collect();
        logins.extend(["ÉLODIE".to_string(), " Søren ".to_string(), "\u{212A}en".to_string(), "USER.7".to_string()]);
        let users: Vec<HierarchyInput<'_>> =
            logins.iter().enumerate().map(|(i, login)| HierarchyInput::new(i as u64 + 2, login, None)).collect();
        let users: &[HierarchyInput<'_>] = &users;
        let index = LoginIndex::new(users, users.len());
        let mut expected: HashMap<String, usize> = HashMap::new();
        for (i, login) in logins.iter().enumerate() {
            expected.entry(crate::login_key(login)).or_insert(i);
        }
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
        // The batched lookup agrees with the single one, empty queries included.
        let queries: Vec<&str> = ["user.1", "", "USER.19999", "nobody", "ken"].to_vec();
        let mut found = [NOT_FOUND; BATCH];
        index.find_batch(&queries, &mut found);
        let ken = expected.get("ken").map_or(NOT_FOUND, |&i| i as u32);
        assert_eq!(&found[..5], &[1, NOT_FOUND, 19_999, NOT_FOUND, ken]);
    }
}
