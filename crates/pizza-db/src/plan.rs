//! `migrate --plan`: what each pending migration would change, found by running the pending
//! files inside one transaction that is always rolled back.
//!
//! Before and after each file the plan takes a snapshot of the catalogue of the current
//! schema (tables, views, columns, constraints, indexes, sequences, extensions, grants) and of
//! the cluster's roles, and copies the rows of every ordinary table into a temporary table;
//! the differences are the file's changes. Files are applied cumulatively, so each file's
//! changes are its own, as `migrate` would make them in that order.
//!
//! Sequences: `setval` and `nextval` are not transactional, so a rollback does not undo them
//! on a sequence that existed before. Of the project's migrations only
//! `0002_adopt_legacy_ids` calls `setval`, on a sequence it creates itself, except that its
//! `CREATE SEQUENCE IF NOT EXISTS` adopts a same-named sequence that already exists (a
//! database whose id column lost its default). To make every such call harmless, the plan
//! first runs a no-op `ALTER SEQUENCE ... INCREMENT BY <its own increment>` on every
//! pre-existing sequence the connecting role owns: that gives the sequence new storage inside
//! the transaction, so later `setval`/`nextval` calls write the new storage and the rollback
//! drops it. A sequence created inside the transaction vanishes with it anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use postgres::{Client, Row, Transaction};

use crate::migrate::{Migration, applied_versions, migration_files, with_migration_lock};

/// The kinds of object a plan compares, in the order a plan lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An extension of the database (e.g. pgcrypto).
    Extension,
    /// A table (ordinary, partitioned or foreign) of the current schema.
    Table,
    /// A view or materialized view of the current schema.
    View,
    /// A column of a table or view, named `table.column`.
    Column,
    /// A table constraint (primary key, foreign key, unique, check), named `table.constraint`.
    Constraint,
    /// An index of the current schema.
    Index,
    /// A sequence of the current schema.
    Sequence,
    /// A role of the cluster (roles are not per database).
    Role,
    /// A privilege on the schema, a table, a sequence or a column, named as `GRANT` would.
    Grant,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Extension => "extension",
            Kind::Table => "table",
            Kind::View => "view",
            Kind::Column => "column",
            Kind::Constraint => "constraint",
            Kind::Index => "index",
            Kind::Sequence => "sequence",
            Kind::Role => "role",
            Kind::Grant => "grant",
        })
    }
}

/// Names one catalogue object across two snapshots, so the same object can be found in both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// What it is.
    pub kind: Kind,
    /// Its name: plain for most kinds, `table.name` for columns and constraints,
    /// `PRIVILEGE ON object TO grantee` for grants.
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// How many rows of a pre-existing table a migration changed, judged on the columns the
/// table had before. Rows are matched by content, not by key: a row that changed counts as
/// rewritten, and a deleted row plus an inserted one count as one rewritten too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Rows whose values changed.
    pub rewritten: u64,
    /// Rows that are new.
    pub inserted: u64,
    /// Rows that are gone.
    pub deleted: u64,
}

impl RowCounts {
    /// The counts from the two sides of an `EXCEPT ALL`: `gone` rows only the copy has,
    /// `new` rows only the table has now. As many as can be paired count as rewritten.
    fn from_difference(gone: u64, new: u64) -> RowCounts {
        let rewritten = gone.min(new);
        RowCounts {
            rewritten,
            inserted: new - rewritten,
            deleted: gone - rewritten,
        }
    }

    fn is_empty(&self) -> bool {
        *self == RowCounts::default()
    }
}

impl fmt::Display for RowCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            (self.rewritten, "rewritten"),
            (self.inserted, "inserted"),
            (self.deleted, "deleted"),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        f.write_str(&parts.join(", "))
    }
}

