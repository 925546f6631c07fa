//! The books after a fault: every order the client sent is settled (a
//! request that got no 201 is sent once more, with the same key and body, as
//! a client following `Retry-After` would), then the database is checked
//! against what the clients were told.

use crate::client::{self, Kind, Member, Shot};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What the settlement found; every list and count but the informative ones
/// must be empty or zero.
#[derive(Debug, Default, Serialize)]
pub struct Ledger {
    /// Orders sent (distinct keys).
    pub keys_sent: usize,
    /// Orders answered 201 on the first attempt.
    pub acknowledged: usize,
    /// Orders sent again because the first attempt got no 201.
    pub retried: usize,
    /// Of those, committed before the retry although the client got no 201
    /// (informative: the answer, not the order, was lost).
    pub committed_without_201: usize,
    /// The keys of those.
    #[serde(skip)]
    pub committed_keys: HashSet<String>,
    /// Retries answered with the order committed before (idempotent replay).
    pub retry_replayed: usize,
    /// Retries that placed the order now.
    pub retry_created: usize,
    /// Retries that got no 201 (or a different order than the one committed).
    pub unresolved: Vec<String>,
    /// Acknowledged orders missing from the database, or without all their
    /// lines, their outbox event or their idempotency row.
    pub lost: Vec<String>,
    /// Orders of this scenario's members that no idempotency row accounts for
    /// (an order placed twice for one key would be one of these).
    pub orphans: Vec<i64>,
    /// Orders in the database for this scenario's members.
    pub orders_in_db: usize,
    /// Idempotency rows of this scenario's members.
    pub idempotency_rows: usize,
    /// Idempotency rows of keys no client sent.
    pub unknown_keys: usize,
}

impl Ledger {
    /// Whether nothing acknowledged was lost, every request was settled
    /// exactly once and nothing unexplained exists.
    pub fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.unresolved.is_empty()
            && self.orphans.is_empty()
            && self.unknown_keys == 0
            && self.idempotency_rows == self.keys_sent
            && self.orders_in_db == self.keys_sent
    }

    /// What is wrong, one line each (empty when [`Ledger::clean`]).
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let sample = |v: &[String]| v.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
        if !self.lost.is_empty() {
            out.push(format!(
                "{} acknowledged orders lost: {}",
                self.lost.len(),
                sample(&self.lost)
            ));
        }
        if !self.unresolved.is_empty() {
            out.push(format!(
                "{} retries not settled: {}",
                self.unresolved.len(),
                sample(&self.unresolved)
            ));
        }
        if !self.orphans.is_empty() {
            out.push(format!(
                "{} orders without an idempotency row (ids {:?})",
                self.orphans.len(),
                &self.orphans[..self.orphans.len().min(5)]
            ));
        }
        if self.unknown_keys > 0 {
            out.push(format!(
                "{} idempotency rows for keys never sent",
                self.unknown_keys
            ));
        }
        if self.idempotency_rows != self.keys_sent || self.orders_in_db != self.keys_sent {
            out.push(format!(
                "{} keys sent, but {} idempotency rows and {} orders in the database",
                self.keys_sent, self.idempotency_rows, self.orders_in_db
            ));
        }
        out
    }
}

/// The rows of the members' orders.
struct Books {
    /// (member, key) -> order id, from `order_idempotency`.
    claims: HashMap<(String, String), i64>,
    /// order id -> (member, lines in `order_detail`, `order.placed` outbox events).
    orders: HashMap<i64, (String, i64, i64)>,
}

fn read_books(admin_url: &str, members: &[String]) -> anyhow::Result<Books> {
    let mut db = postgres::Client::connect(admin_url, postgres::NoTls)?;
    let claims = db
        .query(
            "SELECT member_id::text, idem_key::text, (response ->> 'order_id')::int8
             FROM order_idempotency WHERE member_id = ANY($1)",
            &[&members],
        )?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let orders = db
        .query(
            "SELECT o.order_id::int8, o.member_id::text,
                    (SELECT count(*) FROM order_detail d WHERE d.order_id = o.order_id),
                    (SELECT count(*) FROM outbox e
                     WHERE e.event_type = 'order.placed' AND e.aggregate_id = o.order_id::text)
             FROM orders o WHERE o.member_id = ANY($1)",
            &[&members],
        )?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    Ok(Books { claims, orders })
}

