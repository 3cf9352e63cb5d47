//! A validated row, stored compactly.
//!
//! The texts of many records live end to end in shared pages of about 64 KB, so a record costs
//! no allocation of its own: a pointer to its page, its offsets (one byte each; a record with
//! more than 255 bytes of text keeps them on its page), a shared role set, and its time zone,
//! status and HQ role in a few bytes: 32 bytes in all. Values that not every row has (groups,
//! product access, custom fields) are encoded after the record's fixed texts in the same page.
//! Pages are wiped when the last record on them is dropped (they hold passwords).

use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use crate::model::{login_key, CustomValue, HqRole, Password, ProductAccess, Role, Status, User};

/// The text fields of a record, in storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    FirstName = 0,
    LastName,
    Login,
    Email,
    Password,
    Superior,
    Reference,
    Mirror,
}

const TEXTS: usize = 8;
/// Starts each entry of the encoded extras: its kind, then a group's name, or the index of a
/// product's or custom field's name (decimal digits) followed by its value, which starts with a
/// letter or sign telling its kind.
const ENTRY: char = '\u{1e}';

/// The most text one record may hold (its offsets are 16-bit).
pub(crate) const MAX_RECORD_TEXT: usize = u16::MAX as usize;

/// Texts of many records, end to end, the names their extras refer to by index (product ids,
/// custom field names: shared by every page of a file), and the role sets of its records (a
/// record names its set by a one-byte index). Wiped when dropped: it holds passwords.
#[derive(Default)]
pub(crate) struct Page {
    text: String,
    names: Arc<[Arc<str>]>,
    role_sets: Vec<Arc<RoleSet>>,
    /// The offsets of the page's records with more text than one-byte offsets reach.
    wide: Vec<Ends>,
}

