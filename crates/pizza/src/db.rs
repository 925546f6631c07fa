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

use crate::error::ApiError;
use spin_sdk::pg4::{Connection, Decode, ParameterValue, PgError, Row, RowSet};

/// A connection to the service's database.
pub struct Db(Connection);

impl Db {
    /// Connects with the component's `db_url` variable: 503 when it is unset
    /// or the database cannot be reached.
    pub fn connect() -> Result<Db, ApiError> {
        let url = crate::config::variable("db_url")?;
        Self::open(&url).map(Db)
    }

    /// Opens a connection to `url`, mapping failures to 503.
    pub fn open(url: &str) -> Result<Connection, ApiError> {
        if url.is_empty() {
            eprintln!("configuration error: database URL is empty");
            return Err(ApiError::unavailable("database not configured"));
        }
        Connection::open(url).map_err(|e| {
            eprintln!("database unavailable: {e}");
            ApiError::unavailable("database unavailable")
        })
    }

    /// Runs a statement that returns rows.
    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, ApiError> {
        self.0.query(sql, params).map_err(|e| db_failure(sql, e))
    }

    /// Runs a statement that returns rows, leaving the failure to the caller
    /// (for the rare statement whose error decides what happens next).
    pub fn try_query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, PgError> {
        self.0.query(sql, params)
    }

    /// Runs a statement and returns the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, ApiError> {
        self.0.execute(sql, params).map_err(|e| db_failure(sql, e))
    }
}

/// Maps a database failure to an answer: 503 when the database is
/// unreachable, else a logged 500 (the SQL and the schema disagree).
pub fn db_failure(sql: &str, e: PgError) -> ApiError {
    if matches!(e, PgError::ConnectionFailed(_)) {
        eprintln!("database unavailable: {e}");
        return ApiError::unavailable("database unavailable");
    }
    let first_line = sql.trim().lines().next().unwrap_or_default();
    ApiError::internal(format!("query failed ({first_line} ...): {e}"))
}

/// A string parameter.
pub fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_owned())
}

/// Reads a non-null column, or fails as an internal error (the SQL and the code disagree).
pub fn column<T: Decode>(row: &Row<'_>, name: &str) -> Result<T, ApiError> {
    row.get::<T>(name)
        .ok_or_else(|| ApiError::internal(format!("column {name:?} missing or of the wrong type")))
}

/// Reads a nullable column.
pub fn nullable<T: Decode>(row: &Row<'_>, name: &str) -> Option<T> {
    row.get::<T>(name)
}
