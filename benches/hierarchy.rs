//! Hierarchy-stage throughput against the floor of any linear solution, in the same group.
//!
//! Input (deterministic, generated at bench time): 1,000,000 users in a random forest, written in
//! a random order (so about half of the superiors come after their subordinates), about 10% roots, 3%
//! with a superior in the directory, 1% with the superior written in capitals and 0.4% with a
//! superior that exists nowhere; plus one 200,000-deep chain written subordinates first. The
//! strings are allocated in file order, as the earlier stages would allocate them.
//!
//! * Baseline: building a `HashMap<&str, usize>` of the same 1.2M logins, already normalised —
//!   one pass that any linear resolution must at least make.
//! * Ours: `resolve_hierarchy` over the 1.2M users (the directory is a `HashSet` lookup).
//!
//! The ratio of the two lines is the figure that counts. Run with `cargo bench --bench hierarchy`.

#[path = "support/data.rs"]
mod data;

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use data::SplitMix;
use user_import::{login_key, resolve_hierarchy, HierarchyInput};

const FOREST: usize = 1_000_000;
const CHAIN: usize = 200_000;
const DIRECTORY: u64 = 1_000;

/// Logins and superiors, in file order.
struct Users {
    logins: Vec<String>,
    superiors: Vec<String>,
    directory: HashSet<String>,
}

/// A superior, by creation index of the forest.
enum Boss {
    Nobody,
    User(u64),
    UserInCapitals(u64),
    Directory(u64),
    Missing,
}

fn generate() -> Users {
    let mut rng = SplitMix::new(0x41E2_A2C4);
    // The forest in creation order: each user's superior comes earlier, or is nobody.
    let mut forest: Vec<(u64, Boss)> = (0..FOREST as u64)
        .map(|i| {
            let boss = match rng.below(1000) {
                _ if i == 0 => Boss::Nobody,
                0..100 => Boss::Nobody,
                100..130 => Boss::Directory(rng.below(DIRECTORY)),
                130..140 => Boss::UserInCapitals(rng.below(i)),
                140..144 => Boss::Missing,
                _ => Boss::User(rng.below(i)),
            };
            (i, boss)
        })
        .collect();
    // Written in a random order (Fisher–Yates); the strings are made in file order, as a parse
    // stage would allocate them.
    for i in (1..forest.len()).rev() {
        forest.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let top = rng.below(FOREST as u64);
    let mut logins = Vec::with_capacity(FOREST + CHAIN);
    let mut superiors = Vec::with_capacity(FOREST + CHAIN);
    for (i, boss) in forest {
        logins.push(format!("user{i:07}"));
        superiors.push(match boss {
            Boss::Nobody => String::new(),
            Boss::User(j) => format!("user{j:07}"),
            Boss::UserInCapitals(j) => format!("USER{j:07}"),
            Boss::Directory(k) => format!("dir{k:04}"),
            Boss::Missing => "nobody.here".to_string(),
        });
    }
    // The deep chain, subordinates first: chain199999 → … → chain000000 → a user of the forest.
    for j in (0..CHAIN).rev() {
        logins.push(format!("chain{j:06}"));
        superiors.push(if j == 0 { format!("user{top:07}") } else { format!("chain{:06}", j - 1) });
    }
    let directory = (0..DIRECTORY).map(|k| format!("dir{k:04}")).collect();
    Users { logins, superiors, directory }
}

fn hierarchy(c: &mut Criterion) {
    let users = generate();
    let input: Vec<HierarchyInput<'_>> = users
        .logins
        .iter()
        .zip(&users.superiors)
        .zip(2..)
        .map(|((login, superior), row)| HierarchyInput::new(row, login, Some(superior)))
        .collect();
    // The generated logins are already keys: the baseline hashes the very strings the stage reads.
    assert!(users.logins.iter().all(|login| *login == login_key(login)));
    let exists = |login: &str| users.directory.contains(login);

    let summary = resolve_hierarchy(&input, exists);
    eprintln!(
        "{} users: {} ordered, {} issues, {} blocked",
        input.len(),
        summary.order.len(),
        summary.issues.len(),
        summary.blocked().count()
    );

    let mut group = c.benchmark_group("hierarchy_1m_forest_200k_chain");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(input.len() as u64));
    group.bench_function("baseline HashMap of the logins", |b| {
        b.iter(|| {
            let mut map: HashMap<&str, usize> = HashMap::with_capacity(input.len());
            for (index, user) in input.iter().enumerate() {
                map.entry(user.login).or_insert(index);
            }
            black_box(map.len())
        })
    });
    group.bench_function("resolve_hierarchy", |b| {
        b.iter(|| {
            let hierarchy = resolve_hierarchy(black_box(&input), exists);
            black_box(hierarchy.order.len())
        })
    });
    group.finish();
}

criterion_group!(benches, hierarchy);
criterion_main!(benches);