impl Drop for Page {
    fn drop(&mut self) {
        // A plain (vectorised) fill, kept by `black_box`: `zeroize`'s byte-by-byte volatile writes
        // cost as much as a tenth of a whole validation here.
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

/// The roles of a record, shared by every record with the same set.
#[derive(Debug, Default)]
pub(crate) struct RoleSet(pub(crate) Vec<Role>);

const INVALID: u8 = 1;
const EXISTS: u8 = 2;
/// The record's offsets are on its page: its `ends` hold their index there.
const WIDE: u8 = 4;
/// The email is the login (a file without a login column): its text is kept once, as the login.
const EMAIL_IS_LOGIN: u8 = 8;

/// The end of each fixed text, then of the extras, relative to the record's start.
type Ends = [u16; TEXTS + 1];

/// A record's offsets: one byte each when its text is short (nearly always), else the index of
/// its [`Ends`] on its page (the [`WIDE`] flag then set).
#[derive(Clone, Copy)]
struct ShortEnds([u8; TEXTS + 1]);

impl ShortEnds {
    /// The offsets of a record written at the end of `page_wide`: short, or added to the page's
    /// wide ones (and the [`WIDE`] flag to set).
    fn new(ends: Ends, page_wide: &mut Vec<Ends>) -> (ShortEnds, u8) {
        // The offsets only grow: the last one is the largest.
        if ends[TEXTS] <= u16::from(u8::MAX) {
            return (ShortEnds(ends.map(|end| u8::try_from(end).unwrap_or(u8::MAX))), 0);
        }
        let index = u32::try_from(page_wide.len()).unwrap_or(u32::MAX);
        page_wide.push(ends);
        let mut short = [0u8; TEXTS + 1];
        short[..4].copy_from_slice(&index.to_le_bytes());
        (ShortEnds(short), WIDE)
    }

    /// The index of a wide record's offsets on its page.
    fn wide_index(self) -> usize {
        let [a, b, c, d, ..] = self.0;
        u32::from_le_bytes([a, b, c, d]) as usize
    }
}

/// One valid row of the file, typed: what the plan stage turns into a [`User`].
///
/// Values are cleaned (names trimmed and folded, email domain lowercased, roles in the catalog's
/// spelling, time zone canonical). An empty optional cell reads as `None`; an empty product cell
/// is absent from [`UserRecord::products`] (the plan gives the product's default). The password
/// never appears in `Debug` output and is wiped from memory with the record.
#[derive(Clone)]
pub struct UserRecord {
    page: Arc<Page>,
    start: u32,
    row: u32,
    /// End of each fixed text, then of the extras, relative to `start`.
    ends: ShortEnds,
    /// The record's roles: an index into its page's role sets.
    role_set: u8,
    timezone: Option<Tz>,
    status: Option<Status>,
    hq_role: Option<HqRole>,
    flags: u8,
}

impl PartialEq for UserRecord {
    fn eq(&self, other: &Self) -> bool {
        self.row == other.row
            && self.all_text() == other.all_text()
            && self.roles() == other.roles()
            && (self.timezone, self.status, self.hq_role) == (other.timezone, other.status, other.hq_role)
    }
}

impl UserRecord {
    fn all_text(&self) -> &str {
        self.slice(0, self.end(TEXTS))
    }

    /// The end of text `i` (or of the extras: `TEXTS`), relative to `start`.
    #[inline]
    fn end(&self, i: usize) -> u16 {
        if self.flags & WIDE == 0 {
            self.short_end(i)
        } else {
            self.wide_end(i)
        }
    }

    /// [`UserRecord::end`] of a record whose offsets are its own (nearly all).
    #[inline]
    fn short_end(&self, i: usize) -> u16 {
        self.ends.0.get(i).copied().map_or(0, u16::from)
    }

    /// [`UserRecord::end`] of a record whose offsets are on its page.
    #[cold]
    fn wide_end(&self, i: usize) -> u16 {
        self.page.wide.get(self.ends.wide_index()).and_then(|ends| ends.get(i)).copied().unwrap_or(0)
    }

    fn slice(&self, from: u16, to: u16) -> &str {
        let start = self.start as usize;
        self.page.text.get(start + from as usize..start + to as usize).unwrap_or("")
    }

    /// Where a text lies, relative to `start`.
    #[inline]
    fn bounds(&self, field: Text) -> (u16, u16) {
        let field = if field == Text::Email && self.flags & EMAIL_IS_LOGIN != 0 { Text::Login } else { field };
        // The flag is tested once for both ends.
        let i = field as usize;
        if self.flags & WIDE == 0 {
            (if i == 0 { 0 } else { self.short_end(i - 1) }, self.short_end(i))
        } else {
            (if i == 0 { 0 } else { self.wide_end(i - 1) }, self.wide_end(i))
        }
    }

    #[inline]
    fn text(&self, field: Text) -> &str {
        let (from, to) = self.bounds(field);
        self.slice(from, to)
    }

    /// Whether a text is there, from the record's offsets alone: an empty one costs no read of
    /// the page.
    fn has_text(&self, field: Text) -> bool {
        let (from, to) = self.bounds(field);
        to > from
    }

    fn optional(&self, field: Text) -> Option<&str> {
        self.has_text(field).then(|| self.text(field)).filter(|s| !s.is_empty())
    }

    /// The encoded extras: (kind, name, value) entries. Groups are written out; products and
    /// custom fields are written as the index of their name in the page's names.
    fn extras(&self) -> impl Iterator<Item = (char, &str, &str)> {
        self.slice(self.end(TEXTS - 1), self.end(TEXTS)).split(ENTRY).filter_map(|entry| {
            let mut chars = entry.chars();
            let kind = chars.next()?;
            let rest = chars.as_str();
            if kind == 'g' {
                return Some((kind, rest, ""));
            }
            let (index, value) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
            let name = self.page.names.get(index.parse::<usize>().ok()?)?;
            Some((kind, &**name, value))
        })
    }

    /// The row number in the file.
    pub fn row(&self) -> u64 {
        u64::from(self.row)
    }

    /// [`UserRecord::row`] in the 32 bits a record keeps it in.
    pub(crate) fn row32(&self) -> u32 {
        self.row
    }

    /// Given name.
    pub fn first_name(&self) -> &str {
        self.text(Text::FirstName)
    }

    /// Family name.
    pub fn last_name(&self) -> &str {
        self.text(Text::LastName)
    }

    /// The login (the email when the file has no login).
    pub fn login(&self) -> &str {
        self.text(Text::Login)
    }

    /// The login's bytes, found from the record's offsets alone: unlike [`UserRecord::login`],
    /// the page's text is not read (no character boundary is checked) until the bytes are, so
    /// that a caller reading the logins of many records can have those reads overlap.
    pub(crate) fn login_bytes(&self) -> &[u8] {
        self.text_bytes(Text::Login)
    }

    /// [`UserRecord::login_bytes`] of the superior (empty when there is none).
    pub(crate) fn superior_bytes(&self) -> &[u8] {
        self.text_bytes(Text::Superior)
    }

    /// A text's bytes, found from the offsets alone.
    fn text_bytes(&self, field: Text) -> &[u8] {
        let (from, to) = self.bounds(field);
        let start = self.start as usize;
        self.page.text.as_bytes().get(start + from as usize..start + to as usize).unwrap_or_default()
    }

    /// The login as compared: lowercased.
    pub fn login_key(&self) -> String {
        login_key(self.login())
    }

    /// Email address, domain lowercased.
    pub fn email(&self) -> Option<&str> {
        self.optional(Text::Email)
    }

    /// The initial password, when the row has one.
    pub fn password(&self) -> Option<Password> {
        self.optional(Text::Password).map(Password::new)
    }

    /// True when the row has a password (without exposing it). Read from the record's offsets
    /// alone: counting a plan's invitations does not read a million records' pages.
    pub fn has_password(&self) -> bool {
        self.has_text(Text::Password)
    }

    /// The superior's login.
    pub fn superior(&self) -> Option<&str> {
        self.optional(Text::Superior)
    }

    /// External reference.
    pub fn reference(&self) -> Option<&str> {
        self.optional(Text::Reference)
    }

    /// The existing user whose permissions are to be copied.
    pub fn mirror(&self) -> Option<&str> {
        self.optional(Text::Mirror)
    }

    /// Roles, in the catalog's spelling.
    pub fn roles(&self) -> &[Role] {
        self.page.role_sets.get(usize::from(self.role_set)).map_or(&[], |set| &set.0)
    }

    /// Time zone.
    pub fn timezone(&self) -> Option<Tz> {
        self.timezone
    }

    /// Status, when the file gives one.
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// HQ role, when the file gives one.
    pub fn hq_role(&self) -> Option<HqRole> {
        self.hq_role
    }

    /// Groups named in the row, in the catalog's spelling.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.extras().filter(|(kind, _, _)| *kind == 'g').map(|(_, name, _)| name)
    }

    /// Product access given in the row, by product id, in id order (empty cells are absent).
    pub fn products(&self) -> impl Iterator<Item = (&str, ProductAccess)> {
        self.extras().filter(|(kind, _, _)| *kind == 'p').map(|(_, id, value)| (id, decode_access(value)))
    }

    /// Custom field values, by name, in name order.
    pub fn custom(&self) -> impl Iterator<Item = (&str, CustomValue)> {
        self.extras().filter(|(kind, _, _)| *kind == 'c').map(|(_, name, value)| (name, decode_custom(value)))
    }

    /// True when the directory already has a user with this login.
    pub fn exists(&self) -> bool {
        self.flags & EXISTS != 0
    }

    pub(crate) fn set_exists(&mut self) {
        self.flags |= EXISTS;
    }

    pub(crate) fn is_invalid(&self) -> bool {
        self.flags & INVALID != 0
    }

    pub(crate) fn invalidate(&mut self) {
        self.flags |= INVALID;
    }

    /// The record as a [`User`] (status active when the file gives none).
    pub fn to_user(&self) -> User {
        let mut user = User::new(self.login(), self.first_name(), self.last_name());
        user.email = self.email().map(str::to_string);
        user.password = self.password();
        user.roles = self.roles().to_vec();
        user.superior = self.superior().map(str::to_string);
        user.timezone = self.timezone;
        user.hq_role = self.hq_role;
        user.status = self.status.unwrap_or_default();
        user.reference = self.reference().map(str::to_string);
        user.groups = self.groups().map(str::to_string).collect();
        user.products = self.products().map(|(id, access)| (id.to_string(), access)).collect();
        user.custom = self.custom().map(|(name, value)| (name.to_string(), value)).collect();
        user
    }
}

fn decode_access(value: &str) -> ProductAccess {
    match value.strip_prefix('=') {
        Some(role) => ProductAccess::Role(Role::new(role)),
        None if value == "+" => ProductAccess::Granted,
        None => ProductAccess::None,
    }
}

fn decode_custom(value: &str) -> CustomValue {
    let mut chars = value.chars();
    let kind = chars.next();
    let text = chars.as_str();
    match kind {
        Some('b') => CustomValue::Bool(text == "1"),
        Some('n') => text.parse().map_or_else(|_| CustomValue::Text(text.to_string()), CustomValue::Number),
        Some('d') => text
            .parse()
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map_or_else(|| CustomValue::Text(text.to_string()), CustomValue::Date),
        _ => CustomValue::Text(text.to_string()),
    }
}

/// `YYYY-MM-DD` without chrono's format machinery (it is on the hot path).
pub(crate) fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    NaiveDate::from_ymd_opt(i32::try_from(digits(0..4)?).ok()?, digits(5..7)?, digits(8..10)?)
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("row", &self.row)
            .field("first_name", &self.first_name())
            .field("last_name", &self.last_name())
            .field("login", &self.login())
            .field("email", &self.email())
            .field("password", &self.has_password().then_some(Password::REDACTED))
            .field("roles", &self.roles())
            .field("superior", &self.superior())
            .field("timezone", &self.timezone)
            .field("status", &self.status)
            .field("hq_role", &self.hq_role)
            .field("reference", &self.reference())
            .field("mirror", &self.mirror())
            .field("groups", &self.groups().collect::<Vec<_>>())
            .field("products", &self.products().collect::<Vec<_>>())
            .field("custom", &self.custom().collect::<Vec<_>>())
            .finish()
    }
}

