//! `seed --history`: loading the data set's year of orders (21,350 orders, 48,620 lines)
//! into `orders` and `order_detail`, once, so the shop has its real sales behind it.
//!
//! The orders go to generated member accounts and their home branches as [`crate::spread`]
//! describes. Each keeps its date and time (`created_at` is that instant read as UTC), and
//! each line its quantity and the data set's price of its pizza as its captured
//! `unit_price`. They are `completed`, version 1, with no `order_history` rows: they were
//! never moved through the lifecycle here, and like the legacy orders (state NULL) they
//! read as completed and never enter the kitchen's queue.
//!
//! Ids come from the orders' own id sequence (`nextval`, taken in one statement), so they
//! never collide with the app's orders, live orders placed meanwhile included, and the app
//! goes on numbering above them. They are given in the data set's order: a later order of
//! the year has a higher id.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use postgres::{Client, Transaction};

use crate::catalogue::load_catalogue;
use crate::sales::{Sales, load_sales};
use crate::seed::TableCount;
use crate::spread::{
    HISTORY_MEMBERS, UNUSABLE_PASSWORD, home_branch, member_id, member_name, member_of,
};

/// Advisory-lock key (the bytes of `"pizzahst"`) held by every load, so two runs at once
/// cannot both find the history missing and load it twice.
const HISTORY_LOCK_KEY: i64 = i64::from_be_bytes(*b"pizzahst");

/// What [`seed_history`] did, per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryReport {
    /// `member`: the generated accounts.
    pub members: TableCount,
    /// `orders`.
    pub orders: TableCount,
    /// `order_detail`.
    pub lines: TableCount,
}

impl HistoryReport {
    /// Whether this run found the history loaded already and changed nothing.
    pub fn already_loaded(&self) -> bool {
        self.orders.changed == 0
    }
}

/// The members whose id is a history account's but whose password is not the history
/// accounts' one: someone registered that id, and their account must not get the orders.
const FOREIGN_MEMBER: &str = "
SELECT member_id::text FROM member
WHERE member_id = ANY($1::text[]) AND member_pwd IS DISTINCT FROM $2::text
ORDER BY member_id LIMIT 1";

const LOADED_ORDERS: &str = "SELECT count(*) FROM orders WHERE member_id = ANY($1::text[])";

const MISSING_BRANCH: &str = "
SELECT b FROM unnest($1::text[]) AS b
WHERE NOT EXISTS (SELECT 1 FROM branch WHERE bran_id = b) ORDER BY b LIMIT 1";

const INSERT_MEMBERS: &str = "
INSERT INTO member (member_id, member_pwd, member_nm)
SELECT id, $3::text, nm FROM unnest($1::text[], $2::text[]) AS m(id, nm)
ON CONFLICT (member_id) DO NOTHING";

const TAKE_ORDER_IDS: &str = "SELECT nextval(pg_get_serial_sequence('orders', 'order_id')) FROM generate_series(1, $1::int4)";

const INSERT_ORDERS: &str = "
INSERT INTO orders (order_id, member_id, bran_id, \"date\", \"time\", created_at, state)
SELECT id, member, branch, d, t, (d || ' ' || t)::timestamp AT TIME ZONE 'UTC', 'completed'
FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[], $5::text[]) AS o(id, member, branch, d, t)
ORDER BY id";

const INSERT_LINES: &str = "
INSERT INTO order_detail (order_id, pizza_id, quantity, unit_price)
SELECT id, pizza, quantity, price::numeric
FROM unnest($1::int4[], $2::text[], $3::int4[], $4::text[])
    WITH ORDINALITY AS l(id, pizza, quantity, price, n)
ORDER BY n";

