//! SQL of the admin service (role `pizza_admin_api`): prices and sold-out pizzas,
//! branches, members' roles and token cutoffs. Every change is ONE statement
//! that checks the admin's token, changes the rows, and writes an
//! `admin_audit` row (who, what, before, after) and an outbox event
//! (`catalog.updated`, `branch.updated`, `member.updated`), or nothing: the
//! statement's last two CTEs come from one [`Record`].
//! Changing `pizza` also rebuilds the menu documents and their ETags
//! (migration 0013's trigger). What the web console reads is in [`console`]
//! and [`sales`].

use super::{price, revocation_params};
use crate::admin::{BranchChange, BranchState, NewBranch, PizzaChange, PizzaState, RoleSet};
use crate::auth::Authorized;
use crate::db::{Db, DbError, column, json, nullable, optional_text, single_row, text, text_array};
use crate::roles::Roles;
use crate::token::VerifiedToken;
use spin_sdk::pg4::{ParameterValue, Row};

pub mod console;
pub mod sales;

/// `$1`..`$3` of every statement here: the token's revocation check.
const REVOKED: &str = "SELECT token_revoked($1::text, $2::text, $3::int8) AS yes";

/// The parameters of a statement: the token's three, then `rest` from `$4`.
fn params(token: &VerifiedToken, rest: Vec<ParameterValue>) -> Vec<ParameterValue> {
    let mut all = revocation_params(token).to_vec();
    all.extend(rest);
    all
}

/// Runs a read whose one row has `revoked` (the token's check, `$1`..`$3`)
/// and `body`, JSON text built by PostgreSQL; `rest` are `$4` on.
fn read_json(
    db: &Db,
    token: &VerifiedToken,
    sql: &str,
    rest: Vec<ParameterValue>,
    what: &str,
) -> Result<Authorized<serde_json::Value>, DbError> {
    let rows = db.query(sql, &params(token, rest))?;
    let row = single_row(&rows, what)?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(
        json(&row, "body")?.unwrap_or(serde_json::Value::Null),
    ))
}

/// [`read_json`] of one `SELECT` building JSON, which sees the token's check
/// as `r.yes` (and must yield nothing when it is true).
fn read_selected(
    db: &Db,
    token: &VerifiedToken,
    select: &str,
    rest: Vec<ParameterValue>,
    what: &str,
) -> Result<Authorized<serde_json::Value>, DbError> {
    let sql = format!(
        "WITH revoked AS ({REVOKED})
         SELECT r.yes AS revoked, ({select})::text AS body FROM revoked r"
    );
    read_json(db, token, &sql, rest, what)
}

/// The two CTEs every admin change ends with, so that none is made without
/// them: its `admin_audit` row (who, what, before, after) and its outbox
/// event (what it became, the subject's id and who), both written once for
/// each row `from` yields, so nothing when nothing changed. The fields are
/// SQL of the statement, never input; `$2` is the admin (the token's member).
struct Record<'a> {
    /// `admin_audit.action`.
    action: &'a str,
    /// What the subject is (`pizza`, `branch`, `member`): the subject is
    /// `<kind>:<id>`.
    kind: &'a str,
    /// The subject's id.
    id: &'a str,
    /// Its state before, as `jsonb` (NULL for a creation).
    before: &'a str,
    /// Its state after, as `jsonb`.
    after: &'a str,
    /// The outbox event type.
    event: &'a str,
    /// The name of the id in the event's payload.
    key: &'a str,
    /// The rows changed.
    from: &'a str,
}

impl Record<'_> {
    fn ctes(&self) -> String {
        let Record {
            action,
            kind,
            id,
            before,
            after,
            event,
            key,
            from,
        } = self;
        format!(
            "audit AS (
                 INSERT INTO admin_audit (actor, action, subject, before, after)
                 SELECT $2::text, '{action}', '{kind}:' || {id}, {before}, {after} FROM {from}
             ),
             event AS (
                 INSERT INTO outbox (event_type, aggregate_id, payload)
                 SELECT '{event}', {id},
                        {after} || jsonb_build_object('{key}', {id}, 'by', $2::text)
                 FROM {from}
             )"
        )
    }
}

