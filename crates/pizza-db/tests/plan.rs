//! `migrate --plan` on the database the Django services leave behind: it shows what each
//! pending migration would change, and the database is exactly as before afterwards.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{DJANGO_SCHEMA, Database, migration_count, migrations_dir};
use pizza_db::{Change, RowCounts};

/// Everything a plan could touch, one item per line: whether `schema_migrations` exists,
/// every relation of the schema with its ACL, every column with type, default and
/// nullability, the roles, the extensions, the schema's ACL, the members' passwords and the
/// state of the sequences Django made.
const FINGERPRINT: &str = r#"
SELECT concat_ws(E'\n',
    'schema_migrations: ' || coalesce(to_regclass('schema_migrations')::text, 'none'),
    (SELECT string_agg(relname || ' ' || relkind::text || ' ' || coalesce(relacl::text, '-'), ', ' ORDER BY relname)
       FROM pg_class WHERE relnamespace = 'public'::regnamespace),
    (SELECT string_agg(table_name || '.' || column_name || ' ' || data_type
                       || coalesce(character_maximum_length::text, '') || ' '
                       || coalesce(column_default, '-') || ' ' || is_nullable,
                       ', ' ORDER BY table_name, column_name)
       FROM information_schema.columns WHERE table_schema = 'public'),
    (SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM pg_roles),
    (SELECT string_agg(extname, ', ' ORDER BY extname) FROM pg_extension),
    (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'),
    (SELECT string_agg(member_id || '=' || member_pwd, ', ' ORDER BY member_id) FROM member),
    (SELECT string_agg(price::text, ', ') FROM pizza),
    (SELECT 'django_migrations_id_seq ' || last_value || ' ' || is_called FROM django_migrations_id_seq),
    (SELECT 'auth_user_id_seq ' || last_value || ' ' || is_called FROM auth_user_id_seq))
"#;

/// The plan's output as blocks: migration version to its indented lines.
fn blocks(output: &str) -> BTreeMap<String, Vec<String>> {
    let mut blocks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in output.lines() {
        if let Some(change) = line.strip_prefix("  ") {
            let version: &String = current.as_ref().expect("a change line after a plan line");
            blocks
                .entry(version.clone())
                .or_default()
                .push(change.to_owned());
        } else if let Some(version) = line.strip_prefix("plan: ") {
            current = Some(version.to_owned());
        }
    }
    blocks
}

fn plan_output(db: &Database, dir: &Path) -> String {
    db.pizza_db(&[
        "migrate",
        "--plan",
        "--dir",
        dir.to_str().expect("UTF-8 path"),
    ])
}

#[test]
fn the_plan_of_a_django_database_shows_each_change_and_changes_nothing() {
    let db = Database::with(DJANGO_SCHEMA);
    let before = db.psql(FINGERPRINT);
    assert!(before.contains("schema_migrations: none"), "{before}");
    assert!(before.contains("legacy_plain=test_password123"), "{before}");

    let output = plan_output(&db, &migrations_dir());
    let blocks = blocks(&output);
    let ids = &blocks["0002_adopt_legacy_ids"];
    assert!(
        ids.contains(
            &"~ column orders.order_id default: none -> nextval('orders_order_id_seq'::regclass)"
                .to_owned()
        ),
        "{output}"
    );
    assert!(
        ids.contains(&"+ sequence orders_order_id_seq owned by orders.order_id".to_owned()),
        "{output}"
    );
    let login = &blocks["0003_login_state"];
    for line in [
        "+ extension pgcrypto version 1.3",
        "+ table login_throttle (3 columns)",
        "+ table revoked_token (3 columns)",
        "~ rows member: 1 rewritten",
    ] {
        assert!(
            login.contains(&line.to_owned()),
            "{line} missing:\n{output}"
        );
    }
    let additions = &blocks["0005_order_additions"];
    assert!(
        additions.contains(&"+ column order_detail.unit_price numeric(10,2)".to_owned()),
        "{output}"
    );
    let roles = &blocks["0006_service_roles"];
    for line in [
        "+ role pizza_login NOLOGIN NOINHERIT",
        "+ grant SELECT ON member TO pizza_login",
        "+ grant USAGE ON SCHEMA public TO pizza_order",
        "+ grant USAGE ON SEQUENCE orders_order_id_seq TO pizza_order",
    ] {
        assert!(
            roles.contains(&line.to_owned()),
            "{line} missing:\n{output}"
        );
    }
    // Only 0003 rewrites rows, and only the plaintext member's.
    let row_lines: Vec<&String> = blocks
        .values()
        .flatten()
        .filter(|l| l.starts_with("~ rows"))
        .collect();
    assert_eq!(row_lines, ["~ rows member: 1 rewritten"], "{output}");
    assert_eq!(
        output.lines().last(),
        Some(
            format!(
                "plan: {} pending migrations; nothing was changed",
                migration_count()
            )
            .as_str()
        )
    );
    assert_eq!(
        db.psql(FINGERPRINT),
        before,
        "the plan changed the database"
    );

    // The library gives the same answer as data.
    let plans = pizza_db::plan_migrations(&mut db.client(), &migrations_dir()).unwrap();
    let login = plans
        .iter()
        .find(|p| p.version == "0003_login_state")
        .unwrap();
    assert!(login.changes.contains(&Change::Rows {
        table: "member".into(),
        counts: RowCounts {
            rewritten: 1,
            inserted: 0,
            deleted: 0
        }
    }));
    assert_eq!(
        db.psql(FINGERPRINT),
        before,
        "the plan changed the database"
    );

    pizza_db::migrate(&mut db.client(), &migrations_dir()).unwrap();
    assert_eq!(plan_output(&db, &migrations_dir()), "plan: up to date\n");
}

/// A folder of migration files, removed on drop.
struct Migrations(PathBuf);

impl Migrations {
    fn new(name: &str, files: &[(&str, &str)]) -> Migrations {
        let dir = std::env::temp_dir().join(format!("pizza-db-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, sql) in files {
            std::fs::write(dir.join(file), sql).unwrap();
        }
        Migrations(dir)
    }
}

impl Drop for Migrations {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn rows_are_counted_per_file_and_sequences_are_left_alone() {
    let db = Database::with(DJANGO_SCHEMA);
    let before = db.psql(FINGERPRINT);
    let migrations = Migrations::new(
        "rows",
        &[
            (
                "0001_rows.sql",
                "SELECT setval('django_migrations_id_seq', 1000);
                 INSERT INTO auth_user (password, username) VALUES ('!x', 'second');
                 DELETE FROM member WHERE member_id = 'legacy_unusable';
                 ALTER TABLE pizza RENAME COLUMN size TO pizza_size;
                 UPDATE pizza SET price = price * 2;
                 ALTER TABLE branch DROP COLUMN bran_nm;",
            ),
            // Sees the renamed column: the files apply one after the other.
            ("0002_more.sql", "UPDATE pizza SET pizza_size = 'XL';"),
            ("0003_nothing.sql", "SELECT 1;"),
        ],
    );

    let output = plan_output(&db, &migrations.0);
    let blocks = blocks(&output);
    assert_eq!(
        blocks["0001_rows"],
        [
            "- column branch.bran_nm",
            "+ column pizza.pizza_size character varying(50) not null",
            "- column pizza.size",
            "~ rows auth_user: 1 inserted",
            "~ rows member: 1 deleted",
            "~ rows pizza: 1 rewritten",
        ],
        "{output}"
    );
    assert_eq!(
        blocks["0002_more"],
        ["~ rows pizza: 1 rewritten"],
        "{output}"
    );
    assert!(
        output.contains("plan: 0003_nothing\n  (no changes)\n"),
        "{output}"
    );
    // setval and the insert's nextval were undone with the transaction.
    assert_eq!(
        db.psql(FINGERPRINT),
        before,
        "the plan changed the database"
    );
}

#[test]
fn a_file_that_commits_makes_the_plan_fail() {
    let db = Database::with(DJANGO_SCHEMA);
    let migrations = Migrations::new(
        "commit",
        &[(
            "0001_commit.sql",
            "CREATE TABLE committed_early (); COMMIT;",
        )],
    );
    let error = pizza_db::plan_migrations(&mut db.client(), &migrations.0).unwrap_err();
    assert!(
        format!("{error:#}").contains("ended the plan's transaction"),
        "{error:#}"
    );
    // The lock was released: a real migration can run.
    assert!(pizza_db::migrate(&mut db.client(), &migrations_dir()).is_ok());
}
