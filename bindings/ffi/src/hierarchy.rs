//! The hierarchy stage on its own: superiors resolved, cycles and dangling references flagged,
//! a creation order with every superior before its subordinates.

use user_import as core;

use crate::records::Issue;

/// One user as the hierarchy stage sees it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HierarchyRow {
    /// The row number as a person sees it (it goes into the issues).
    pub row: u64,
    /// The user's login.
    pub login: String,
    /// The superior's login, if any.
    #[uniffi(default = None)]
    pub superior: Option<String>,
}

/// How a user's superior resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum SuperiorLink {
    /// No superior: the user is a root.
    NoSuperior,
    /// Another user of the input.
    InFile {
        /// Index of the superior in the input.
        index: u64,
        /// The superior's row number.
        row: u64,
    },
    /// An existing user (and no user of the input has that login).
    Existing,
    /// Neither in the input nor existing, or the user themselves.
    Unresolved,
}

/// Where a user ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Placement {
    /// In the creation order, after every superior it has in the input.
    Ordered,
    /// Not in the order: the user has an issue of this stage.
    Flagged,
    /// Not in the order: the chain of superiors leads to the flagged user at input index `by`.
    Blocked {
        /// Index of the flagged user in the input.
        by: u64,
    },
}

/// The resolved hierarchy: one entry per input user, by input index.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HierarchyResult {
    /// Input indices in creation order (every superior before its subordinates).
    pub order: Vec<u64>,
    /// Each input user's superior.
    pub superiors: Vec<SuperiorLink>,
    /// Each input user's placement.
    pub placements: Vec<Placement>,
    /// `self_reference`, `superior_not_found` and `hierarchy_cycle` issues, by row.
    pub issues: Vec<Issue>,
}

/// Resolves the hierarchy of these users; `existing_logins` are the logins of existing users a
/// superior may name. Deep chains (100,000 levels) are fine: nothing here recurses.
#[uniffi::export]
pub fn resolve_hierarchy(rows: Vec<HierarchyRow>, existing_logins: Vec<String>) -> HierarchyResult {
    let existing: std::collections::HashSet<String> = existing_logins.iter().map(|l| core::login_key(l)).collect();
    let inputs: Vec<core::HierarchyInput<'_>> =
        rows.iter().map(|r| core::HierarchyInput::new(r.row, &r.login, r.superior.as_deref())).collect();
    let hierarchy = core::resolve_hierarchy(&inputs, |key| existing.contains(key));
    HierarchyResult {
        order: hierarchy.order.iter().map(|&i| i as u64).collect(),
        superiors: hierarchy
            .superiors
            .iter()
            .map(|s| match s {
                core::Superior::None => SuperiorLink::NoSuperior,
                core::Superior::InFile { index, row } => SuperiorLink::InFile { index: *index as u64, row: *row },
                core::Superior::Directory => SuperiorLink::Existing,
                _ => SuperiorLink::Unresolved,
            })
            .collect(),
        placements: hierarchy
            .placements
            .iter()
            .map(|p| match p {
                core::Placement::Ordered => Placement::Ordered,
                core::Placement::Blocked { by } => Placement::Blocked { by: *by as u64 },
                _ => Placement::Flagged,
            })
            .collect(),
        issues: hierarchy.issues.iter().map(Issue::from).collect(),
    }
}
