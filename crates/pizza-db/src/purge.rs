//! Housekeeping: deleting rows that have served their purpose (expired throttle
//! rows and revocations, idempotency keys past their retention, published
//! outbox events). The SpinKube CronJob runs `pizza-db purge` from the
//! pizza-db image, so there is one purge, this one.

use postgres::Client;

/// The purge statement.
const PURGE_SQL: &str = include_str!("purge.sql");

/// How many rows one purge deleted, per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeReport {
    /// Expired login and registration attempts.
    pub login_attempt: i64,
    /// Revocations of tokens that can no longer be accepted anyway.
    pub revoked_token: i64,
    /// Idempotency keys older than 24 hours.
    pub order_idempotency: i64,
    /// Outbox events published more than a day ago.
    pub outbox: i64,
}

/// Runs the purge once.
pub fn purge(client: &mut Client) -> anyhow::Result<PurgeReport> {
    let row = client.query_one(PURGE_SQL, &[])?;
    Ok(PurgeReport {
        login_attempt: row.try_get("login_attempt")?,
        revoked_token: row.try_get("revoked_token")?,
        order_idempotency: row.try_get("order_idempotency")?,
        outbox: row.try_get("outbox")?,
    })
}