/// Loads the data set's orders and lines from `data_dir` (with the 1,000 generated accounts
/// they are spread over) in one transaction, unless they are loaded already: then
/// it changes nothing. The branches must exist (`pizza-db seed` makes them). Refuses, loading
/// nothing, when a history account's id belongs to someone who registered it.
pub fn seed_history(client: &mut Client, data_dir: &Path) -> anyhow::Result<HistoryReport> {
    let sales = load_sales(data_dir)?;
    let prices: HashMap<String, String> = load_catalogue(data_dir)?
        .pizzas
        .into_iter()
        .map(|p| (p.id, p.price))
        .collect();
    let members: Vec<u32> = (1..=HISTORY_MEMBERS).collect();
    let member_ids: Vec<String> = members.iter().copied().map(member_id).collect();

    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&HISTORY_LOCK_KEY])?;
    if let Some(row) = tx.query_opt(FOREIGN_MEMBER, &[&member_ids, &UNUSABLE_PASSWORD])? {
        let taken: String = row.get(0);
        bail!("member {taken:?} exists and is not a history account; nothing was loaded");
    }
    let mut report = HistoryReport {
        members: TableCount {
            rows: member_ids.len(),
            changed: 0,
        },
        orders: TableCount {
            rows: sales.orders.len(),
            changed: 0,
        },
        lines: TableCount {
            rows: sales.lines.len(),
            changed: 0,
        },
    };
    let loaded: i64 = tx.query_one(LOADED_ORDERS, &[&member_ids])?.get(0);
    if loaded > 0 {
        return Ok(report);
    }
    let branches: Vec<&str> = members.iter().map(|&n| home_branch(n)).collect();
    if let Some(row) = tx.query_opt(MISSING_BRANCH, &[&branches])? {
        let missing: String = row.get(0);
        bail!("branch {missing:?} does not exist; run `pizza-db seed` first");
    }
    let names: Vec<String> = members.iter().copied().map(member_name).collect();
    report.members.changed =
        tx.execute(INSERT_MEMBERS, &[&member_ids, &names, &UNUSABLE_PASSWORD])?;
    let ids = take_order_ids(&mut tx, &sales)?;
    report.orders.changed = insert_orders(&mut tx, &sales, &ids)?;
    report.lines.changed = insert_lines(&mut tx, &sales, &ids, &prices)?;
    tx.commit()?;
    // A year of rows at once: give the planner their statistics now rather than at
    // autovacuum's next look (the sales figures' plan depends on them).
    client.batch_execute("ANALYZE orders, order_detail")?;
    Ok(report)
}

/// A new id for every order of the data set, from the orders' id sequence, in ascending
/// order and so in the data set's order: data-set order id → database id.
fn take_order_ids(tx: &mut Transaction, sales: &Sales) -> anyhow::Result<HashMap<u32, i32>> {
    let count = i32::try_from(sales.orders.len()).context("too many orders")?;
    let mut taken = tx
        .query(TAKE_ORDER_IDS, &[&count])?
        .iter()
        .map(|row| row.try_get::<_, Option<i64>>(0))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Option<Vec<i64>>>()
        .context("orders.order_id has no id sequence")?;
    taken.sort_unstable();
    sales
        .orders
        .iter()
        .zip(taken)
        .map(|(order, id)| {
            let id = i32::try_from(id).context("the orders' id sequence is past integer")?;
            Ok((order.id, id))
        })
        .collect()
}

fn insert_orders(
    tx: &mut Transaction,
    sales: &Sales,
    ids: &HashMap<u32, i32>,
) -> anyhow::Result<u64> {
    let orders = &sales.orders;
    let new_ids: Vec<i32> = orders.iter().map(|o| ids[&o.id]).collect();
    let members: Vec<String> = orders.iter().map(|o| member_id(member_of(o.id))).collect();
    let branches: Vec<&str> = orders
        .iter()
        .map(|o| home_branch(member_of(o.id)))
        .collect();
    let dates: Vec<&str> = orders.iter().map(|o| o.date.as_str()).collect();
    let times: Vec<&str> = orders.iter().map(|o| o.time.as_str()).collect();
    Ok(tx.execute(
        INSERT_ORDERS,
        &[&new_ids, &members, &branches, &dates, &times],
    )?)
}

fn insert_lines(
    tx: &mut Transaction,
    sales: &Sales,
    ids: &HashMap<u32, i32>,
    prices: &HashMap<String, String>,
) -> anyhow::Result<u64> {
    let lines = &sales.lines;
    let order_ids: Vec<i32> = lines.iter().map(|l| ids[&l.order_id]).collect();
    let pizzas: Vec<&str> = lines.iter().map(|l| l.pizza_id.as_str()).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let prices = lines
        .iter()
        .map(|l| {
            prices
                .get(&l.pizza_id)
                .map(String::as_str)
                .with_context(|| {
                    format!(
                        "pizza {} of order {} is not in pizzas.csv",
                        l.pizza_id, l.order_id
                    )
                })
        })
        .collect::<anyhow::Result<Vec<&str>>>()?;
    Ok(tx.execute(INSERT_LINES, &[&order_ids, &pizzas, &quantities, &prices])?)
}
