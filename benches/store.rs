//! The SQLite store's write throughput against raw rusqlite, and password hashing on all cores.
//!
//! Input (deterministic, generated at bench time): 100,000 new users without passwords, as an
//! import writes them: email, status, time zone, reference, 1–2 roles of 5, a group of 20, access
//! to 1–2 products of 3 (a role or plain access), a custom value for half of them, and a superior
//! among the earlier users for 90% of them.
//!
//! * `store_insert_100k` — each iteration writes into a new FILE database (WAL,
//!   `synchronous=NORMAL`, one transaction); opening it is not timed, begin to commit is.
//!   - Baseline: raw rusqlite, one prepared INSERT per user into a single table holding the same
//!     values (lists joined as text, the superior as its login), unique login and email keys.
//!   - Ours: `SqliteStore::create_users` in calls of 1,000 users: users, roles, groups, product
//!     access and custom values in their own tables, superiors resolved by login.
//! * `hash_passwords_200` — 200 passwords with the default argon2id parameters (m=19 MiB, t=2,
//!   p=1): `hash_passwords` on all cores, against the same passwords hashed one call at a time
//!   (one core).
//!
//! Run with `cargo bench --features sqlite --bench store`.

#[path = "support/data.rs"]
mod data;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use data::SplitMix;
use user_import::{
    hash_passwords, login_key, Argon2Params, CustomValue, ProductAccess, Role, SqliteStore, Status, User, UserStore,
};

const USERS: usize = 100_000;
const BATCH: usize = 1_000;
const PASSWORDS: usize = 200;

fn generate() -> Vec<User> {
    let mut rng = SplitMix::new(0x5704_E5EE);
    let roles = ["Viewer", "Editor", "Manager", "Admin", "Auditor"].map(Role::new);
    let zones = [chrono_tz::Europe::Paris, chrono_tz::America::New_York, chrono_tz::Asia::Tokyo, chrono_tz::UTC];
    let products = ["hire", "perform", "learn"];
    (0..USERS)
        .map(|i| {
            let mut user = User::new(format!("user{i:06}"), format!("First{}", rng.below(5_000)), format!("Last{i}"));
            user.email = Some(format!("user{i:06}@example.com"));
            user.status = if rng.below(10) == 0 { Status::Pending } else { Status::Active };
            user.timezone = Some(zones[rng.below(zones.len() as u64) as usize]);
            user.reference = Some(format!("E{:07}", 1_000_000 + i));
            user.roles.push(roles[rng.below(5) as usize].clone());
            if rng.below(4) == 0 {
                let extra = roles[rng.below(5) as usize].clone();
                if !user.roles.contains(&extra) {
                    user.roles.push(extra);
                }
            }
            user.groups.push(format!("Team {:02}", rng.below(20)));
            for product in products {
                match rng.below(3) {
                    0 => {}
                    1 => drop(user.products.insert(product.into(), ProductAccess::Granted)),
                    _ => drop(user.products.insert(product.into(), ProductAccess::Role(Role::new("Member")))),
                }
            }
            if rng.below(2) == 0 {
                user.custom.insert("department".into(), CustomValue::Text(format!("Dept {}", rng.below(40))));
            }
            if i > 0 && rng.below(10) != 0 {
                user.superior = Some(format!("user{:06}", rng.below(i as u64)));
            }
            user
        })
        .collect()
}

fn open_raw(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;
         CREATE TABLE users (
             id INTEGER PRIMARY KEY, login TEXT NOT NULL, login_key TEXT NOT NULL UNIQUE, first_name TEXT NOT NULL,
             last_name TEXT NOT NULL, email TEXT, email_key TEXT UNIQUE, password_hash TEXT, status TEXT NOT NULL,
             hq_role TEXT, timezone TEXT, reference TEXT, superior TEXT, roles TEXT, groups TEXT, products TEXT,
             custom TEXT, created_at TEXT NOT NULL
         );",
    )
    .unwrap();
    conn
}

