//! The seed-scale scenario: many registered members using the shop as people
//! do, each on their own schedule (open loop).
//!
//! Every user repeats browse the menu (`GET /api/menu/` and
//! `/api/menu/types/` at once, as a page does; after the first time with the
//! ETag it got in `If-None-Match`, as a browser revalidates), place an order
//! (`POST /api/order/`, the data set's orders in turn, as the order rush),
//! check their orders (`GET /api/order/myorder/`), with an exponentially
//! distributed think time before each action. Each user starts at a random
//! point of that cycle and after a think time, so the load is steady from
//! the first second. Actions are sent at their scheduled time whether or not
//! the user's earlier requests were answered, and latency counts from that
//! scheduled time (no coordinated omission).

use crate::client::{Answer, Client, Req, send};
use crate::load::Stats;
use crate::members::{Member, member_headers};
use crate::rng::Rng;
use crate::scenario::{MENU_ROUTES, MY_ORDERS, ORDER_CREATE, uri};
use bytes::Bytes;
use http::header::{AUTHORIZATION, IF_NONE_MATCH};
use http::{HeaderValue, Method};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The scenario's name in reports.
pub const SEED_SCALE: &str = "seed scale";

/// Actions in one cycle of a user: browse, order, check.
const ACTIONS: usize = 3;

/// How many users, how long they think, for how long.
#[derive(Debug, Clone, Copy)]
pub struct Population {
    /// Users, each a registered member of its own (cycling if fewer members).
    pub users: usize,
    /// Mean of the exponential think time before each action.
    pub think_mean: Duration,
    /// How long actions are scheduled.
    pub duration: Duration,
}

impl Population {
    /// Orders per second the population offers: one per user per cycle of
    /// [`ACTIONS`] think times.
    pub fn offered_orders_per_s(&self) -> f64 {
        self.users as f64 / (ACTIONS as f64 * self.think_mean.as_secs_f64())
    }
}

/// What the run measured.
pub struct Outcome {
    /// Every request, per label.
    pub stats: Stats,
    /// Orders scheduled within the run.
    pub scheduled_orders: u64,
}

/// The shop's routes and the data set's orders, shared by all users.
struct Shop {
    menu: [http::Uri; 2],
    create: http::Uri,
    history: http::Uri,
    orders: Vec<Bytes>,
    next_order: AtomicUsize,
    scheduled_orders: AtomicU64,
}

/// Runs `population` against `base` with `members`.
pub async fn run(
    client: &Client,
    base: &str,
    members: &[Member],
    orders: Vec<Bytes>,
    population: Population,
) -> Outcome {
    let shop = Arc::new(Shop {
        menu: MENU_ROUTES.map(|(path, _, _)| uri(base, path)),
        create: uri(base, "/api/order/"),
        history: uri(base, "/api/order/myorder/"),
        orders,
        next_order: AtomicUsize::new(0),
        scheduled_orders: AtomicU64::new(0),
    });
    let start = Instant::now();
    let end = start + population.duration;
    let mut users = JoinSet::new();
    for user in 0..population.users {
        let member = members[user % members.len()].clone();
        let (client, shop) = (client.clone(), shop.clone());
        users.spawn(user_session(
            client,
            shop,
            member,
            user as u64,
            start,
            end,
            population.think_mean,
        ));
    }
    let mut stats = Stats::new();
    while let Some(done) = users.join_next().await {
        stats.merge(done.expect("user task panicked"));
    }
    stats.elapsed = start.elapsed();
    Outcome {
        stats,
        scheduled_orders: shop.scheduled_orders.load(Ordering::Relaxed),
    }
}

/// A request in flight: what was sent, which menu route (for its ETag), when
/// it was due, and the answer.
type Done = (Req, Option<usize>, Duration, anyhow::Result<Answer>);

/// One user from `start` to `end`: schedules actions, never waits for answers
/// before the next one is due; then waits for the last answers.
async fn user_session(
    client: Client,
    shop: Arc<Shop>,
    member: Member,
    seed: u64,
    start: Instant,
    end: Instant,
    think: Duration,
) -> Stats {
    let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
    let mut action = rng.below(ACTIONS);
    let mut etags: [Option<HeaderValue>; 2] = [None, None];
    let mut in_flight: JoinSet<Done> = JoinSet::new();
    let mut stats = Stats::new();
    let mut due = start + rng.exponential(think);
    while due < end {
        tokio::time::sleep_until(due).await;
        while let Some(done) = in_flight.try_join_next() {
            settle(done.expect("request task panicked"), &mut etags, &mut stats);
        }
        for (req, route) in requests(&shop, &member, action, &etags) {
            let client = client.clone();
            in_flight.spawn(async move {
                let outcome = send(&client, &req).await;
                (req, route, due.elapsed(), outcome)
            });
        }
        action = (action + 1) % ACTIONS;
        due += rng.exponential(think);
    }
    while let Some(done) = in_flight.join_next().await {
        settle(done.expect("request task panicked"), &mut etags, &mut stats);
    }
    stats
}

/// Records an answer; a menu answer's ETag is kept for the next browse.
fn settle(done: Done, etags: &mut [Option<HeaderValue>; 2], stats: &mut Stats) {
    let (req, route, latency, outcome) = done;
    if let (Some(i), Ok(answer)) = (route, &outcome)
        && answer.status == 200
        && answer.etag.is_some()
    {
        etags[i].clone_from(&answer.etag);
    }
    stats.record(&req, latency, &outcome);
}

/// The requests of `action` (0 browse, 1 order, 2 check), each with its menu
/// route index if it is a menu GET.
fn requests(
    shop: &Shop,
    member: &Member,
    action: usize,
    etags: &[Option<HeaderValue>; 2],
) -> Vec<(Req, Option<usize>)> {
    let mut headers = member_headers(&member.from);
    headers.remove(http::header::CONTENT_TYPE);
    let req = |label, method, uri: &http::Uri, headers, body, expect| Req {
        label,
        method,
        uri: uri.clone(),
        headers,
        body,
        expect,
    };
    match action {
        0 => (0..MENU_ROUTES.len())
            .map(|i| {
                let (_, plain, conditional) = MENU_ROUTES[i];
                let mut headers = headers.clone();
                let r = match &etags[i] {
                    Some(tag) => {
                        headers.insert(IF_NONE_MATCH, tag.clone());
                        req(
                            conditional,
                            Method::GET,
                            &shop.menu[i],
                            headers,
                            Bytes::new(),
                            &[200, 304],
                        )
                    }
                    None => req(
                        plain,
                        Method::GET,
                        &shop.menu[i],
                        headers,
                        Bytes::new(),
                        &[200],
                    ),
                };
                (r, Some(i))
            })
            .collect(),
        1 => {
            let mut headers = member_headers(&member.from);
            headers.insert(AUTHORIZATION, member.bearer.clone());
            let k = shop.next_order.fetch_add(1, Ordering::Relaxed) % shop.orders.len();
            shop.scheduled_orders.fetch_add(1, Ordering::Relaxed);
            let body = shop.orders[k].clone();
            vec![(
                req(
                    ORDER_CREATE,
                    Method::POST,
                    &shop.create,
                    headers,
                    body,
                    &[201],
                ),
                None,
            )]
        }
        _ => {
            headers.insert(AUTHORIZATION, member.bearer.clone());
            vec![(
                req(
                    MY_ORDERS,
                    Method::GET,
                    &shop.history,
                    headers,
                    Bytes::new(),
                    &[200],
                ),
                None,
            )]
        }
    }
}