/// One difference a migration makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new object, with a short description (type, definition, owner column...).
    Added {
        /// The object.
        key: ObjectKey,
        /// What it is, e.g. a column's type; may be empty.
        summary: String,
    },
    /// An object that is gone.
    Removed {
        /// The object.
        key: ObjectKey,
    },
    /// One attribute of an object that changed (a column's default, type or nullability...).
    Altered {
        /// The object.
        key: ObjectKey,
        /// Which attribute, e.g. `default`.
        attribute: &'static str,
        /// Its value before; `none` for no value.
        before: String,
        /// Its value after; `none` for no value.
        after: String,
    },
    /// Rows of a table that existed before the migration and were changed by it.
    Rows {
        /// The table (its name after the migration).
        table: String,
        /// What happened to its rows.
        counts: RowCounts,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { key, summary } if summary.is_empty() => write!(f, "+ {key}"),
            Change::Added { key, summary } => write!(f, "+ {key} {summary}"),
            Change::Removed { key } => write!(f, "- {key}"),
            Change::Altered {
                key,
                attribute,
                before,
                after,
            } => write!(f, "~ {key} {attribute}: {before} -> {after}"),
            Change::Rows { table, counts } => write!(f, "~ rows {table}: {counts}"),
        }
    }
}

/// What one pending migration file would change, as `migrate` would apply it after the
/// pending files before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The file name without `.sql`.
    pub version: String,
    /// Catalogue changes in kind and name order, then row changes in table order.
    pub changes: Vec<Change>,
}

impl fmt::Display for MigrationPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plan: {}", self.version)?;
        if self.changes.is_empty() {
            return write!(f, "\n  (no changes)");
        }
        for change in &self.changes {
            write!(f, "\n  {change}")?;
        }
        Ok(())
    }
}

/// Runs the `*.sql` files of `dir` that `schema_migrations` does not list yet, in order, in
/// one transaction that is rolled back, and returns what each would change (empty when none
/// is pending). Nothing is changed: `schema_migrations` is not even created.
///
/// Holds the advisory lock [`crate::MIGRATION_LOCK_KEY`] like `migrate`, and sets
/// `lock_timeout` to 5 s so the plan fails instead of queueing behind a live app for long;
/// while it runs, the locks its statements take (and the sequences it protects, see the
/// module documentation) hold up the app as the real migration would. Each file runs after
/// every pre-existing table has been copied to a temporary table, so planning a large
/// database costs a copy of its rows per pending file. A file must not COMMIT or ROLLBACK (as
/// for `migrate`); if one does, the plan fails saying so, as what ran before it in the file
/// may have been committed.
pub fn plan_migrations(client: &mut Client, dir: &Path) -> anyhow::Result<Vec<MigrationPlan>> {
    let migrations = migration_files(dir)?;
    with_migration_lock(
        client,
        || {},
        |client| {
            let done = applied_versions(client)?;
            let pending: Vec<&Migration> = migrations
                .iter()
                .filter(|m| !done.contains(&m.version))
                .collect();
            if pending.is_empty() {
                return Ok(Vec::new());
            }
            let mut tx = client.transaction()?;
            let plans = plan_in(&mut tx, &pending);
            let rolled_back = tx.rollback();
            let plans = plans?;
            rolled_back?;
            Ok(plans)
        },
    )
}

fn plan_in(tx: &mut Transaction, pending: &[&Migration]) -> anyhow::Result<Vec<MigrationPlan>> {
    tx.batch_execute("SET LOCAL lock_timeout = '5s'")?;
    protect_sequences(tx)?;
    let xid: i64 = tx.query_one("SELECT txid_current()", &[])?.get(0);
    pending
        .iter()
        .map(|migration| plan_one(tx, migration, xid))
        .collect()
}

fn plan_one(
    tx: &mut Transaction,
    migration: &Migration,
    xid: i64,
) -> anyhow::Result<MigrationPlan> {
    let sql = std::fs::read_to_string(&migration.path)
        .with_context(|| format!("reading {}", migration.path.display()))?;
    let before = snapshot(tx)?;
    let copies = copy_rows(tx)?;
    tx.batch_execute(&sql)
        .with_context(|| format!("migration {} failed", migration.path.display()))?;
    let xid_now: Option<i64> = tx
        .query_one("SELECT txid_current_if_assigned()", &[])?
        .get(0);
    if xid_now != Some(xid) {
        bail!(
            "migration {} ended the plan's transaction (COMMIT or ROLLBACK in the file); \
             what it ran before that may have been committed",
            migration.version
        );
    }
    let after = snapshot(tx)?;
    let mut changes = diff(&before, &after);
    for copy in &copies {
        changes.extend(compare_rows(tx, copy)?);
    }
    Ok(MigrationPlan {
        version: migration.version.clone(),
        changes,
    })
}