fn optional_bool(value: Option<bool>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Boolean)
}

/// Sets a pizza's price and/or sold-out flag; `None` when there is no such
/// pizza.
pub fn change_pizza(
    db: &Db,
    token: &VerifiedToken,
    pizza_id: &str,
    change: &PizzaChange,
) -> Result<Authorized<Option<PizzaState>>, DbError> {
    let record = Record {
        action: "pizza.update",
        kind: "pizza",
        id: "c.pizza_id",
        before: "jsonb_build_object('price', o.price, 'sold_out', o.sold_out)",
        after: "jsonb_build_object('price', c.price, 'sold_out', c.sold_out)",
        event: "catalog.updated",
        key: "pizza_id",
        from: "changed c, old o",
    }
    .ctes();
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         old AS (
             SELECT p.pizza_id, p.price, p.sold_out FROM pizza p, revoked r
             WHERE p.pizza_id = $4::text AND NOT r.yes
         ),
         changed AS (
             UPDATE pizza p SET price = coalesce(round($5::text::numeric, 2), p.price::numeric),
                                sold_out = coalesce($6::bool, p.sold_out)
             FROM old o WHERE p.pizza_id = o.pizza_id
             RETURNING p.pizza_id, p.price, p.sold_out
         ),
         {record}
         SELECT r.yes AS revoked, c.pizza_id, round(c.price::numeric, 2)::text AS price,
                c.sold_out
         FROM revoked r LEFT JOIN changed c ON true"
    );
    let rows = db.query(
        &sql,
        &params(
            token,
            vec![
                text(pizza_id),
                optional_text(change.price.as_deref()),
                optional_bool(change.sold_out),
            ],
        ),
    )?;
    let row = single_row(&rows, "pizza change")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    let Some(pizza_id) = nullable::<String>(&row, "pizza_id") else {
        return Ok(Authorized::Granted(None));
    };
    Ok(Authorized::Granted(Some(PizzaState {
        pizza_id,
        price: price(&column::<String>(&row, "price")?)?,
        sold_out: column(&row, "sold_out")?,
    })))
}

/// Creates an open branch; `false` when the id is taken (nothing written).
pub fn create_branch(
    db: &Db,
    token: &VerifiedToken,
    branch: &NewBranch,
) -> Result<Authorized<bool>, DbError> {
    let record = Record {
        action: "branch.create",
        kind: "branch",
        id: "c.bran_id",
        before: "NULL",
        after: "jsonb_build_object('bran_nm', c.bran_nm, 'is_open', c.is_open)",
        event: "branch.updated",
        key: "bran_id",
        from: "created c",
    }
    .ctes();
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         created AS (
             INSERT INTO branch (bran_id, bran_nm, is_open)
             SELECT $4::text, $5::text, true FROM revoked r WHERE NOT r.yes
             ON CONFLICT (bran_id) DO NOTHING
             RETURNING bran_id, bran_nm, is_open
         ),
         {record}
         SELECT r.yes AS revoked, EXISTS (SELECT 1 FROM created) AS created FROM revoked r"
    );
    let rows = db.query(
        &sql,
        &params(token, vec![text(&branch.bran_id), text(&branch.bran_nm)]),
    )?;
    let row = single_row(&rows, "branch creation")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(column(&row, "created")?))
}

