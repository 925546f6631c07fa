//! The three scenarios of the issue, as generators of requests: menu browse,
//! order rush and login storm.

use crate::client::Req;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Uri};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A member registered and logged in before the load starts.
#[derive(Clone, Debug)]
pub struct Member {
    /// `member_id`.
    pub id: String,
    /// The plain password.
    pub pw: String,
    /// `Bearer <token>`.
    pub bearer: HeaderValue,
    /// The address the member's logins come from, through the trusted proxy
    /// (`X-Forwarded-For`): every member its own, as real customers.
    pub from: HeaderValue,
}

/// Produces the requests of one scenario; `user` is the virtual user and
/// `iter` its iteration (the open loop is user 0, `iter` the request number).
pub trait Scenario: Send + Sync {
    /// The scenario's name in reports.
    fn name(&self) -> &'static str;
    /// The next request of `user`.
    fn request(&self, user: usize, iter: u64) -> Req;
}

fn uri(base: &str, path: &str) -> Uri {
    format!("{base}{path}").parse().expect("valid URI")
}

fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h
}

/// JSON headers of a request a member sends from `from` through the proxy.
fn member_headers(from: &HeaderValue) -> HeaderMap {
    let mut h = json_headers();
    h.insert("x-forwarded-for", from.clone());
    h
}

/// `GET /api/menu/` and `/api/menu/types/`, each with and without `If-None-Match`.
pub struct MenuBrowse {
    requests: Vec<Req>,
}

impl MenuBrowse {
    /// `etags` are the current ETags of the two routes (`None`: the route sends
    /// none, so the conditional request must get 200).
    pub fn new(base: &str, etags: [Option<HeaderValue>; 2]) -> MenuBrowse {
        let routes = [
            (
                "/api/menu/",
                "GET /api/menu/",
                "GET /api/menu/ (If-None-Match)",
            ),
            (
                "/api/menu/types/",
                "GET /api/menu/types/",
                "GET /api/menu/types/ (If-None-Match)",
            ),
        ];
        let mut requests = Vec::new();
        for ((path, plain, conditional), etag) in routes.into_iter().zip(etags) {
            let get = |label, headers, expect| Req {
                label,
                method: Method::GET,
                uri: uri(base, path),
                headers,
                body: Bytes::new(),
                expect,
            };
            requests.push(get(plain, HeaderMap::new(), &[200]));
            let mut headers = HeaderMap::new();
            let expect: &'static [u16] = match etag {
                Some(tag) => {
                    headers.insert(IF_NONE_MATCH, tag);
                    &[304]
                }
                None => {
                    headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"no-etag\""));
                    &[200]
                }
            };
            requests.push(get(conditional, headers, expect));
        }
        MenuBrowse { requests }
    }
}

impl Scenario for MenuBrowse {
    fn name(&self) -> &'static str {
        "menu browse"
    }

    fn request(&self, user: usize, iter: u64) -> Req {
        self.requests[(user + iter as usize) % self.requests.len()].clone()
    }
}

/// Members placing the data set's orders (`POST /api/order/`, 201), one
/// `GET /api/order/myorder/` after every [`ORDERS_PER_HISTORY`] orders.
pub struct OrderRush {
    create: Uri,
    history: Uri,
    members: Vec<Member>,
    orders: Vec<Bytes>,
    next_order: AtomicUsize,
    next_member: AtomicUsize,
}

/// Orders a member places between two looks at their history.
pub const ORDERS_PER_HISTORY: u64 = 3;

/// The label of order placement in reports.
pub const ORDER_CREATE: &str = "POST /api/order/";

impl OrderRush {
    /// Replays `orders` (request bodies, in data-set order, cycling) for `members`.
    pub fn new(base: &str, members: Vec<Member>, orders: Vec<Bytes>) -> OrderRush {
        OrderRush {
            create: uri(base, "/api/order/"),
            history: uri(base, "/api/order/myorder/"),
            members,
            orders,
            next_order: AtomicUsize::new(0),
            next_member: AtomicUsize::new(0),
        }
    }