/// Every sequence the connecting role owns, outside the system schemas.
const OWNED_SEQUENCES: &str = "
SELECT c.oid::regclass::text, s.seqincrement
FROM pg_class c
JOIN pg_sequence s ON s.seqrelid = c.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND pg_has_role(c.relowner, 'USAGE')";

/// Gives every owned sequence new storage inside the transaction (see the module
/// documentation), so `setval`/`nextval` in the files are rolled back with it.
fn protect_sequences(tx: &mut Transaction) -> anyhow::Result<()> {
    for row in tx.query(OWNED_SEQUENCES, &[])? {
        let (sequence, increment): (String, i64) = (row.get(0), row.get(1));
        // `sequence` is regclass output, already quoted as needed.
        tx.batch_execute(&format!(
            "ALTER SEQUENCE {sequence} INCREMENT BY {increment}"
        ))
        .with_context(|| format!("protecting sequence {sequence}"))?;
    }
    Ok(())
}

/// One catalogue object as a snapshot holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Object {
    /// The table it belongs to, so a new or dropped table is one line rather than one more
    /// per column, index and constraint.
    table: Option<String>,
    /// Shown after the name when the object is new.
    summary: String,
    /// Attribute names and values (`none` for SQL NULL), compared one by one.
    attributes: Vec<(&'static str, String)>,
}

/// The catalogue objects of the current schema and the cluster's roles, by kind and name.
type Snapshot = BTreeMap<ObjectKey, Object>;

/// A query listing one kind of object. It returns the name, the owning table (or NULL), the
/// summary (or NULL), then one text column per attribute, in `attributes` order.
struct CatalogueQuery {
    kind: Kind,
    attributes: &'static [&'static str],
    sql: &'static str,
}

