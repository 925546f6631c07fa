//! PostgreSQL through Spin's outbound pg (`spin_sdk::pg4`).
//!
//! Each component connects with its own service's role (`db_url` variable).
//! Rules that keep us clear of Spin 3.6's pooling traps:
//! - a change that spans tables is one SQL statement (CTEs), never a
//!   `BEGIN` held across host calls, because pooled connections are reused
//!   without a `ROLLBACK`;
//! - `timestamptz` is never read directly (pg4 cannot decode it): select
//!   `... AT TIME ZONE 'UTC'` or an epoch number instead;
//! - uniqueness is settled with `ON CONFLICT`, because a unique violation
//!   inside `query()` comes back as text without a SQLSTATE.
//!
//! The store speaks [`DbError`], a small error of its own; the `From` impl at
//! the bottom is the one place that decides which HTTP answer each becomes.

use crate::error::ApiError;
use spin_sdk::pg4::{Connection, Decode, ParameterValue, PgError, QueryError, Row, RowSet};

/// Why a database call failed, in the terms a handler needs to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// No connection string is configured (an empty `db_url`).
    NotConfigured,
    /// The database cannot be reached or refused the connection.
    Unavailable(String),
    /// A statement failed, or its result did not have the expected shape:
    /// the SQL and the schema disagree.
    Failed(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::NotConfigured => f.write_str("database URL is empty"),
            DbError::Unavailable(cause) => write!(f, "database unavailable: {cause}"),
            DbError::Failed(cause) => write!(f, "query failed: {cause}"),
        }
    }
}

impl From<DbError> for ApiError {
    /// 503 (with `Retry-After`) for a database that is not there, 500 for a
    /// statement that failed; the cause goes to the log with the request.
    fn from(e: DbError) -> ApiError {
        let detail = match e {
            DbError::NotConfigured => "database not configured",
            DbError::Unavailable(_) => "database unavailable",
            DbError::Failed(_) => return ApiError::internal(e),
        };
        ApiError::unavailable(detail).with_cause(e)
    }
}

/// A connection to the service's database.
pub struct Db(Connection);

impl Db {
    /// Opens the component's database, named by its `db_url` variable.
    pub fn connect() -> Result<Db, ApiError> {
        let url = crate::config::variable("db_url")?;
        Ok(Self::open(&url)?)
    }

    /// Opens the database at `url`.
    pub fn open(url: &str) -> Result<Db, DbError> {
        if url.is_empty() {
            return Err(DbError::NotConfigured);
        }
        Connection::open(url)
            .map(Db)
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }

    /// Runs a statement that returns rows.
    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, DbError> {
        self.0.query(sql, params).map_err(|e| failure(sql, e))
    }

    /// Runs a statement and returns the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, DbError> {
        self.0.execute(sql, params).map_err(|e| failure(sql, e))
    }
}

/// SQLSTATEs of a database that is there but cannot serve this statement
/// now, and may on a retry: connection exceptions (class 08), insufficient
/// resources (53), operator intervention (57: a cancelled or timed-out
/// statement, a terminated backend, a shutdown), a lock not available in time
/// (55P03), an idle transaction timed out (25P03), and serialization failures
/// and deadlocks (40001, 40P01).
fn is_transient(code: &str) -> bool {
    ["08", "53", "57"]
        .iter()
        .any(|class| code.starts_with(class))
        || matches!(code, "55P03" | "25P03" | "40001" | "40P01")
}

/// What pg4 reports without a SQLSTATE when the connection itself broke:
/// tokio-postgres's error for a closed, failed or timed-out socket, which
/// Spin passes on in its `Debug` form (`Error { kind: Closed, cause: None }`)
/// or its `Display` form (`connection closed`).
fn is_broken_connection(text: &str) -> bool {
    [
        "kind: Closed",
        "kind: Io",
        "kind: Connect",
        "kind: Timeout",
        "connection closed",
        "error communicating with the server",
        "timed out",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// Classifies a pg4 failure of `sql`: a lost, refused, killed or timed-out
/// connection or statement is the database being unavailable (503, retry);
/// anything else a failed statement (500).
fn failure(sql: &str, e: PgError) -> DbError {
    let unavailable = match &e {
        PgError::ConnectionFailed(_) => true,
        PgError::QueryFailed(QueryError::DbError(db)) => is_transient(&db.code),
        PgError::QueryFailed(QueryError::Text(text)) => is_broken_connection(text),
        _ => false,
    };
    if unavailable {
        return DbError::Unavailable(e.to_string());
    }
    let first_line = sql.trim().lines().next().unwrap_or_default();
    DbError::Failed(format!("{first_line} ...: {e}"))
}

/// A string parameter.
pub fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_owned())
}

/// A string parameter, or NULL for `None`.
pub fn optional_text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, text)
}

/// A `text[]` parameter.
pub fn text_array<S: AsRef<str>>(values: &[S]) -> ParameterValue {
    ParameterValue::ArrayStr(values.iter().map(|v| Some(v.as_ref().to_owned())).collect())
}

/// A column of JSON text (what `json_agg(...)::text` and the like return)
/// as `T`; `None` for NULL.
pub fn json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    name: &str,
) -> Result<Option<T>, DbError> {
    nullable::<String>(row, name)
        .map(|text| {
            serde_json::from_str(&text).map_err(|e| {
                DbError::Failed(format!("column {name:?} is not the JSON expected: {e}"))
            })
        })
        .transpose()
}

/// Reads a non-null column, or fails (the SQL and the code disagree).
pub fn column<T: Decode>(row: &Row<'_>, name: &str) -> Result<T, DbError> {
    row.get::<T>(name)
        .ok_or_else(|| DbError::Failed(format!("column {name:?} missing or of the wrong type")))
}

/// Reads a nullable column.
pub fn nullable<T: Decode>(row: &Row<'_>, name: &str) -> Option<T> {
    row.get::<T>(name)
}

/// The first row of a statement that always returns one.
pub fn single_row<'a>(rows: &'a RowSet, what: &str) -> Result<Row<'a>, DbError> {
    rows.rows()
        .next()
        .ok_or_else(|| DbError::Failed(format!("{what} returned no row")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_sqlstates_are_unavailable_and_the_rest_failed() {
        for code in [
            "08006", "53300", "57014", "57P01", "55P03", "25P03", "40P01",
        ] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "42P01", "22001", "42501"] {
            assert!(!is_transient(code), "{code}");
        }
        assert!(is_broken_connection("db error: connection closed"));
        // What the chaos run saw when PostgreSQL was killed mid-statement.
        assert!(is_broken_connection("Error { kind: Closed, cause: None }"));
        assert!(!is_broken_connection("db error: division by zero"));
    }
}