/// Values that not every row has, gathered while a row is checked. Products and custom fields
/// are named by their index in the validator's table of names.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    pub(crate) groups: Vec<String>,
    pub(crate) products: Vec<(u32, ProductAccess)>,
    pub(crate) custom: Vec<(u32, CustomValue)>,
}

impl Extras {
    fn clear(&mut self) {
        self.groups.clear();
        self.products.clear();
        self.custom.clear();
    }
}

/// A record whose texts are in the page being filled; it becomes a [`UserRecord`] when the page
/// is sealed.
pub(crate) struct Pending {
    start: u32,
    ends: ShortEnds,
    /// [`WIDE`] when the offsets are on the page.
    flags: u8,
    row: u32,
    role_set: u8,
    timezone: Option<Tz>,
    status: Option<Status>,
    hq_role: Option<HqRole>,
}

impl Pending {
    pub(crate) fn seal(self, page: &Arc<Page>) -> UserRecord {
        UserRecord {
            page: Arc::clone(page),
            start: self.start,
            ends: self.ends,
            row: self.row,
            role_set: self.role_set,
            timezone: self.timezone,
            status: self.status,
            hq_role: self.hq_role,
            flags: self.flags,
        }
    }
}

/// Fills pages with record texts (and their role sets).
#[derive(Default)]
pub(crate) struct Pager {
    text: String,
    names: Arc<[Arc<str>]>,
    role_sets: Vec<Arc<RoleSet>>,
    wide: Vec<Ends>,
}