const CATALOGUE: &[CatalogueQuery] = &[
    CatalogueQuery {
        kind: Kind::Extension,
        attributes: &["version"],
        sql: "SELECT extname::text, NULL, 'version ' || extversion, extversion FROM pg_extension",
    },
    CatalogueQuery {
        kind: Kind::Table,
        attributes: &["owner"],
        sql: "
SELECT c.relname::text, NULL,
       format('(%s column%s)', n, CASE WHEN n = 1 THEN '' ELSE 's' END),
       pg_get_userbyid(c.relowner)::text
FROM pg_class c
CROSS JOIN LATERAL (SELECT count(*) AS n FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) a
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'f')",
    },
    CatalogueQuery {
        kind: Kind::View,
        attributes: &["definition", "owner"],
        sql: "
SELECT c.relname::text, NULL, NULL, pg_get_viewdef(c.oid), pg_get_userbyid(c.relowner)::text
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('v', 'm')",
    },
    CatalogueQuery {
        kind: Kind::Column,
        attributes: &["type", "default", "nullable", "identity"],
        sql: "
SELECT c.relname || '.' || a.attname, c.relname::text,
       concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                 CASE WHEN a.attnotnull THEN 'not null' END,
                 'default ' || pg_get_expr(d.adbin, d.adrelid),
                 CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
                                    WHEN 'd' THEN 'generated by default as identity' END),
       format_type(a.atttypid, a.atttypmod),
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attnotnull THEN 'no' ELSE 'yes' END,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = current_schema()::regnamespace
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND a.attnum > 0 AND NOT a.attisdropped",
    },
    CatalogueQuery {
        kind: Kind::Constraint,
        attributes: &["definition"],
        // NOT NULL constraints (contype 'n', PostgreSQL 18) are a column's nullability.
        sql: "
SELECT c.relname || '.' || con.conname, c.relname::text,
       pg_get_constraintdef(con.oid), pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
WHERE c.relnamespace = current_schema()::regnamespace AND con.contype <> 'n'",
    },
    CatalogueQuery {
        kind: Kind::Index,
        attributes: &["definition"],
        sql: "
SELECT i.relname::text, t.relname::text, 'on ' || t.relname, pg_get_indexdef(i.oid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE i.relnamespace = current_schema()::regnamespace",
    },
    CatalogueQuery {
        kind: Kind::Sequence,
        attributes: &["options", "owned by", "owner"],
        sql: "
SELECT c.relname::text, o.tab, 'owned by ' || o.col,
       format('as %s increment %s minvalue %s maxvalue %s start %s cache %s%s',
              format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,
              s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END),
       o.col,
       pg_get_userbyid(c.relowner)::text
FROM pg_class c
JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN LATERAL (
    SELECT t.relname::text AS tab, t.relname || '.' || a.attname AS col
    FROM pg_depend d
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LIMIT 1
) o ON true
WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace",
    },
    CatalogueQuery {
        kind: Kind::Role,
        attributes: &["options"],
        sql: "
SELECT rolname::text, NULL, options, options
FROM (SELECT rolname,
             concat_ws(' ', CASE WHEN rolsuper THEN 'SUPERUSER' END,
                       CASE WHEN rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END,
                       CASE WHEN NOT rolinherit THEN 'NOINHERIT' END,
                       CASE WHEN rolcreatedb THEN 'CREATEDB' END,
                       CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
                       CASE WHEN rolreplication THEN 'REPLICATION' END,
                       CASE WHEN rolbypassrls THEN 'BYPASSRLS' END) AS options
      FROM pg_roles) r
WHERE rolname !~ '^pg_'",
    },
    CatalogueQuery {
        kind: Kind::Grant,
        attributes: &["grant option"],
        // The owner's own privileges are implicit and left out: the first GRANT on a table
        // writes them into its ACL, which is no change.
        sql: "
SELECT name, NULL,
       CASE WHEN bool_or(grantable) THEN 'WITH GRANT OPTION' END,
       CASE WHEN bool_or(grantable) THEN 'yes' ELSE 'no' END
FROM (
    SELECT format('%s ON %s%s TO %s', a.privilege_type,
                  CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE '' END,
                  c.relname, coalesce(r.rolname::text, 'PUBLIC')) AS name,
           a.is_grantable AS grantable
    FROM pg_class c
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    LEFT JOIN pg_roles r ON r.oid = a.grantee
    WHERE c.relnamespace = current_schema()::regnamespace AND a.grantee <> c.relowner
    UNION ALL
    SELECT format('%s (%s) ON %s TO %s', a.privilege_type, att.attname, c.relname,
                  coalesce(r.rolname::text, 'PUBLIC')),
           a.is_grantable
    FROM pg_attribute att
    JOIN pg_class c ON c.oid = att.attrelid
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    LEFT JOIN pg_roles r ON r.oid = a.grantee
    WHERE c.relnamespace = current_schema()::regnamespace AND NOT att.attisdropped
      AND a.grantee <> c.relowner
    UNION ALL
    SELECT format('%s ON SCHEMA %s TO %s', a.privilege_type, n.nspname,
                  coalesce(r.rolname::text, 'PUBLIC')),
           a.is_grantable
    FROM pg_namespace n
    CROSS JOIN LATERAL aclexplode(n.nspacl) a
    LEFT JOIN pg_roles r ON r.oid = a.grantee
    WHERE n.nspname = current_schema() AND a.grantee <> n.nspowner
) g
GROUP BY name",
    },
];

fn snapshot(tx: &mut Transaction) -> anyhow::Result<Snapshot> {
    let mut objects = Snapshot::new();
    for query in CATALOGUE {
        let rows = tx
            .query(query.sql, &[])
            .with_context(|| format!("listing {}s", query.kind))?;
        for row in rows {
            let (key, object) = object_from_row(query, &row);
            objects.insert(key, object);
        }
    }
    Ok(objects)
}

fn object_from_row(query: &CatalogueQuery, row: &Row) -> (ObjectKey, Object) {
    let text = |i: usize| row.get::<_, Option<String>>(i);
    let key = ObjectKey {
        kind: query.kind,
        name: row.get(0),
    };
    let object = Object {
        table: text(1),
        summary: text(2).unwrap_or_default(),
        attributes: query
            .attributes
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, text(3 + i).unwrap_or_else(|| "none".to_owned())))
            .collect(),
    };
    (key, object)
}

/// The changes from `before` to `after`, in kind and name order. Objects of a table that is
/// itself new (or gone) are left out: the table's line says it all.
fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let new_tables = tables_only_in(after, before);
    let gone_tables = tables_only_in(before, after);
    let belongs_to = |object: &Object, tables: &BTreeSet<&str>| {
        object.table.as_deref().is_some_and(|t| tables.contains(t))
    };
    let mut changes = Vec::new();
    for (key, object) in after {
        if !before.contains_key(key) && !belongs_to(object, &new_tables) {
            changes.push((
                key,
                Change::Added {
                    key: key.clone(),
                    summary: object.summary.clone(),
                },
            ));
        }
    }
    for (key, old) in before {
        match after.get(key) {
            None if !belongs_to(old, &gone_tables) => {
                changes.push((key, Change::Removed { key: key.clone() }));
            }
            None => {}
            Some(new) => changes.extend(altered(key, old, new).map(|change| (key, change))),
        }
    }
    changes.sort_by(|a, b| a.0.cmp(b.0));
    changes.into_iter().map(|(_, change)| change).collect()
}

