//! SQL of the login service: `member`, `login_throttle` and `revoked_token`.

use crate::db::{Db, DbError, column, nullable, single_row, text};
use crate::member::NewMember;
use crate::token::VerifiedToken;
use spin_sdk::pg4::ParameterValue;

/// Failed logins allowed per id within [`THROTTLE_WINDOW`] before 429.
pub const THROTTLE_LIMIT: i32 = 5;
/// The throttling window, as PostgreSQL interval text.
pub const THROTTLE_WINDOW: &str = "15 minutes";

/// The throttle's limit and window, bound as `$2` and `$3` of its statements.
fn throttle_params(member_id: &str) -> [ParameterValue; 3] {
    [
        text(member_id),
        ParameterValue::Int32(THROTTLE_LIMIT),
        text(THROTTLE_WINDOW),
    ]
}

/// Inserts a member; `false` when the id is already taken.
pub fn insert_member(
    db: &Db,
    member: &NewMember<'_>,
    password_hash: &str,
) -> Result<bool, DbError> {
    let rows = db.query(
        "INSERT INTO member (member_id, member_pwd, member_nm) VALUES ($1, $2, $3)
         ON CONFLICT (member_id) DO NOTHING
         RETURNING member_id",
        &[text(member.id), text(password_hash), text(member.name)],
    )?;
    Ok(!rows.rows.is_empty())
}

/// What a login attempt needs to know about an id, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginState {
    /// The stored password hash, if the member exists.
    pub password_hash: Option<String>,
    /// Seconds until the id may try again, if it is throttled now.
    pub retry_after: Option<u64>,
}

/// The stored hash and throttling state of `member_id`.
pub fn login_state(db: &Db, member_id: &str) -> Result<LoginState, DbError> {
    let rows = db.query(
        "SELECT m.member_pwd,
                ceil(extract(epoch FROM t.window_start + $3::text::interval - now()))::int8 AS retry_after
         FROM (SELECT $1::varchar AS id) k
         LEFT JOIN member m ON m.member_id = k.id
         LEFT JOIN login_throttle t
                ON t.member_id = k.id
               AND t.failures >= $2::int4
               AND t.window_start > now() - $3::text::interval",
        &throttle_params(member_id),
    )?;
    let row = single_row(&rows, "login state query")?;
    Ok(LoginState {
        password_hash: nullable::<String>(&row, "member_pwd"),
        retry_after: nullable::<i64>(&row, "retry_after").map(|s| s.max(1) as u64),
    })
}

/// Counts a failed login for `member_id`, opening a new window when the last one passed.
pub fn record_failure(db: &Db, member_id: &str) -> Result<(), DbError> {
    let [id, _, window] = throttle_params(member_id);
    db.execute(
        "INSERT INTO login_throttle AS t (member_id, failures, window_start) VALUES ($1, 1, now())
         ON CONFLICT (member_id) DO UPDATE SET
           failures = CASE WHEN t.window_start <= now() - $2::text::interval THEN 1 ELSE t.failures + 1 END,
           window_start = CASE WHEN t.window_start <= now() - $2::text::interval THEN now() ELSE t.window_start END",
        &[id, window],
    )?;
    Ok(())
}

/// After a successful login: forget earlier failures and, when given, replace
/// the stored hash (only if it is still the one that was verified).
pub fn record_success(
    db: &Db,
    member_id: &str,
    verified_hash: &str,
    new_hash: Option<&str>,
) -> Result<(), DbError> {
    match new_hash {
        Some(new_hash) => db.execute(
            "WITH cleared AS (DELETE FROM login_throttle WHERE member_id = $1)
             UPDATE member SET member_pwd = $3 WHERE member_id = $1 AND member_pwd = $2",
            &[text(member_id), text(verified_hash), text(new_hash)],
        )?,
        None => db.execute(
            "DELETE FROM login_throttle WHERE member_id = $1",
            &[text(member_id)],
        )?,
    };
    Ok(())
}

/// Puts a token on the revocation list until [`VerifiedToken::revoke_until`],
/// purging entries past theirs.
pub fn revoke(db: &Db, token: &VerifiedToken) -> Result<(), DbError> {
    db.execute(
        "WITH purged AS (DELETE FROM revoked_token WHERE expires_at < now())
         INSERT INTO revoked_token (jti, member_id, expires_at) VALUES ($1, $2, to_timestamp($3))
         ON CONFLICT (jti) DO NOTHING",
        &[
            text(&token.revocation_id),
            text(&token.member_id),
            ParameterValue::Floating64(token.revoke_until as f64),
        ],
    )?;
    Ok(())
}

/// Whether a token, by its [`VerifiedToken::revocation_id`], has been revoked.
pub fn is_revoked(db: &Db, revocation_id: &str) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT count(*) AS n FROM revoked_token WHERE jti = $1",
        &[text(revocation_id)],
    )?;
    Ok(column::<i64>(&single_row(&rows, "revocation count")?, "n")? > 0)
}
