//! The hierarchy stage: deep chains on the default stack, and its invariants over random forests
//! with injected cycles, self-references, dangling superiors and duplicate logins, checked against
//! a naive model.

use std::collections::HashSet;

use proptest::prelude::*;
use user_import::{login_key, resolve_hierarchy, Hierarchy, HierarchyInput, IssueCode, Placement, Superior};

const DEEP: usize = 200_000;

fn nobody(_: &str) -> bool {
    false
}

/// Users `u0 … u{n-1}` on rows 2…, each with the superior `superior(i)` names.
fn users<'a>(logins: &'a [String], superior: impl Fn(usize) -> Option<usize>) -> Vec<HierarchyInput<'a>> {
    (0..logins.len())
        .map(|i| HierarchyInput::new(i as u64 + 2, &logins[i], superior(i).map(|s| logins[s].as_str())))
        .collect()
}

fn logins(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("u{i}")).collect()
}

/// Every input index is in the order once, or placed otherwise; superiors from the file first.
fn assert_order_respects_superiors(hierarchy: &Hierarchy) {
    let mut position = vec![None; hierarchy.superiors.len()];
    for (at, &index) in hierarchy.order.iter().enumerate() {
        assert_eq!(position[index], None, "index {index} is twice in the order");
        position[index] = Some(at);
    }
    for (index, placement) in hierarchy.placements.iter().enumerate() {
        assert_eq!(position[index].is_some(), *placement == Placement::Ordered, "index {index}: {placement:?}");
    }
    for &index in &hierarchy.order {
        if let Superior::InFile { index: superior, .. } = hierarchy.superiors[index] {
            assert!(position[superior] < position[index], "superior {superior} must come before {index}");
        }
    }
}

#[test]
fn a_200k_deep_chain_written_superiors_first_resolves_on_the_default_stack() {
    let logins = logins(DEEP);
    let users = users(&logins, |i| i.checked_sub(1));
    let hierarchy = resolve_hierarchy(&users, nobody);
    assert!(hierarchy.issues.is_empty());
    assert!(hierarchy.order.iter().copied().eq(0..DEEP));
    assert_order_respects_superiors(&hierarchy);
}

#[test]
fn a_200k_deep_chain_written_subordinates_first_resolves_on_the_default_stack() {
    let logins = logins(DEEP);
    let users = users(&logins, |i| (i + 1 < DEEP).then_some(i + 1));
    let hierarchy = resolve_hierarchy(&users, nobody);
    assert!(hierarchy.issues.is_empty());
    assert!(hierarchy.order.iter().copied().eq((0..DEEP).rev()));
    assert_order_respects_superiors(&hierarchy);
}

#[test]
fn a_200k_long_cycle_is_flagged_on_every_row_with_short_messages() {
    let logins = logins(DEEP);
    let users = users(&logins, |i| Some((i + 1) % DEEP));
    let hierarchy = resolve_hierarchy(&users, nobody);
    assert!(hierarchy.order.is_empty());
    assert_eq!(hierarchy.issues.len(), DEEP);
    assert!(hierarchy.issues.iter().all(|issue| issue.code == IssueCode::HierarchyCycle));
    assert_eq!(
        hierarchy.issues[7].message,
        "the superiors form a cycle of 200000 users: u7 → u8 → u9 → u10 → … → u6 → u7"
    );
}

#[test]
fn a_200k_deep_chain_below_a_missing_superior_is_blocked_by_its_top() {
    let logins = logins(DEEP);
    let mut users = users(&logins, |i| (i + 1 < DEEP).then_some(i + 1));
    users[DEEP - 1].superior = Some("ghost");
    let hierarchy = resolve_hierarchy(&users, nobody);
    assert_eq!(hierarchy.issues.len(), 1);
    assert_eq!(hierarchy.issues[0].code, IssueCode::SuperiorNotFound);
    assert_eq!(hierarchy.placements[DEEP - 1], Placement::Flagged);
    assert_eq!(hierarchy.blocked().count(), DEEP - 1);
    assert!(hierarchy.blocked().all(|(_, by)| by == DEEP - 1));
}