/// Names of the tables and views `a` has and `b` has not.
fn tables_only_in<'a>(a: &'a Snapshot, b: &Snapshot) -> BTreeSet<&'a str> {
    a.keys()
        .filter(|key| matches!(key.kind, Kind::Table | Kind::View) && !b.contains_key(*key))
        .map(|key| key.name.as_str())
        .collect()
}

fn altered<'a>(
    key: &'a ObjectKey,
    old: &'a Object,
    new: &'a Object,
) -> impl Iterator<Item = Change> + 'a {
    old.attributes
        .iter()
        .zip(&new.attributes)
        .filter(|((_, before), (_, after))| before != after)
        .map(|((attribute, before), (_, after))| Change::Altered {
            key: key.clone(),
            attribute,
            before: before.clone(),
            after: after.clone(),
        })
}

/// A pre-existing table's rows as they were before a file ran, kept in a temporary table
/// whose column `c<n>` holds the text of the table's column number `n`.
struct RowCopy {
    table: u32,
    columns: Vec<i16>,
    copy: String,
}

/// Copies every ordinary table of the current schema, with its columns cast to text so that
/// any column type compares (json has no equality) and a retyped column still compares.
fn copy_rows(tx: &mut Transaction) -> anyhow::Result<Vec<RowCopy>> {
    let tables = tx.query(
        "SELECT oid, oid::regclass::text FROM pg_class
         WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace
         ORDER BY relname",
        &[],
    )?;
    let mut copies = Vec::new();
    for row in tables {
        let (table, reference): (u32, String) = (row.get(0), row.get(1));
        let columns = table_columns(tx, table)?;
        let copy = format!("pizza_db_plan_{table}");
        let select: Vec<String> = columns
            .iter()
            .map(|(number, name)| format!("{}::text AS c{number}", quote_ident(name)))
            .collect();
        tx.batch_execute(&format!(
            "CREATE TEMPORARY TABLE {} AS SELECT {} FROM {reference}",
            quote_ident(&copy),
            select.join(", ")
        ))
        .with_context(|| format!("copying the rows of {reference}"))?;
        copies.push(RowCopy {
            table,
            columns: columns.into_iter().map(|(number, _)| number).collect(),
            copy,
        });
    }
    Ok(copies)
}

/// The live columns of a table: number and name, in order.
fn table_columns(tx: &mut Transaction, table: u32) -> anyhow::Result<Vec<(i16, String)>> {
    Ok(tx
        .query(
            "SELECT attnum, attname::text FROM pg_attribute
             WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&table],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect())
}

/// Compares a copy with its table now, on the columns that existed before and still do
/// (matched by column number, so renames are followed), then drops the copy. `None` when
/// the rows are the same or the table is gone (the catalogue diff says so).
fn compare_rows(tx: &mut Transaction, copy: &RowCopy) -> anyhow::Result<Option<Change>> {
    let found = tx.query_opt(
        "SELECT oid::regclass::text, relname::text FROM pg_class WHERE oid = $1 AND relkind = 'r'",
        &[&copy.table],
    )?;
    let change = match found {
        Some(row) => {
            let (reference, table): (String, String) = (row.get(0), row.get(1));
            let counts = count_differences(tx, copy, &reference)?;
            (!counts.is_empty()).then_some(Change::Rows { table, counts })
        }
        None => None,
    };
    tx.batch_execute(&format!("DROP TABLE pg_temp.{}", quote_ident(&copy.copy)))?;
    Ok(change)
}

