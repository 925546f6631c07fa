//! `pizza-db grant` and `revoke`: the only way to make the first admin. A role goes
//! to a member who registered as anyone does; nothing is granted to an unknown member
//! or branch, and granting twice changes nothing.

mod common;

use common::{DJANGO_SCHEMA, Database, migrations_dir};
use std::process::Command;

/// Runs `pizza-db` expecting failure; its one-line stderr.
fn refused(db: &Database, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pizza-db"))
        .arg("--url")
        .arg(&db.url)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run pizza-db");
    assert_eq!(out.status.code(), Some(1), "{args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn roles_are_granted_to_registered_members_only() {
    let db = Database::with(DJANGO_SCHEMA);
    pizza_db::migrate(&mut db.client(), &migrations_dir()).unwrap();
    let roles = || {
        db.psql(
            "SELECT coalesce(string_agg(member_id || ':' || role || ':' || bran_id || ':' || granted_by,
                                        ',' ORDER BY role, bran_id), '')
             FROM member_role",
        )
    };
    assert_eq!(
        db.pizza_db(&["grant", "admin", "legacy_pbkdf2"]).trim(),
        "grant: legacy_pbkdf2 is now admin"
    );
    assert_eq!(
        db.pizza_db(&["grant", "admin", "legacy_pbkdf2"]).trim(),
        "grant: legacy_pbkdf2 was admin already"
    );
    db.pizza_db(&["grant", "staff", "legacy_plain", "--branch", "BRANCH001"]);
    assert_eq!(
        roles(),
        "legacy_pbkdf2:admin::pizza-db,legacy_plain:staff:BRANCH001:pizza-db"
    );
    let err = refused(&db, &["grant", "admin", "nobody_registered"]);
    assert!(err.contains("no member \"nobody_registered\""), "{err}");
    let err = refused(
        &db,
        &["grant", "staff", "legacy_plain", "--branch", "nowhere"],
    );
    assert!(err.contains("no branch \"nowhere\""), "{err}");
    let err = refused(
        &db,
        &["grant", "admin", "legacy_plain", "--branch", "BRANCH001"],
    );
    assert!(err.contains("--branch goes with staff only"), "{err}");
    assert_eq!(
        db.pizza_db(&["revoke", "staff", "legacy_plain", "--branch", "BRANCH001"])
            .trim(),
        "revoke: legacy_plain is no longer staff of branch \"BRANCH001\""
    );
    assert_eq!(
        db.pizza_db(&["revoke", "staff", "legacy_plain", "--branch", "BRANCH001"])
            .trim(),
        "revoke: legacy_plain was not staff of branch \"BRANCH001\""
    );
    assert_eq!(roles(), "legacy_pbkdf2:admin::pizza-db");
}