/// How a generated user names a superior.
fn superior_written(roll: u8, i: usize, pick: usize, style: u8, logins: &[String], ranked: &[usize]) -> Option<String> {
    let n = logins.len();
    let rank = ranked.iter().position(|&r| r == i).unwrap_or(0);
    match roll {
        0..5 => None,
        5..10 => Some(String::new()),
        10..15 => Some("  ".into()),
        // A forest: the superior ranks before the user in a random ranking, wherever it is in the file.
        15..65 if rank > 0 => Some(restyle(logins[ranked[pick % rank]].trim(), style)),
        15..65 => None,
        // Anyone, the user included: cycles of any length.
        65..75 => Some(restyle(logins[pick % n].trim(), style)),
        75..82 => Some(restyle(logins[i].trim(), style)),
        82..90 => Some(format!("Dir{}", pick % 3)),
        _ => Some(format!("ghost{}", pick % 3)),
    }
}

fn restyle(login: &str, style: u8) -> String {
    match style {
        0 => login.to_string(),
        1 => login.to_uppercase(),
        2 => format!("  {login} "),
        _ => login.chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c }).collect(),
    }
}

/// Logins and superiors built from a random specification: one tuple per user, then cycles
/// injected as `(start, length)` over consecutive users of the random ranking.
fn build(spec: &[(u8, u32, u32, u32, u8)], cycles: &[(u32, usize)]) -> (Vec<String>, Vec<Option<String>>) {
    let mut ranked: Vec<usize> = (0..spec.len()).collect();
    ranked.sort_by_key(|&i| spec[i].1);
    let mut logins: Vec<String> = Vec::new();
    for (i, &(_, _, _, duplicate, style)) in spec.iter().enumerate() {
        let login = if i > 0 && duplicate % 8 == 0 {
            restyle(logins[duplicate as usize % i].trim(), style) // the same login again
        } else {
            restyle(&format!("u{i}"), style)
        };
        logins.push(login);
    }
    let mut superiors: Vec<_> = spec
        .iter()
        .enumerate()
        .map(|(i, &(roll, _, pick, _, style))| superior_written(roll, i, pick as usize, style, &logins, &ranked))
        .collect();
    let n = spec.len();
    for &(start, len) in cycles.iter().filter(|_| n > 0) {
        let len = len.min(n);
        for step in 0..len {
            let (user, superior) =
                (ranked[(start as usize + step) % n], ranked[(start as usize + (step + 1) % len) % n]);
            superiors[user] = Some(logins[superior].trim().to_string());
        }
    }
    (logins, superiors)
}

/// What a superior names, in a naive model of the rules.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Named {
    Root,
    User(usize),
    Directory,
    Own,
    Nobody,
}

fn model(logins: &[String], superiors: &[Option<String>]) -> Vec<Named> {
    let first = |key: &str| logins.iter().position(|login| login_key(login) == key);
    logins
        .iter()
        .zip(superiors)
        .map(|(login, superior)| {
            let key = login_key(superior.as_deref().unwrap_or(""));
            if key.is_empty() {
                Named::Root
            } else if key == login_key(login) {
                Named::Own
            } else if let Some(j) = first(&key) {
                Named::User(j)
            } else if key.starts_with("dir") {
                Named::Directory
            } else {
                Named::Nobody
            }
        })
        .collect()
}

/// The chain of superiors from `i` (i included), stopping before it repeats.
fn chain(named: &[Named], i: usize) -> Vec<usize> {
    let mut chain = vec![i];
    while let Named::User(j) = named[*chain.last().unwrap()] {
        if chain.contains(&j) {
            break;
        }
        chain.push(j);
    }
    chain
}

fn in_cycle(named: &[Named], i: usize) -> bool {
    let chain = chain(named, i);
    named[*chain.last().unwrap()] == Named::User(i)
}