fn raw_insert(conn: &rusqlite::Connection, users: &[User]) {
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    {
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO users (login, login_key, first_name, last_name, email, email_key, password_hash, status, \
                 hq_role, timezone, reference, superior, roles, groups, products, custom, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, NULL, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .unwrap();
        let now = "2024-01-15T10:00:00.000000000Z";
        let mut roles = String::new();
        let mut products = String::new();
        let mut custom = String::new();
        for user in users {
            roles.clear();
            for role in &user.roles {
                roles.push_str(role.name());
                roles.push(';');
            }
            products.clear();
            for (product, access) in &user.products {
                products.push_str(product);
                products.push('=');
                if let ProductAccess::Role(role) = access {
                    products.push_str(role.name());
                }
                products.push(';');
            }
            custom.clear();
            for (name, value) in &user.custom {
                custom.push_str(name);
                custom.push('=');
                custom.push_str(&value.to_string());
            }
            insert
                .execute(rusqlite::params![
                    user.login,
                    login_key(&user.login),
                    user.first_name,
                    user.last_name,
                    user.email,
                    user.email.as_deref().map(login_key),
                    user.status.as_str(),
                    user.timezone.map(|tz| tz.name()),
                    user.reference,
                    user.superior,
                    roles,
                    user.groups.join(";"),
                    products,
                    custom,
                    now,
                ])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn store_insert(store: &mut SqliteStore, users: &[User]) {
    store.begin().unwrap();
    for batch in users.chunks(BATCH) {
        store.create_users(batch).unwrap();
    }
    store.commit().unwrap();
}

/// Times `write` on a fresh database file per iteration; creating and closing it is not timed.
fn timed_on_fresh_files<T>(iterations: u64, open: impl Fn(&Path) -> T, write: impl Fn(&mut T)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir.path().join("users.db"));
        let started = Instant::now();
        write(&mut db);
        total += started.elapsed();
        drop(db);
    }
    total
}

fn insert(c: &mut Criterion) {
    let users = generate();
    {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("users.db")).unwrap();
        store_insert(&mut store, &users);
        let stored = store.count().unwrap();
        let size = std::fs::metadata(dir.path().join("users.db")).map_or(0, |m| m.len())
            + std::fs::metadata(dir.path().join("users.db-wal")).map_or(0, |m| m.len());
        eprintln!("{stored} users stored, {:.1} MB on disk before the checkpoint", size as f64 / 1e6);
    }

    let mut group = c.benchmark_group("store_insert_100k");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(USERS as u64));
    group.bench_function("baseline raw rusqlite, one table", |b| {
        b.iter_custom(|iterations| timed_on_fresh_files(iterations, open_raw, |conn| raw_insert(conn, &users)))
    });
    group.bench_function("SqliteStore::create_users", |b| {
        b.iter_custom(|iterations| {
            timed_on_fresh_files(
                iterations,
                |path| SqliteStore::open(path).unwrap(),
                |store| store_insert(store, &users),
            )
        })
    });
    // The whole apply stage: a plan of the generated users CSV (no password column, ~2% of the
    // rows failing, a superior forest), applied "continue as is" to a fresh file.
    let mut config = data::bench_config();
    config.options.mapping.insert("Password".into(), "ignore".into());
    let importer = user_import::Importer::new(config);
    let csv = data::users_csv(USERS as u64);
    let plan_dir = tempfile::tempdir().unwrap();
    let empty = SqliteStore::open(plan_dir.path().join("empty.db")).unwrap();
    let plan = importer.plan_bytes(csv, &empty).unwrap();
    let mut options = user_import::ApplyOptions::default();
    options.policy = user_import::ErrorPolicy::ContinueAsIs;
    eprintln!("plan: {:?}", plan.summary());
    group.bench_function("apply (plan of the users CSV)", |b| {
        b.iter_custom(|iterations| {
            timed_on_fresh_files(
                iterations,
                |path| SqliteStore::open(path).unwrap(),
                |store| {
                    black_box(user_import::apply(&plan, store, &options).unwrap());
                },
            )
        })
    });
    group.finish();
}

fn passwords(c: &mut Criterion) {
    let mut users: Vec<User> = generate().into_iter().take(PASSWORDS).collect();
    for (i, user) in users.iter_mut().enumerate() {
        user.password = Some(user_import::Password::new(format!("Correct-Horse-{i}")));
    }
    let params = Argon2Params::default();
    eprintln!("{} cores available", std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));

    let mut group = c.benchmark_group("hash_passwords_200");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(PASSWORDS as u64));
    group.bench_function("one at a time (one core)", |b| {
        b.iter_batched(
            || users.clone(),
            |mut batch| {
                for user in batch.chunks_mut(1) {
                    hash_passwords(user, &params).unwrap();
                }
                black_box(batch)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("hash_passwords (all cores)", |b| {
        b.iter_batched(
            || users.clone(),
            |mut batch| {
                hash_passwords(&mut batch, &params).unwrap();
                black_box(batch)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, insert, passwords);
criterion_main!(benches);