fn count_differences(
    tx: &mut Transaction,
    copy: &RowCopy,
    reference: &str,
) -> anyhow::Result<RowCounts> {
    let now: BTreeMap<i16, String> = table_columns(tx, copy.table)?.into_iter().collect();
    let (old, new): (Vec<String>, Vec<String>) = copy
        .columns
        .iter()
        .filter_map(|number| {
            let name = now.get(number)?;
            Some((format!("c{number}"), format!("{}::text", quote_ident(name))))
        })
        .unzip();
    let copy_rows = format!(
        "SELECT {} FROM pg_temp.{}",
        old.join(", "),
        quote_ident(&copy.copy)
    );
    let table_rows = format!("SELECT {} FROM {reference}", new.join(", "));
    let mut count = |a: &str, b: &str| -> anyhow::Result<u64> {
        let sql = format!("SELECT count(*) FROM ({a} EXCEPT ALL {b}) d");
        let n: i64 = tx.query_one(&sql, &[])?.get(0);
        Ok(u64::try_from(n)?)
    };
    let gone = count(&copy_rows, &table_rows)?;
    let new = count(&table_rows, &copy_rows)?;
    Ok(RowCounts::from_difference(gone, new))
}

/// `name` as an SQL identifier: in double quotes, inner double quotes doubled, so any
/// catalogue name can be spliced into a statement that takes no parameters there.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(table: Option<&str>, summary: &str, attributes: &[(&'static str, &str)]) -> Object {
        Object {
            table: table.map(str::to_owned),
            summary: summary.to_owned(),
            attributes: attributes
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
        }
    }

    fn key(kind: Kind, name: &str) -> ObjectKey {
        ObjectKey {
            kind,
            name: name.to_owned(),
        }
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("member"), "\"member\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn row_counts_pair_gone_and_new_rows() {
        let counts = RowCounts::from_difference(3, 1);
        assert_eq!(
            counts,
            RowCounts {
                rewritten: 1,
                inserted: 0,
                deleted: 2
            }
        );
        assert_eq!(counts.to_string(), "1 rewritten, 2 deleted");
        assert!(RowCounts::from_difference(0, 0).is_empty());
    }

    #[test]
    fn diff_lists_added_removed_and_altered_objects_in_order() {
        let column = |default: &str| {
            object(
                Some("orders"),
                "integer",
                &[
                    ("type", "integer"),
                    ("default", default),
                    ("nullable", "no"),
                ],
            )
        };
        let before = Snapshot::from([
            (key(Kind::Table, "orders"), object(None, "(5 columns)", &[])),
            (key(Kind::Column, "orders.order_id"), column("none")),
            (key(Kind::Role, "old"), object(None, "NOLOGIN", &[])),
        ]);
        let after = Snapshot::from([
            (key(Kind::Table, "orders"), object(None, "(5 columns)", &[])),
            (key(Kind::Column, "orders.order_id"), column("nextval('s')")),
            (
                key(Kind::Table, "login_throttle"),
                object(None, "(3 columns)", &[]),
            ),
            (
                key(Kind::Column, "login_throttle.member_id"),
                object(Some("login_throttle"), "text", &[]),
            ),
            (
                key(Kind::Grant, "SELECT ON member TO pizza_login"),
                object(None, "", &[]),
            ),
        ]);
        let lines: Vec<String> = diff(&before, &after)
            .iter()
            .map(Change::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "+ table login_throttle (3 columns)",
                "~ column orders.order_id default: none -> nextval('s')",
                "- role old",
                "+ grant SELECT ON member TO pizza_login",
            ]
        );
    }

    #[test]
    fn a_dropped_table_is_one_line() {
        let before = Snapshot::from([
            (key(Kind::Table, "t"), object(None, "", &[])),
            (key(Kind::Index, "t_pkey"), object(Some("t"), "on t", &[])),
        ]);
        let lines: Vec<String> = diff(&before, &Snapshot::new())
            .iter()
            .map(Change::to_string)
            .collect();
        assert_eq!(lines, ["- table t"]);
    }

    #[test]
    fn a_plan_prints_one_block() {
        let plan = MigrationPlan {
            version: "0003_login_state".into(),
            changes: vec![Change::Rows {
                table: "member".into(),
                counts: RowCounts::from_difference(1, 1),
            }],
        };
        assert_eq!(
            plan.to_string(),
            "plan: 0003_login_state\n  ~ rows member: 1 rewritten"
        );
        let empty = MigrationPlan {
            version: "0004_x".into(),
            changes: Vec::new(),
        };
        assert_eq!(empty.to_string(), "plan: 0004_x\n  (no changes)");
    }
}
