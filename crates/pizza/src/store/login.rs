//! SQL of the login service: `member`, `login_attempt` and `revoked_token`,
//! and reading `member_role` into the token.

use crate::db::{Db, DbError, column, json, nullable, single_row, text};
use crate::member::NewMember;
use crate::roles::Roles;
use crate::throttle::{self, LoginAttempts};
use crate::token::VerifiedToken;
use spin_sdk::pg4::ParameterValue;

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

/// What a login attempt needs to know, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginReservation {
    /// The stored password hash, if the member exists.
    pub password_hash: Option<String>,
    /// The attempt counts, this attempt included.
    pub attempts: LoginAttempts,
    /// The member's roles (`member_role`), for the token.
    pub roles: Roles,
}

/// Counts a login attempt for `member_id` from `address` (per pair, per id,
/// per address: see [`crate::throttle`]) before any password is checked, and
/// reads the stored hash, in one statement: parallel attempts each get their
/// own count. The member's roles come with it, for the token.
pub fn reserve_login(db: &Db, member_id: &str, address: &str) -> Result<LoginReservation, DbError> {
    // Locked in this order (by scope: `address`, `id`, `pair`), as
    // `login_succeeded` locks them, so that two logins of one member from one
    // address never wait on each other in a cycle (which the role's 1 s
    // `lock_timeout` would end with a 503).
    let keys = [
        ("address", address.to_owned()),
        ("id", member_id.to_owned()),
        ("pair", format!("{member_id} {address}")),
    ];
    let rows = db.query(
        "WITH reserved AS (
             INSERT INTO login_attempt AS a (scope, subject, attempts, window_start)
             SELECT k.scope, k.subject, 1, now()
             FROM unnest($1::text[], $2::text[]) AS k (scope, subject)
             ORDER BY k.scope, k.subject
             ON CONFLICT (scope, subject) DO UPDATE SET
                 attempts = CASE WHEN a.window_start <= now() - $3::text::interval
                                 THEN 1 ELSE a.attempts + 1 END,
                 window_start = CASE WHEN a.window_start <= now() - $3::text::interval
                                     THEN now() ELSE a.window_start END
             RETURNING a.scope, a.attempts, a.window_start
         )
         SELECT (SELECT m.member_pwd FROM member m WHERE m.member_id = $4) AS member_pwd,
                (SELECT r.attempts::int8 FROM reserved r WHERE r.scope = 'pair') AS pair,
                (SELECT r.attempts::int8 FROM reserved r WHERE r.scope = 'id') AS id,
                (SELECT r.attempts::int8 FROM reserved r WHERE r.scope = 'address') AS address,
                (SELECT ceil(extract(epoch FROM max(r.window_start) + $3::text::interval - now()))::int8
                 FROM reserved r) AS retry_after,
                EXISTS (SELECT 1 FROM member_role g
                        WHERE g.member_id = $4 AND g.role = 'admin') AS admin,
                (SELECT json_agg(g.bran_id ORDER BY g.bran_id COLLATE \"C\")::text FROM member_role g
                 WHERE g.member_id = $4 AND g.role = 'staff') AS staff",
        &[
            ParameterValue::ArrayStr(keys.iter().map(|(k, _)| Some(k.to_string())).collect()),
            ParameterValue::ArrayStr(keys.iter().map(|(_, v)| Some(v.clone())).collect()),
            text(throttle::WINDOW),
            text(member_id),
        ],
    )?;
    let row = single_row(&rows, "login reservation")?;
    Ok(LoginReservation {
        password_hash: nullable::<String>(&row, "member_pwd"),
        attempts: LoginAttempts {
            pair: column(&row, "pair")?,
            id: column(&row, "id")?,
            address: column(&row, "address")?,
            retry_after: column::<i64>(&row, "retry_after")?.max(1) as u64,
        },
        roles: Roles {
            admin: column(&row, "admin")?,
            staff: json(&row, "staff")?.unwrap_or_default(),
        },
    })
}

/// After a successful login: forget the member's attempts (from everywhere,
/// so a soft lock ends), refund the address's, and, when given, replace the
/// stored hash (only if it is still the one that was verified). The rows are
/// locked first, by scope, in [`reserve_login`]'s order.
pub fn login_succeeded(
    db: &Db,
    member_id: &str,
    address: &str,
    verified_hash: &str,
    new_hash: Option<&str>,
) -> Result<(), DbError> {
    db.execute(
        "WITH locked AS (
             SELECT a.scope, a.subject
             FROM login_attempt a
             WHERE (a.scope = 'address' AND a.subject = $2::text)
                OR (a.scope = 'id' AND a.subject = $1::text)
                OR (a.scope = 'pair' AND a.subject = $1::text || ' ' || $2::text)
             ORDER BY a.scope, a.subject
             FOR UPDATE
         ),
         forgotten AS (
             DELETE FROM login_attempt a USING locked l
             WHERE a.scope = l.scope AND a.subject = l.subject AND l.scope <> 'address'
         ),
         refunded AS (
             UPDATE login_attempt a SET attempts = greatest(a.attempts - 1, 0)
             FROM locked l
             WHERE a.scope = l.scope AND a.subject = l.subject AND l.scope = 'address'
         )
         UPDATE member SET member_pwd = $4::text
         WHERE member_id = $1::text AND member_pwd = $3::text AND $4::text IS NOT NULL",
        &[
            text(member_id),
            text(address),
            text(verified_hash),
            new_hash.map_or(ParameterValue::DbNull, text),
        ],
    )?;
    Ok(())
}

/// Counts a registration from `address`; returns this one's number within
/// [`throttle::REGISTER_WINDOW`] and the seconds until that window ends.
pub fn reserve_registration(db: &Db, address: &str) -> Result<(i64, u64), DbError> {
    let rows = db.query(
        "INSERT INTO login_attempt AS a (scope, subject, attempts, window_start)
         VALUES ('register', $1, 1, now())
         ON CONFLICT (scope, subject) DO UPDATE SET
             attempts = CASE WHEN a.window_start <= now() - $2::text::interval
                             THEN 1 ELSE a.attempts + 1 END,
             window_start = CASE WHEN a.window_start <= now() - $2::text::interval
                                 THEN now() ELSE a.window_start END
         RETURNING a.attempts::int8 AS attempts,
                   ceil(extract(epoch FROM a.window_start + $2::text::interval - now()))::int8 AS retry_after",
        &[text(address), text(throttle::REGISTER_WINDOW)],
    )?;
    let row = single_row(&rows, "registration reservation")?;
    Ok((
        column(&row, "attempts")?,
        column::<i64>(&row, "retry_after")?.max(1) as u64,
    ))
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

/// Whether a token is refused: on the revocation list (logged out), or
/// issued before its member's cutoff (`token_revoked`, migration 0015).
pub fn is_revoked(db: &Db, token: &VerifiedToken) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT token_revoked($1::text, $2::text, $3::int8) AS revoked",
        &super::revocation_params(token),
    )?;
    column(&single_row(&rows, "revocation check")?, "revoked")
}