/// Settles the orders among `shots` (sent for `members`): retries every one
/// without a 201 once against `base`, then checks the database (superuser
/// `admin_url`). Returns the ledger and the retries sent.
pub fn settle(
    admin_url: &str,
    base: &str,
    members: &[Member],
    shots: &[Shot],
) -> anyhow::Result<(Ledger, Vec<Shot>)> {
    let mut retries = Vec::new();
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let orders: Vec<&Shot> = shots.iter().filter(|s| s.kind == Kind::Order).collect();
    let mut ledger = Ledger {
        keys_sent: orders
            .iter()
            .filter_map(|s| s.key.as_deref())
            .collect::<HashSet<_>>()
            .len(),
        ..Ledger::default()
    };
    // (member, key) -> (order id the client was told, lines)
    let mut told: HashMap<(String, String), (Option<i64>, usize)> = HashMap::new();
    let before = read_books(admin_url, &ids)?;
    let agent = client::agent();
    let by_id: HashMap<&str, &Member> = members.iter().map(|m| (m.id.as_str(), m)).collect();
    for shot in &orders {
        let key = shot.key.clone().unwrap_or_default();
        let id = (shot.member.clone(), key.clone());
        if shot.status() == Some(201) {
            ledger.acknowledged += 1;
            told.insert(id, (shot.order_id, shot.lines));
            continue;
        }
        ledger.retried += 1;
        let committed = before.claims.get(&id).copied();
        if committed.is_some() {
            ledger.committed_without_201 += 1;
            ledger.committed_keys.insert(key.clone());
        }
        let member = by_id[shot.member.as_str()];
        let retry = client::order(
            &agent,
            base,
            member,
            &key,
            shot.body.as_deref().unwrap_or(""),
        );
        let ok = retry.status() == Some(201) && retry.order_id.is_some();
        match (ok, committed) {
            (true, Some(c)) if retry.order_id == Some(c) => ledger.retry_replayed += 1,
            (true, None) => ledger.retry_created += 1,
            _ => ledger.unresolved.push(format!(
                "{} (committed before: {committed:?})",
                retry.describe()
            )),
        }
        if ok {
            told.insert(id, (retry.order_id, retry.lines));
        }
        retries.push(retry);
    }

    let after = read_books(admin_url, &ids)?;
    for ((member, key), (order_id, lines)) in &told {
        let claim = after.claims.get(&(member.clone(), key.clone()));
        let problem = match (order_id, claim) {
            (None, _) => Some("201 without an order_id".to_owned()),
            (_, None) => Some("no idempotency row".to_owned()),
            (Some(o), Some(c)) if o != c => Some(format!("idempotency row names order {c}")),
            (Some(o), _) => match after.orders.get(o) {
                None => Some("no orders row".to_owned()),
                Some((m, _, _)) if m != member => Some(format!("orders row of member {m}")),
                Some((_, d, _)) if *d != *lines as i64 => {
                    Some(format!("{d} order_detail rows for {lines} lines"))
                }
                Some((_, _, e)) if *e != 1 => Some(format!("{e} order.placed outbox events")),
                _ => None,
            },
        };
        if let Some(p) = problem {
            ledger
                .lost
                .push(format!("{member}/{key} order {order_id:?}: {p}"));
        }
    }
    let claimed: HashSet<i64> = after.claims.values().copied().collect();
    ledger.orphans = after
        .orders
        .keys()
        .filter(|o| !claimed.contains(o))
        .copied()
        .collect();
    ledger.orphans.sort_unstable();
    let sent: HashSet<(&str, &str)> = orders
        .iter()
        .map(|s| (s.member.as_str(), s.key.as_deref().unwrap_or("")))
        .collect();
    ledger.unknown_keys = after
        .claims
        .keys()
        .filter(|(m, k)| !sent.contains(&(m.as_str(), k.as_str())))
        .count();
    ledger.orders_in_db = after.orders.len();
    ledger.idempotency_rows = after.claims.len();
    Ok((ledger, retries))
}