    /// The next order of the data set, placed by the next member.
    pub fn next_order(&self) -> Req {
        let member = self.next_member();
        let mut headers = json_headers();
        headers.insert(AUTHORIZATION, member.bearer.clone());
        let i = self.next_order.fetch_add(1, Ordering::Relaxed) % self.orders.len();
        Req {
            label: ORDER_CREATE,
            method: Method::POST,
            uri: self.create.clone(),
            headers,
            body: self.orders[i].clone(),
            expect: &[201],
        }
    }

    fn next_member(&self) -> &Member {
        &self.members[self.next_member.fetch_add(1, Ordering::Relaxed) % self.members.len()]
    }
}

impl Scenario for OrderRush {
    fn name(&self) -> &'static str {
        "order rush"
    }

    fn request(&self, _user: usize, iter: u64) -> Req {
        if iter % (ORDERS_PER_HISTORY + 1) != ORDERS_PER_HISTORY {
            return self.next_order();
        }
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, self.next_member().bearer.clone());
        Req {
            label: "GET /api/order/myorder/",
            method: Method::GET,
            uri: self.history.clone(),
            headers,
            body: Bytes::new(),
            expect: &[200],
        }
    }
}

/// Repeated successful logins (`POST /api/login/`, 200): argon2id verification.
pub struct LoginStorm {
    requests: Vec<Req>,
}

impl LoginStorm {
    /// Logins of `members`, in turn.
    pub fn new(base: &str, members: &[Member]) -> LoginStorm {
        let requests = members
            .iter()
            .map(|m| Req {
                label: "POST /api/login/",
                method: Method::POST,
                uri: uri(base, "/api/login/"),
                headers: member_headers(&m.from),
                body: serde_json::json!({"id": m.id, "pw": m.pw})
                    .to_string()
                    .into(),
                expect: &[200],
            })
            .collect();
        LoginStorm { requests }
    }
}

impl Scenario for LoginStorm {
    fn name(&self) -> &'static str {
        "login storm"
    }

    fn request(&self, user: usize, iter: u64) -> Req {
        self.requests[(user + iter as usize) % self.requests.len()].clone()
    }
}

/// Registers and logs in `n` members (`bench<run>_<i>`), two at a time.
pub async fn members(
    client: &crate::client::Client,
    base: &str,
    run: &str,
    n: usize,
) -> anyhow::Result<Vec<Member>> {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..2 {
        let (client, base, run) = (client.clone(), base.to_owned(), run.to_owned());
        tasks.spawn(async move {
            let mut out = Vec::new();
            for i in (worker..n).step_by(2) {
                let from = HeaderValue::from_str(&format!("fd00::b:{i:x}"))?;
                out.push((
                    i,
                    member(&client, &base, &format!("bench{run}_{i}"), from).await?,
                ));
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, m)| m).collect())
}

async fn member(
    client: &crate::client::Client,
    base: &str,
    id: &str,
    from: HeaderValue,
) -> anyhow::Result<Member> {
    let pw = format!("pw-{id}-correct-horse");
    let post = |label, path, body: serde_json::Value, expect| Req {
        label,
        method: Method::POST,
        uri: uri(base, path),
        headers: member_headers(&from),
        body: body.to_string().into(),
        expect,
    };
    let register = post(
        "POST /api/login/register/",
        "/api/login/register/",
        serde_json::json!({"id": id, "pw": pw, "name": "Bench"}),
        &[201],
    );
    crate::client::send_expect(client, &register).await?;
    let login = post(
        "POST /api/login/",
        "/api/login/",
        serde_json::json!({"id": id, "pw": pw}),
        &[200],
    );
    let (_, body) = crate::client::send_expect(client, &login).await?;
    let token = serde_json::from_slice::<serde_json::Value>(&body)?["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login answered without a token"))?
        .to_owned();
    Ok(Member {
        id: id.to_owned(),
        pw,
        bearer: HeaderValue::from_str(&format!("Bearer {token}"))?,
        from,
    })
}