/// Renames, opens or closes a branch; `None` when there is no such branch.
pub fn change_branch(
    db: &Db,
    token: &VerifiedToken,
    bran_id: &str,
    change: &BranchChange,
) -> Result<Authorized<Option<BranchState>>, DbError> {
    let record = Record {
        action: "branch.update",
        kind: "branch",
        id: "c.bran_id",
        before: "jsonb_build_object('bran_nm', o.bran_nm, 'is_open', o.is_open)",
        after: "jsonb_build_object('bran_nm', c.bran_nm, 'is_open', c.is_open)",
        event: "branch.updated",
        key: "bran_id",
        from: "changed c, old o",
    }
    .ctes();
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         old AS (
             SELECT b.bran_id, b.bran_nm, b.is_open FROM branch b, revoked r
             WHERE b.bran_id = $4::text AND NOT r.yes
         ),
         changed AS (
             UPDATE branch b SET bran_nm = coalesce($5::text, b.bran_nm),
                                 is_open = coalesce($6::bool, b.is_open)
             FROM old o WHERE b.bran_id = o.bran_id
             RETURNING b.bran_id, b.bran_nm, b.is_open
         ),
         {record}
         SELECT r.yes AS revoked, c.bran_id::text AS bran_id, c.bran_nm::text AS bran_nm,
                c.is_open
         FROM revoked r LEFT JOIN changed c ON true"
    );
    let rows = db.query(
        &sql,
        &params(
            token,
            vec![
                text(bran_id),
                optional_text(change.bran_nm.as_deref()),
                optional_bool(change.is_open),
            ],
        ),
    )?;
    let row = single_row(&rows, "branch change")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    let Some(bran_id) = nullable::<String>(&row, "bran_id") else {
        return Ok(Authorized::Granted(None));
    };
    Ok(Authorized::Granted(Some(BranchState {
        bran_id,
        bran_nm: column(&row, "bran_nm")?,
        is_open: column(&row, "is_open")?,
    })))
}

/// The roles of a member as `member_role` holds them (`staff`, `admin`), and
/// the JSON of them the statements build.
const ROLES_OF: &str = "(SELECT jsonb_build_object(
        'admin', coalesce(bool_or(g.role = 'admin'), false),
        'staff', coalesce(jsonb_agg(g.bran_id ORDER BY g.bran_id COLLATE \"C\")
                              FILTER (WHERE g.role = 'staff'), '[]'::jsonb))
     FROM member_role g WHERE g.member_id = $4::text)";

/// A member's roles; `None` when there is no such member.
pub fn member_roles(
    db: &Db,
    token: &VerifiedToken,
    member_id: &str,
) -> Result<Authorized<Option<Roles>>, DbError> {
    let sql = format!(
        "WITH revoked AS ({REVOKED})
         SELECT r.yes AS revoked,
                EXISTS (SELECT 1 FROM member m WHERE m.member_id = $4::text) AS found,
                {ROLES_OF}::text AS roles
         FROM revoked r"
    );
    let rows = db.query(&sql, &params(token, vec![text(member_id)]))?;
    let row = single_row(&rows, "member roles")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    if !column::<bool>(&row, "found")? {
        return Ok(Authorized::Granted(None));
    }
    Ok(Authorized::Granted(Some(roles(&row)?)))
}

/// What setting a member's roles did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolesSet {
    /// No such member; nothing written.
    NoMember,
    /// A staff branch that does not exist; nothing written.
    UnknownBranch(String),
    /// The member's roles now.
    Set(Roles),
}