impl Pager {
    /// The size of a page (a record longer than that has a page of its own).
    const PAGE: usize = 64 * 1024;

    /// A pager whose records name products and custom fields by their index in `names`.
    pub(crate) fn new(names: &Arc<[Arc<str>]>) -> Self {
        Pager { text: String::new(), names: Arc::clone(names), role_sets: Vec::new(), wide: Vec::new() }
    }

    /// True when a record with this role set fits the page's table of role sets (at most 256).
    pub(crate) fn has_role_room(&self, set: &Arc<RoleSet>) -> bool {
        self.role_sets.len() < 256 || self.role_sets.iter().any(|s| Arc::ptr_eq(s, set))
    }

    /// The index of a role set on the page being filled, added when new (the caller made sure
    /// there is room: see [`Pager::has_role_room`]).
    fn role_index(&mut self, set: Arc<RoleSet>) -> u8 {
        // A page holds a handful of sets (most files use a few combinations): a scan finds it.
        let index = match self.role_sets.iter().position(|s| Arc::ptr_eq(s, &set)) {
            Some(index) => index,
            None => {
                self.role_sets.push(set);
                self.role_sets.len() - 1
            }
        };
        u8::try_from(index).unwrap_or(u8::MAX)
    }

    /// True when `n` more bytes fit in the page being filled without growing it.
    pub(crate) fn has_room(&self, n: usize) -> bool {
        self.text.capacity() - self.text.len() >= n
    }

    /// Starts a new page, with room for at least `n` bytes, once the last one is sealed.
    pub(crate) fn start_page(&mut self, n: usize) {
        if self.text.capacity() == 0 {
            self.text.reserve_exact(n.max(Self::PAGE));
        }
    }

    /// Ends the current page: every pending record written since the last seal points into it.
    /// A full page keeps its allocation as it is; one sealed early is cut to its size.
    pub(crate) fn seal(&mut self) -> Arc<Page> {
        let mut text = std::mem::take(&mut self.text);
        if text.len() < text.capacity() / 4 * 3 {
            text.shrink_to_fit();
        }
        Arc::new(Page {
            text,
            names: Arc::clone(&self.names),
            role_sets: std::mem::take(&mut self.role_sets),
            wide: std::mem::take(&mut self.wide),
        })
    }
}

/// Assembles a record: the validate stage fills it cell by cell.
#[derive(Default)]
pub(crate) struct RecordBuilder {
    texts: [String; TEXTS],
    pub(crate) roles: Option<Arc<RoleSet>>,
    pub(crate) timezone: Option<Tz>,
    pub(crate) status: Option<Status>,
    pub(crate) hq_role: Option<HqRole>,
    pub(crate) extras: Extras,
    /// [`RecordBuilder::text_len`] once the row is checked.
    pub(crate) checked_len: usize,
}

impl RecordBuilder {
    pub(crate) fn clear(&mut self) {
        for (i, text) in self.texts.iter_mut().enumerate() {
            if i != Text::Password as usize {
                text.clear();
            }
        }
        self.wipe_password();
        self.roles = None;
        self.timezone = None;
        self.status = None;
        self.hq_role = None;
        self.extras.clear();
    }

    /// The password scratch held a secret: wipe it, not just forget it (a plain fill kept by
    /// `black_box`, as pages are wiped; the allocation is kept for the next row). Only its
    /// length: the bytes beyond held earlier passwords, wiped when their rows were done.
    fn wipe_password(&mut self) {
        let password = &mut self.texts[Text::Password as usize];
        if !password.is_empty() {
            let mut bytes = std::mem::take(password).into_bytes();
            bytes.fill(0);
            std::hint::black_box(&bytes);
            bytes.clear();
            *password = String::from_utf8(bytes).unwrap_or_default();
        }
    }

    /// Forgets what the validate stage does not read back from its records once the row is
    /// checked — everything but the login, the email and the user to mirror (the keys of the
    /// duplicate and directory checks): for a validation that counts its records instead of
    /// keeping them. The record's roles, time zone and status are kept (they take no text).
    pub(crate) fn keep_lookups_only(&mut self) {
        const KEPT: [Text; 3] = [Text::Login, Text::Email, Text::Mirror];
        for (i, text) in self.texts.iter_mut().enumerate() {
            if i != Text::Password as usize && !KEPT.iter().any(|&kept| kept as usize == i) {
                text.clear();
            }
        }
        self.wipe_password();
        self.extras.clear();
        self.checked_len = self.text_len();
    }

    #[inline]
    pub(crate) fn set(&mut self, field: Text, value: &str) {
        let text = &mut self.texts[field as usize];
        text.clear();
        text.push_str(value);
    }

