//! `check-legacy` on a Django database with one of each problem, before and after the
//! migrations, and on a database that has none of the tables.

mod common;

use common::{DJANGO_SCHEMA, Database, migrations_dir};
use pizza_db::{FindingKind, LegacyReport};

/// One of each problem on top of the Django fixture, which already has a plaintext
/// (`legacy_plain`) and an unusable (`legacy_unusable`) password. Recognised formats are
/// added too, to show they are not counted; `sha1$` is Django's but not verified here.
const PROBLEMS: &str = r#"
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE orders DROP CONSTRAINT orders_bran_id_fkey;
ALTER TABLE orders ALTER COLUMN bran_id DROP NOT NULL;
INSERT INTO orders VALUES
  (18, 'legacy_pbkdf2', NULL, '2025-10-16', '12:00:00'),
  (19, 'legacy_pbkdf2', 'CLOSED', '2025-10-16', '12:05:00');
INSERT INTO order_detail VALUES (41, 18, 'GHOST_PIZZA', 1);
INSERT INTO member VALUES
  ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA', 'long'),
  ('bad id!', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', 'space'),
  ('scrypt_user', 'scrypt$16384$salt$8$5$aGFzaA==', 'scrypt'),
  ('phc_user', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'phc'),
  ('bcrypt_sha', 'bcrypt_sha256$$2b$12$ziYTf7wZwuC8oD9TRMuTDuYLP7BruaN2VxQOv.5B8x1UbblhYeA3S', 'bs'),
  ('sha1_user', 'sha1$salt$0123456789abcdef', 'sha1');
"#;

fn count(report: &LegacyReport, kind: FindingKind) -> (u64, Vec<String>) {
    let finding = report
        .finding(kind)
        .unwrap_or_else(|| panic!("{kind:?} was skipped: {report}"));
    (finding.count, finding.examples.clone())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn each_problem_is_found_with_its_count() {
    let db = Database::with(&format!("{DJANGO_SCHEMA}{PROBLEMS}"));
    let passwords =
        "SELECT string_agg(member_id || '=' || member_pwd, ',' ORDER BY member_id) FROM member";
    let before = db.psql(passwords);
    let report = pizza_db::check_legacy(&mut db.client()).unwrap();
    assert_eq!(db.psql(passwords), before, "check-legacy wrote");
    let long = "a".repeat(51);
    assert_eq!(
        count(&report, FindingKind::UnknownPasswordFormat),
        (2, strings(&["legacy_plain", "sha1_user"]))
    );
    assert_eq!(
        count(&report, FindingKind::UnusablePassword),
        (1, strings(&["legacy_unusable"]))
    );
    assert_eq!(
        count(&report, FindingKind::OrderWithoutBranch),
        (2, strings(&["18", "19"]))
    );
    assert_eq!(
        count(&report, FindingKind::LineWithoutPizza),
        (1, strings(&["41"]))
    );
    assert_eq!(
        count(&report, FindingKind::MemberIdTooLong),
        (1, vec![long.clone()])
    );
    assert_eq!(
        count(&report, FindingKind::MemberIdCharacters),
        (1, strings(&["bad id!"]))
    );
    // Not migrated yet: there is no unit_price to tell legacy orders by.
    assert!(report.finding(FindingKind::LegacyOrder).is_none());
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].missing, "column order_detail.unit_price");
    assert!(!report.passwords_migrated);
    assert_eq!(report.finding_count(), 5);

    let output = db.pizza_db(&["check-legacy"]);
    assert!(output.contains("0003_login_state is pending"), "{output}");
    assert!(
        output.contains("skipped orders with lines without unit_price (legacy orders): no column order_detail.unit_price"),
        "{output}"
    );
    assert_eq!(
        output.lines().last(),
        Some("check-legacy: 5 findings"),
        "{output}"
    );

    // Migrated: the plaintext password is hashed, sha1$ is left as it is (and still cannot
    // be verified), and the lines without a unit price mark two legacy orders.
    pizza_db::migrate(&mut db.client(), &migrations_dir()).unwrap();
    let report = pizza_db::check_legacy(&mut db.client()).unwrap();
    assert!(report.skipped.is_empty(), "{report}");
    assert!(report.passwords_migrated);
    assert_eq!(
        count(&report, FindingKind::UnknownPasswordFormat),
        (1, strings(&["sha1_user"]))
    );
    assert_eq!(
        count(&report, FindingKind::LegacyOrder),
        (2, strings(&["17", "18"]))
    );
    assert_eq!(report.finding_count(), 5);
}

#[test]
fn a_database_without_the_tables_is_skipped_not_an_error() {
    let db = Database::with("CREATE TABLE member (member_id varchar(100) PRIMARY KEY)");
    let report = pizza_db::check_legacy(&mut db.client()).unwrap();
    // Only the member id checks can run.
    assert_eq!(
        report.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [
            FindingKind::MemberIdTooLong,
            FindingKind::MemberIdCharacters
        ]
    );
    assert_eq!(
        report.skipped[0].missing, "column member.member_pwd",
        "{report}"
    );
    assert!(
        report.skipped.iter().any(|s| s.missing == "table orders"),
        "{report}"
    );
    let output = db.pizza_db(&["check-legacy"]);
    assert_eq!(
        output.lines().last(),
        Some("check-legacy: 0 findings"),
        "{output}"
    );
}