/// Replaces a member's roles with `wanted`, in one statement. Their tokens
/// carry the new roles from their next login.
pub fn set_member_roles(
    db: &Db,
    token: &VerifiedToken,
    member_id: &str,
    wanted: &RoleSet,
) -> Result<Authorized<RolesSet>, DbError> {
    let record = Record {
        action: "member.roles",
        kind: "member",
        id: "t.member_id",
        before: "t.before",
        after: "a.roles",
        event: "member.updated",
        key: "member_id",
        from: "target t, after a",
    }
    .ctes();
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         wanted AS (
             SELECT 'admin'::text AS role, ''::text AS bran_id WHERE $5::bool
             UNION ALL
             SELECT 'staff', w.b FROM unnest($6::text[]) AS w (b)
         ),
         unknown AS (
             SELECT w.bran_id FROM wanted w
             WHERE w.role = 'staff' AND NOT EXISTS (SELECT 1 FROM branch b WHERE b.bran_id = w.bran_id)
             ORDER BY w.bran_id LIMIT 1
         ),
         target AS (
             SELECT m.member_id, {ROLES_OF} AS before
             FROM member m, revoked r
             WHERE m.member_id = $4::text AND NOT r.yes AND NOT EXISTS (SELECT 1 FROM unknown)
         ),
         removed AS (
             DELETE FROM member_role g USING target t
             WHERE g.member_id = t.member_id
               AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.role = g.role AND w.bran_id = g.bran_id)
             RETURNING g.role
         ),
         added AS (
             INSERT INTO member_role (member_id, role, bran_id, granted_by)
             SELECT t.member_id, w.role, w.bran_id, $2::text FROM target t, wanted w
             ON CONFLICT DO NOTHING
             RETURNING role
         ),
         after AS (
             SELECT jsonb_build_object(
                 'admin', $5::bool,
                 'staff', coalesce((SELECT jsonb_agg(w.bran_id ORDER BY w.bran_id COLLATE \"C\")
                                    FROM wanted w WHERE w.role = 'staff'), '[]'::jsonb)) AS roles
         ),
         {record}
         SELECT r.yes AS revoked,
                EXISTS (SELECT 1 FROM member m WHERE m.member_id = $4::text) AS found,
                (SELECT u.bran_id::text FROM unknown u) AS unknown_branch,
                (SELECT a.roles::text FROM after a) AS roles
         FROM revoked r"
    );
    let staff = text_array(&wanted.staff);
    let rows = db.query(
        &sql,
        &params(
            token,
            vec![
                text(member_id),
                ParameterValue::Boolean(wanted.admin),
                staff,
            ],
        ),
    )?;
    let row = single_row(&rows, "member roles change")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(
        if let Some(branch) = nullable::<String>(&row, "unknown_branch") {
            RolesSet::UnknownBranch(branch)
        } else if !column::<bool>(&row, "found")? {
            RolesSet::NoMember
        } else {
            RolesSet::Set(roles(&row)?)
        },
    ))
}

/// Refuses every token of a member issued until now; `false` when there is
/// no such member.
pub fn revoke_member_tokens(
    db: &Db,
    token: &VerifiedToken,
    member_id: &str,
) -> Result<Authorized<bool>, DbError> {
    let record = Record {
        action: "member.revoke_tokens",
        kind: "member",
        id: "c.member_id",
        before: "jsonb_build_object('tokens_before', o.not_before)",
        after: "jsonb_build_object('tokens_before', c.not_before)",
        event: "member.updated",
        key: "member_id",
        from: "cut c, old o",
    }
    .ctes();
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         old AS (
             SELECT m.member_id,
                    (SELECT to_char(c.not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
                     FROM member_token_cutoff c WHERE c.member_id = m.member_id) AS not_before
             FROM member m, revoked r
             WHERE m.member_id = $4::text AND NOT r.yes
         ),
         cut AS (
             INSERT INTO member_token_cutoff (member_id, not_before)
             SELECT o.member_id, now() FROM old o
             ON CONFLICT (member_id) DO UPDATE SET not_before = EXCLUDED.not_before
             RETURNING member_id,
                       to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
                           AS not_before
         ),
         {record}
         SELECT r.yes AS revoked, EXISTS (SELECT 1 FROM cut) AS cut FROM revoked r"
    );
    let rows = db.query(&sql, &params(token, vec![text(member_id)]))?;
    let row = single_row(&rows, "token cutoff")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(column(&row, "cut")?))
}

/// The `roles` column the statements build as JSON.
fn roles(row: &Row<'_>) -> Result<Roles, DbError> {
    json(row, "roles")?.ok_or_else(|| DbError::Failed("no roles".into()))
}

/// A saga event the relay gave up on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeadLetter {
    /// Its id (what `…/replay/` takes).
    pub event_id: i64,
    /// Its type.
    pub event_type: String,
    /// The order (or other aggregate) it is about.
    pub aggregate_id: String,
    /// Its payload.
    pub payload: serde_json::Value,
    /// Tries made.
    pub attempts: i32,
    /// The last try's error.
    pub last_error: Option<String>,
    /// When it was given up on (UTC).
    pub dead_at: String,
}