    /// The text of a field, to fill in place.
    pub(crate) fn text_mut(&mut self, field: Text) -> &mut String {
        let text = &mut self.texts[field as usize];
        text.clear();
        text
    }

    /// Sets text `to` to a copy of text `from` (without an allocation of its own).
    pub(crate) fn copy(&mut self, from: Text, to: Text) {
        let source = std::mem::take(&mut self.texts[from as usize]);
        self.set(to, &source);
        self.texts[from as usize] = source;
    }

    pub(crate) fn get(&self, field: Text) -> &str {
        &self.texts[field as usize]
    }

    /// How many bytes the record's texts take (the extras estimated generously).
    pub(crate) fn text_len(&self) -> usize {
        // A name index takes at most 10 digits.
        let extras: usize = self.extras.groups.iter().map(|g| g.len() + 3).sum::<usize>()
            + self.extras.products.iter().map(|_| 50).sum::<usize>()
            + self.extras.custom.iter().map(|(_, v)| 18 + custom_len(v)).sum::<usize>();
        self.texts.iter().map(String::len).sum::<usize>() + extras
    }

    /// Writes the record's texts into the pager; the builder is cleared.
    pub(crate) fn write(&mut self, row: u64, pager: &mut Pager, empty_roles: &Arc<RoleSet>) -> Pending {
        let names = &pager.names;
        let name = |i: u32| names.get(i as usize).map_or("", |n| &**n);
        let text = &mut pager.text;
        let start = text.len();
        let mut ends: Ends = [0; TEXTS + 1];
        // A row without a login has its email as its login: the text is kept once.
        let (login, email) = (&self.texts[Text::Login as usize], &self.texts[Text::Email as usize]);
        let email_is_login = !email.is_empty() && email == login;
        for (i, part) in self.texts.iter().enumerate() {
            let kept_elsewhere = email_is_login && i == Text::Email as usize;
            if !part.is_empty() && !kept_elsewhere {
                text.push_str(part);
            }
            ends[i] = offset(text.len() - start);
        }
        let extras = &mut self.extras;
        for group in &extras.groups {
            text.push(ENTRY);
            text.push('g');
            push_entry_text(text, group);
        }
        extras.products.sort_by(|a, b| name(a.0).cmp(name(b.0)));
        for &(id, ref access) in &extras.products {
            push_indexed_entry(text, 'p', id);
            match access {
                ProductAccess::None => text.push('-'),
                ProductAccess::Granted => text.push('+'),
                ProductAccess::Role(role) => {
                    text.push('=');
                    push_entry_text(text, role.name());
                }
            }
        }
        if extras.custom.len() > 1 {
            extras.custom.sort_by(|a, b| name(a.0).cmp(name(b.0)));
        }
        for &(field, ref value) in &extras.custom {
            push_indexed_entry(text, 'c', field);
            match value {
                CustomValue::Bool(b) => text.push_str(if *b { "b1" } else { "b0" }),
                CustomValue::Number(n) => {
                    text.push('n');
                    text.push_str(&n.to_string());
                }
                CustomValue::Date(d) => {
                    // Its day number in the common era (1 January of year 1 is day 1): 6 digits
                    // where an ISO date takes 10.
                    text.push('d');
                    text.push_str(itoa::Buffer::new().format(d.num_days_from_ce()));
                }
                CustomValue::Text(t) => {
                    text.push('t');
                    push_entry_text(text, t);
                }
            }
        }
        ends[TEXTS] = offset(text.len() - start);
        let (ends, wide) = ShortEnds::new(ends, &mut pager.wide);
        let flags = if email_is_login { wide | EMAIL_IS_LOGIN } else { wide };
        let pending = Pending {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            ends,
            flags,
            row: u32::try_from(row).unwrap_or(u32::MAX),
            role_set: pager.role_index(self.roles.take().unwrap_or_else(|| Arc::clone(empty_roles))),
            timezone: self.timezone,
            status: self.status,
            hq_role: self.hq_role,
        };
        self.clear();
        pending
    }
}

