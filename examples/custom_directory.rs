//! `custom_directory`: the host's own existing users as a `Directory`.
//!
//! ```text
//! cargo run --example custom_directory
//! ```
//!
//! A host keeps its users somewhere of its own (here: a map standing in for an HR system or a
//! database). Implementing `Directory` — two batched lookups — is all the import needs to find
//! existing users: rows for them become updates (with a diff), a new user whose email an existing
//! user already has is refused, and a superior may be an existing user.

use std::collections::HashMap;

use user_import::{Directory, ImportConfig, Importer, Plan, Result, User};

/// The host's users, by lowercased login. Lookups are batched: one call per few hundred rows.
struct HrSystem {
    users: HashMap<String, User>,
    calls: std::cell::Cell<usize>,
}

impl HrSystem {
    fn new(users: Vec<User>) -> Self {
        HrSystem { users: users.into_iter().map(|u| (u.login_key(), u)).collect(), calls: Default::default() }
    }
}

impl Directory for HrSystem {
    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        self.calls.set(self.calls.get() + 1);
        Ok(logins.iter().filter_map(|l| self.users.get(&l.trim().to_lowercase()).cloned()).collect())
    }

    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        self.calls.set(self.calls.get() + 1);
        let wanted: Vec<String> = emails.iter().map(|e| e.trim().to_lowercase()).collect();
        Ok(self
            .users
            .values()
            .filter(|u| u.email.as_deref().is_some_and(|e| wanted.contains(&e.to_lowercase())))
            .cloned()
            .collect())
    }
}

fn main() -> Result<()> {
    let mut ada = User::new("alovelace", "Ada", "Byron");
    ada.email = Some("ada@example.com".into());
    let mut boss = User::new("ceo", "Charles", "Babbage");
    boss.email = Some("charles@example.com".into());
    let hr = HrSystem::new(vec![ada, boss]);

    let importer = Importer::new(ImportConfig::from_path("examples/configs/cmo.toml")?);
    let csv = "First Name,Last Name,Login Name,Password,Roles,Superior User,Email\n\
               Ada,Lovelace,alovelace,Analytical#1843,Administrator,ceo,ada@example.com\n\
               Grace,Hopper,ghopper,Compiler#1952,Attorney,alovelace,grace@example.com\n\
               Mallory,M,mallory,Intruder#2024,Attorney,ceo,charles@example.com\n";
    let validation = importer.validate_bytes(csv, &hr)?;
    let plan = Plan::new(validation, importer.config(), &hr)?;
    for row in plan.rows() {
        println!("row {}: {} {}", row.row, row.action, row.login.unwrap_or_default());
        for change in &row.changes {
            println!("    {}: '{}' -> '{}'", change.field, change.old, change.new);
        }
    }
    for issue in plan.issues() {
        println!("[{}] {issue}", issue.code);
    }
    println!("{} batched directory calls for {} rows", hr.calls.get(), plan.summary().rows);
    Ok(())
}
