//! Applying `migrations/*.sql` once each, in file-name order, recorded in `schema_migrations`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use postgres::{Client, GenericClient};

/// Advisory-lock key (the bytes of `"pizzamig"`) held for the whole of every run that changes
/// or inspects the schema: `migrate`, `migrate --plan` and `deploy` (the Kubernetes Job runs
/// `pizza-db deploy`, so this is the only definition). Two migrators never race: the second
/// waits until the first is done.
pub const MIGRATION_LOCK_KEY: i64 = i64::from_be_bytes(*b"pizzamig");

/// The table recording which files were applied (version = file name without `.sql`).
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// One `NNNN_name.sql` file; its version is the file name without `.sql`.
#[derive(Debug)]
pub(crate) struct Migration {
    /// The file name without `.sql`, as `schema_migrations.version` records it.
    pub(crate) version: String,
    /// Where the file is.
    pub(crate) path: PathBuf,
}

/// Applies the `*.sql` files of `dir` that `schema_migrations` does not list yet, in file-name
/// order, each in its own transaction together with its `schema_migrations` row, so a failing
/// file leaves no trace and the next run retries it. Holds the session advisory lock
/// [`MIGRATION_LOCK_KEY`] throughout. Returns the versions applied by this call.
pub fn migrate(client: &mut Client, dir: &Path) -> anyhow::Result<Vec<String>> {
    let migrations = migration_files(dir)?;
    with_migration_lock(client, || {}, |client| apply_pending(client, &migrations))
}

/// Runs `work` holding the session advisory lock [`MIGRATION_LOCK_KEY`], so it never sees
/// another migrator's half-applied state; the lock is released whether `work` fails or not.
/// When another session holds the lock, calls `on_wait` once, then waits for it.
pub(crate) fn with_migration_lock<T>(
    client: &mut Client,
    on_wait: impl FnOnce(),
    work: impl FnOnce(&mut Client) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])?
        .get(0);
    if !locked {
        on_wait();
        client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])?;
    }
    let result = work(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY]);
    let result = result?;
    unlocked?;
    Ok(result)
}

/// The versions `schema_migrations` lists, without creating the table: empty when it does
/// not exist yet (a database no migrator has touched).
pub(crate) fn applied_versions(client: &mut impl GenericClient) -> anyhow::Result<HashSet<String>> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(HashSet::new());
    }
    Ok(client
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// Applies the `migrations` that `schema_migrations` does not list yet (creating the table if
/// needed); the caller holds the migration lock. Returns the versions applied.
pub(crate) fn apply_pending(
    client: &mut Client,
    migrations: &[Migration],
) -> anyhow::Result<Vec<String>> {
    client.batch_execute(CREATE_TABLE)?;
    let done = applied_versions(client)?;
    let mut applied = Vec::new();
    for migration in migrations.iter().filter(|m| !done.contains(&m.version)) {
        apply_one(client, migration)
            .with_context(|| format!("migration {} failed", migration.path.display()))?;
        applied.push(migration.version.clone());
    }
    Ok(applied)
}

fn apply_one(client: &mut Client, migration: &Migration) -> anyhow::Result<()> {
    let sql = std::fs::read_to_string(&migration.path)?;
    let mut tx = client.transaction()?;
    tx.batch_execute(&sql)?;
    tx.execute(
        "INSERT INTO schema_migrations (version) VALUES ($1)",
        &[&migration.version],
    )?;
    tx.commit()?;
    Ok(())
}

/// The `*.sql` files directly in `dir`, sorted by file name.
pub(crate) fn migration_files(dir: &Path) -> anyhow::Result<Vec<Migration>> {
    let mut migrations = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if !path.is_file() || path.extension().is_none_or(|ext| ext != "sql") {
            continue;
        }
        let version = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or_else(|| anyhow!("migration file name is not UTF-8: {}", path.display()))?
            .to_owned();
        migrations.push(Migration { version, path });
    }
    migrations.sort_by(|a, b| a.path.file_name().cmp(&b.path.file_name()));
    Ok(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sql_files_in_name_order() {
        let dir = std::env::temp_dir().join(format!("pizza-db-migrations-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("0000_dir.sql")).unwrap();
        for name in [
            "0010_b.sql",
            "0002_a.sql",
            "README.md",
            "0001_z.sql",
            "0003.sql.bak",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let versions: Vec<String> = migration_files(&dir)
            .unwrap()
            .into_iter()
            .map(|m| m.version)
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(versions, ["0001_z", "0002_a", "0010_b"]);
    }

    #[test]
    fn lock_key_is_stable() {
        assert_eq!(MIGRATION_LOCK_KEY, 0x7069_7a7a_616d_6967);
    }
}