/// Dead-lettered events after event id `after`, oldest first, at most
/// `limit` + 1 (one more tells that a next page exists), unless the token
/// is revoked.
pub fn dead_letters(
    db: &Db,
    token: &VerifiedToken,
    after: i64,
    limit: i32,
) -> Result<Authorized<Vec<DeadLetter>>, DbError> {
    let sql = format!(
        "SELECT r.yes AS revoked, d.*
         FROM ({REVOKED}) r
         LEFT JOIN LATERAL (
             SELECT o.event_id, o.event_type::text AS event_type,
                    o.aggregate_id::text AS aggregate_id, o.payload::text AS payload, o.attempts,
                    o.last_error::text AS last_error,
                    to_char(o.dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS dead_at
             FROM outbox o
             WHERE NOT r.yes AND o.dead_at IS NOT NULL AND o.event_id > $4::int8
             ORDER BY o.event_id
             LIMIT $5::int4 + 1
         ) d ON true
         ORDER BY d.event_id"
    );
    let rows = db.query(
        &sql,
        &params(
            token,
            vec![ParameterValue::Int64(after), ParameterValue::Int32(limit)],
        ),
    )?;
    if column::<bool>(&single_row(&rows, "dead letters")?, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    let letters = rows
        .rows()
        .filter(|row| nullable::<i64>(row, "event_id").is_some())
        .map(|row| {
            Ok(DeadLetter {
                event_id: column(&row, "event_id")?,
                event_type: column(&row, "event_type")?,
                aggregate_id: column(&row, "aggregate_id")?,
                payload: json(&row, "payload")?.unwrap_or(serde_json::Value::Null),
                attempts: column(&row, "attempts")?,
                last_error: nullable(&row, "last_error"),
                dead_at: column(&row, "dead_at")?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(Authorized::Granted(letters))
}

/// Sends a dead-lettered event back to the relay (due now, its tries
/// counted afresh), with its audit row and an `outbox.replayed` event;
/// `false` when no dead-lettered event has this id.
pub fn replay_dead_letter(
    db: &Db,
    token: &VerifiedToken,
    event_id: i64,
) -> Result<Authorized<bool>, DbError> {
    let record = Record {
        action: "outbox.replay",
        kind: "event",
        id: "b.event_id::text",
        before: "jsonb_build_object('attempts', b.attempts, 'last_error', b.last_error)",
        after: "jsonb_build_object('event_type', b.event_type, 'attempts', 0)",
        event: "outbox.replayed",
        key: "event_id",
        from: "replayed b",
    }
    .ctes();
    let sql = format!(
        "WITH revoked AS ({REVOKED}),
         old AS (
             SELECT o.event_id, o.event_type, o.attempts, o.last_error
             FROM outbox o, revoked r
             WHERE o.event_id = $4::int8 AND o.dead_at IS NOT NULL AND NOT r.yes
         ),
         replayed AS (
             UPDATE outbox o
             SET dead_at = NULL, attempts = 0, next_attempt_at = now(), claimed_until = NULL,
                 last_error = NULL
             FROM old
             WHERE o.event_id = old.event_id AND o.dead_at IS NOT NULL
             RETURNING old.event_id, old.event_type::text AS event_type, old.attempts,
                       old.last_error::text AS last_error
         ),
         {record}
         SELECT r.yes AS revoked, EXISTS (SELECT 1 FROM replayed) AS replayed FROM revoked r"
    );
    let rows = db.query(&sql, &params(token, vec![ParameterValue::Int64(event_id)]))?;
    let row = single_row(&rows, "replay")?;
    if column::<bool>(&row, "revoked")? {
        return Ok(Authorized::Revoked);
    }
    Ok(Authorized::Granted(column(&row, "replayed")?))
}