fn offset(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn custom_len(value: &CustomValue) -> usize {
    match value {
        CustomValue::Text(t) => t.len(),
        _ => 32,
    }
}

/// A name or value of an extra: the validate stage has already turned control characters into
/// spaces, and the separator of the entries is one; were it to reach here, it is a space too
/// rather than the start of an entry that is not there.
fn push_entry_text(text: &mut String, value: &str) {
    if value.as_bytes().contains(&(ENTRY as u8)) {
        text.extend(value.chars().map(|c| if c == ENTRY { ' ' } else { c }));
    } else {
        text.push_str(value);
    }
}

/// The start of an extra named by the index of its name: its kind and the index (its value,
/// which follows, starts with a character other than a digit).
fn push_indexed_entry(text: &mut String, kind: char, index: u32) {
    text.push(ENTRY);
    text.push(kind);
    if index < 10 {
        text.push(char::from(b'0' + index as u8));
    } else {
        text.push_str(itoa::Buffer::new().format(index));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the extras of these tests refer to, by index.
    const NAMES: [&str; 7] = ["perform", "hire", "learn", "start", "badge", "remote", "note"];

    fn names_of(names: impl IntoIterator<Item = String>) -> Arc<[Arc<str>]> {
        names.into_iter().map(Arc::from).collect()
    }

    fn test_names() -> Arc<[Arc<str>]> {
        names_of(NAMES.map(String::from))
    }

    /// The records these builders write on one page (the k-th on row k + 2), and the page; their
    /// extras name `names` by index.
    fn page_of(
        names: &Arc<[Arc<str>]>,
        builders: impl IntoIterator<Item = RecordBuilder>,
    ) -> (Arc<Page>, Vec<UserRecord>) {
        let mut pager = Pager::new(names);
        let empty = Arc::new(RoleSet::default());
        let pending: Vec<Pending> = builders
            .into_iter()
            .enumerate()
            .map(|(k, mut builder)| builder.write(k as u64 + 2, &mut pager, &empty))
            .collect();
        let page = pager.seal();
        let records = pending.into_iter().map(|p| p.seal(&page)).collect();
        (page, records)
    }

    fn one(builder: &mut RecordBuilder, row: u64) -> UserRecord {
        let mut pager = Pager::new(&test_names());
        let pending = builder.write(row, &mut pager, &Arc::new(RoleSet::default()));
        pending.seal(&pager.seal())
    }

    #[test]
    fn a_record_is_small() {
        // No allocation of its own: keep the inline part small.
        assert!(std::mem::size_of::<UserRecord>() <= 32, "{}", std::mem::size_of::<UserRecord>());
    }

    #[test]
    fn texts_and_extras_round_trip_and_the_password_stays_hidden() {
        let mut builder = RecordBuilder::default();
        builder.set(Text::FirstName, "Ada");
        builder.set(Text::Login, "ada");
        builder.set(Text::Password, "Analytical#1");
        builder.set(Text::Mirror, "grace");
        builder.extras.groups = vec!["Sales".into(), "R&D".into()];
        builder.extras.products = vec![
            (0, ProductAccess::None),
            (1, ProductAccess::Role(Role::new("Recruiter"))),
            (2, ProductAccess::Granted),
        ];
        let date = NaiveDate::from_ymd_opt(2024, 1, 15).unwrap();
        builder.extras.custom = vec![
            (3, CustomValue::Date(date)),
            (4, CustomValue::Number(12.5)),
            (5, CustomValue::Bool(true)),
            (6, CustomValue::Text("a=b; c".into())),
        ];
        let record = one(&mut builder, 2);
        assert_eq!((record.first_name(), record.last_name(), record.login()), ("Ada", "", "ada"));
        assert_eq!(record.email(), None);
        assert_eq!(record.mirror(), Some("grace"));
        assert_eq!(record.groups().collect::<Vec<_>>(), ["Sales", "R&D"]);
        assert_eq!(
            record.products().collect::<Vec<_>>(),
            [
                ("hire", ProductAccess::Role(Role::new("Recruiter"))),
                ("learn", ProductAccess::Granted),
                ("perform", ProductAccess::None)
            ]
        );
        assert_eq!(
            record.custom().collect::<Vec<_>>(),
            [
                ("badge", CustomValue::Number(12.5)),
                ("note", CustomValue::Text("a=b; c".into())),
                ("remote", CustomValue::Bool(true)),
                ("start", CustomValue::Date(date)),
            ]
        );
        assert_eq!(record.password().map(|p| p.expose().to_string()).as_deref(), Some("Analytical#1"));
        assert!(record.has_password());
        let debug = format!("{record:?}");
        assert!(!debug.contains("Analytical"), "{debug}");
        assert!(builder.get(Text::Password).is_empty());
        let user = record.to_user();
        assert_eq!(user.status, Status::Active);
        assert_eq!(user.groups, ["Sales", "R&D"]);
        assert!(!format!("{user:?}").contains("Analytical"));
    }

    #[test]
    fn many_records_share_a_page() {
        let (page, records) = page_of(
            &test_names(),
            (0..100).map(|i| {
                let mut builder = RecordBuilder::default();
                builder.set(Text::Login, &format!("user{i}"));
                builder
            }),
        );
        assert_eq!(records[42].login(), "user42");
        assert!(records.iter().all(|r| !r.has_password() && r.password().is_none()));
        assert_eq!(records[42].row(), 44);
        assert_eq!(Arc::strong_count(&page), 101);
    }

    #[test]
    fn records_with_long_texts_keep_their_offsets_on_their_page() {
        let long = "x".repeat(300);
        let (page, records) = page_of(
            &test_names(),
            (0..6u64).map(|i| {
                let mut builder = RecordBuilder::default();
                builder.set(Text::Login, &format!("user{i}"));
                builder.set(Text::Password, "Secret#123");
                if i % 2 == 1 {
                    builder.set(Text::LastName, &long);
                    builder.extras.custom = vec![(6, CustomValue::Text(format!("note {i}")))];
                }
                builder.set(Text::Reference, &format!("ref{i}"));
                builder
            }),
        );
        assert_eq!(page.wide.len(), 3, "only the long records keep wide offsets");
        for (i, record) in records.iter().enumerate() {
            assert_eq!(record.login(), format!("user{i}"));
            assert_eq!(record.login_bytes(), record.login().as_bytes());
            assert_eq!(record.last_name(), if i % 2 == 1 { long.as_str() } else { "" });
            assert_eq!(record.reference(), Some(format!("ref{i}").as_str()));
            assert!(record.has_password());
            let notes: Vec<_> = record.custom().collect();
            if i % 2 == 1 {
                assert_eq!(notes, [("note", CustomValue::Text(format!("note {i}")))]);
            } else {
                assert!(notes.is_empty());
            }
        }
        assert_ne!(records[1], records[3]);
        assert_eq!(records[1], records[1].clone());
    }

    #[test]
    fn an_email_that_is_the_login_is_kept_once() {
        let long = format!("{}@example.com", "a".repeat(300));
        let pairs = [("ada@example.com", "ada@example.com"), ("grace", "grace@example.com"), (&long, &long)];
        let (_, records) = page_of(
            &test_names(),
            pairs.iter().map(|(login, email)| {
                let mut builder = RecordBuilder::default();
                builder.set(Text::Email, email);
                builder.copy(Text::Email, Text::Reference);
                builder.set(Text::Login, login);
                builder.set(Text::Superior, "boss");
                builder
            }),
        );
        for (record, &(login, email)) in records.iter().zip(&pairs) {
            assert_eq!((record.login(), record.email(), record.superior()), (login, Some(email), Some("boss")));
            assert_eq!(record.reference(), Some(email), "copy() copies");
            assert_eq!((record.login_bytes(), record.superior_bytes()), (login.as_bytes(), &b"boss"[..]));
        }
        // Login, reference and superior: the email is not written a second time.
        assert_eq!(records[0].all_text().len(), 2 * "ada@example.com".len() + "boss".len());
        assert_eq!(records[2].all_text().len(), 2 * long.len() + "boss".len());
        assert_ne!(records[2].flags & WIDE, 0);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(parse_iso_date("2023-02-29"), None);
        assert_eq!(parse_iso_date("2024-1-15"), None);
        assert_eq!(parse_iso_date("2024-01-1x"), None);
        assert_eq!(parse_iso_date("0000-01-01"), NaiveDate::from_ymd_opt(0, 1, 1));
        assert_eq!(parse_iso_date("9999-12-31"), NaiveDate::from_ymd_opt(9999, 12, 31));
        for wrong in ["2024/01/15", "2024-13-01", "2024-00-10", "2024-01-32", "+024-01-15", "2024-01-15 ", "２024-01-1"]
        {
            assert_eq!(parse_iso_date(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn the_separator_of_the_extras_in_a_value_is_a_space_not_an_entry() {
        let names = test_names();
        let mut builder = RecordBuilder::default();
        builder.set(Text::Login, "ada");
        builder.extras.groups = vec!["Sales\u{1e}gEvil".into(), "Ops".into()];
        builder.extras.products = vec![(1, ProductAccess::Role(Role::new("Re\u{1e}c")))];
        builder.extras.custom = vec![(6, CustomValue::Text("a\u{1e}c3b1".into()))];
        let (_, records) = page_of(&names, [builder]);
        let record = &records[0];
        assert_eq!(record.groups().collect::<Vec<_>>(), ["Sales gEvil", "Ops"]);
        assert_eq!(record.products().collect::<Vec<_>>(), [("hire", ProductAccess::Role(Role::new("Re c")))]);
        assert_eq!(record.custom().collect::<Vec<_>>(), [("note", CustomValue::Text("a c3b1".into()))]);
    }

    #[test]
    fn extras_round_trip_at_the_edges_of_their_encoding() {
        let dates = [
            NaiveDate::MIN,
            NaiveDate::from_ymd_opt(-1, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(7, 3, 9).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::MAX,
        ];
        let names = names_of((0..120).map(|i| format!("field{i:03}")));
        let mut builders = Vec::new();
        let mut written = Vec::new();
        for (k, date) in dates.iter().enumerate() {
            let mut builder = RecordBuilder::default();
            builder.set(Text::Login, "ada");
            // Indexes of one, two and three digits; values that start with digits and signs.
            let custom = vec![
                (7, CustomValue::Date(*date)),
                (42, CustomValue::Number(-12.5)),
                (100 + k as u32, CustomValue::Text("2024 plans".into())),
                (11, CustomValue::Number(7.0)),
            ];
            builder.extras.custom = custom.clone();
            builder.extras.products = vec![(3, ProductAccess::Role(Role::new("9 lives"))), (5, ProductAccess::None)];
            builder.extras.groups = vec!["42".into(), "".into()];
            builders.push(builder);
            written.push(custom);
        }
        let (_, records) = page_of(&names, builders);
        for (record, mut custom) in records.into_iter().zip(written) {
            custom.sort_by(|a, b| names[a.0 as usize].cmp(&names[b.0 as usize]));
            let expected: Vec<(&str, CustomValue)> =
                custom.into_iter().map(|(i, v)| (&*names[i as usize], v)).collect();
            assert_eq!(record.custom().collect::<Vec<_>>(), expected);
            assert_eq!(
                record.products().collect::<Vec<_>>(),
                [("field003", ProductAccess::Role(Role::new("9 lives"))), ("field005", ProductAccess::None)]
            );
            assert_eq!(record.groups().collect::<Vec<_>>(), ["42", ""]);
        }
    }

    /// One record as written: its texts and extras (before the builder sorts them).
    #[derive(Clone, Debug)]
    struct Written {
        /// Eight texts; in half the records the email is the login, as in a file without a
        /// login column.
        texts: Vec<String>,
        groups: Vec<String>,
        products: Vec<(u32, ProductAccess)>,
        custom: Vec<(u32, CustomValue)>,
    }

    fn written() -> impl proptest::strategy::Strategy<Value = Written> {
        use proptest::prelude::*;
        // Fixed texts may hold anything (their offsets delimit them). A record has short texts,
        // as most have, or long ones of any characters, so that short and wide offsets mix on a
        // page; extras never hold the entry separator (the validate stage turns control
        // characters into spaces).
        let short = proptest::string::string_regex("[a-zA-Z0-9 .@#-]{0,12}").unwrap_or_else(|_| unreachable!());
        let long = proptest::string::string_regex("(.|\\n){0,90}").unwrap_or_else(|_| unreachable!());
        let texts = prop_oneof![proptest::collection::vec(short, TEXTS), proptest::collection::vec(long, TEXTS)];
        let extra = || proptest::string::string_regex("[^\\x1e]{0,20}").unwrap_or_else(|_| unreachable!());
        let access = prop_oneof![
            Just(ProductAccess::None),
            Just(ProductAccess::Granted),
            extra().prop_map(|role| ProductAccess::Role(Role::new(role))),
        ];
        let days = NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce();
        let value = prop_oneof![
            any::<bool>().prop_map(CustomValue::Bool),
            any::<f64>().prop_filter("a number", |n| n.is_finite()).prop_map(CustomValue::Number),
            days.prop_filter_map("a date", |d| NaiveDate::from_num_days_from_ce_opt(d).map(CustomValue::Date)),
            extra().prop_map(CustomValue::Text),
        ];
        (
            (texts, any::<bool>()).prop_map(|(mut texts, same)| {
                if same {
                    texts[Text::Email as usize] = texts[Text::Login as usize].clone();
                }
                texts
            }),
            proptest::collection::vec(extra(), 0..3),
            proptest::collection::btree_map(0u32..40, access, 0..3),
            proptest::collection::btree_map(0u32..40, value, 0..4),
        )
            .prop_map(|(texts, groups, products, custom)| Written {
                texts,
                groups,
                products: products.into_iter().collect(),
                custom: custom.into_iter().collect(),
            })
    }

    const FIELDS: [Text; TEXTS] = [
        Text::FirstName,
        Text::LastName,
        Text::Login,
        Text::Email,
        Text::Password,
        Text::Superior,
        Text::Reference,
        Text::Mirror,
    ];

    proptest::proptest! {
        /// Whatever a page holds, every record reads back what was written, short offsets or
        /// wide.
        #[test]
        fn records_read_back_what_was_written(records in proptest::collection::vec(written(), 1..12)) {
            let names = names_of((0..40).map(|i| format!("name{}", 39 - i)));
            let builders = records.iter().map(|record| {
                let mut builder = RecordBuilder::default();
                for (field, text) in FIELDS.iter().zip(&record.texts) {
                    builder.set(*field, text);
                }
                builder.extras.groups.clone_from(&record.groups);
                builder.extras.products.clone_from(&record.products);
                builder.extras.custom.clone_from(&record.custom);
                builder
            });
            let (_, read_back) = page_of(&names, builders);
            for (k, (read, record)) in read_back.iter().zip(&records).enumerate() {
                proptest::prop_assert_eq!(read.row(), k as u64 + 2);
                // Wide offsets exactly when one byte cannot hold them.
                proptest::prop_assert_eq!(read.flags & WIDE != 0, read.all_text().len() > 255);
                let texts: Vec<&str> = FIELDS.iter().map(|&field| read.text(field)).collect();
                proptest::prop_assert_eq!(&texts, &record.texts);
                proptest::prop_assert_eq!(read.groups().collect::<Vec<_>>(), record.groups.iter().map(String::as_str).collect::<Vec<_>>());
                let by_name = |i: u32| &*names[i as usize];
                let mut products: Vec<(&str, ProductAccess)> = record.products.iter().map(|(i, a)| (by_name(*i), a.clone())).collect();
                products.sort_by(|a, b| a.0.cmp(b.0));
                proptest::prop_assert_eq!(read.products().collect::<Vec<_>>(), products);
                let mut custom: Vec<(&str, CustomValue)> = record.custom.iter().map(|(i, v)| (by_name(*i), v.clone())).collect();
                custom.sort_by(|a, b| a.0.cmp(b.0));
                proptest::prop_assert_eq!(read.custom().collect::<Vec<_>>(), custom);
            }
        }
    }
}