fn is_flagged(named: &[Named], i: usize) -> bool {
    matches!(named[i], Named::Own | Named::Nobody) || in_cycle(named, i)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn the_hierarchy_matches_a_naive_model(
        spec in proptest::collection::vec((0u8..100, any::<u32>(), any::<u32>(), any::<u32>(), 0u8..4), 0..40),
        cycles in proptest::collection::vec((any::<u32>(), 1usize..12), 0..3),
    ) {
        let (logins, superiors) = build(&spec, &cycles);
        let users: Vec<_> = logins
            .iter()
            .zip(&superiors)
            .enumerate()
            .map(|(i, (login, superior))| HierarchyInput::new(i as u64 + 2, login, superior.as_deref()))
            .collect();
        let mut asked = Vec::new();
        let hierarchy = resolve_hierarchy(&users, |key| {
            asked.push(key.to_string());
            key.starts_with("dir")
        });
        let named = model(&logins, &superiors);

        // `exists` gets keys, each at most once.
        prop_assert!(asked.iter().all(|key| *key == login_key(key)), "{asked:?}");
        prop_assert_eq!(asked.iter().collect::<HashSet<_>>().len(), asked.len());

        // Superiors resolve as the model says.
        for (i, &name) in named.iter().enumerate() {
            let expected = match name {
                Named::Root => Superior::None,
                Named::User(j) => Superior::InFile { index: j, row: j as u64 + 2 },
                Named::Directory => Superior::Directory,
                Named::Own | Named::Nobody => Superior::Unresolved,
            };
            prop_assert_eq!(hierarchy.superiors[i], expected, "user {}", i);
        }

        // Issues: sorted by row; exactly the self-references, dangling superiors and cycle members.
        prop_assert!(hierarchy.issues.windows(2).all(|w| w[0].row <= w[1].row));
        for (i, &name) in named.iter().enumerate() {
            let row = i as u64 + 2;
            let found: Vec<_> = hierarchy.issues.iter().filter(|issue| issue.row == Some(row)).collect();
            let expected = match name {
                Named::Own => Some(IssueCode::SelfReference),
                Named::Nobody => Some(IssueCode::SuperiorNotFound),
                _ if in_cycle(&named, i) => Some(IssueCode::HierarchyCycle),
                _ => None,
            };
            prop_assert_eq!(found.iter().map(|issue| issue.code.clone()).collect::<Vec<_>>(), Vec::from_iter(expected.clone()), "row {}", row);
            if let Some(issue) = found.first() {
                prop_assert_eq!(issue.field.as_deref(), Some("superior"));
                prop_assert_eq!(issue.value.as_deref(), superiors[i].as_deref());
            }
            if expected == Some(IssueCode::HierarchyCycle) {
                let cycle: Vec<&str> = chain(&named, i).into_iter().map(|j| logins[j].trim()).collect();
                let message = if cycle.len() <= 8 {
                    format!("the superiors form a cycle: {} → {}", cycle.join(" → "), cycle[0])
                } else {
                    let (len, last) = (cycle.len(), cycle[cycle.len() - 1]);
                    format!("the superiors form a cycle of {len} users: {} → … → {last} → {}", cycle[..4].join(" → "), cycle[0])
                };
                prop_assert_eq!(&found[0].message, &message);
            }
        }

        // Placements: in the order, flagged, or blocked by the first flagged user up the chain.
        for (i, &placement) in hierarchy.placements.iter().enumerate() {
            let expected = if is_flagged(&named, i) {
                Placement::Flagged
            } else {
                match chain(&named, i).into_iter().find(|&j| is_flagged(&named, j)) {
                    Some(by) => Placement::Blocked { by },
                    None => Placement::Ordered,
                }
            };
            prop_assert_eq!(placement, expected, "user {}", i);
        }
        assert_order_respects_superiors(&hierarchy);
    }
}
