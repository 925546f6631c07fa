//! The closed- and open-loop scenarios, as generators of requests: menu 200,
//! menu 304, order rush and login storm.

use crate::client::Req;
use crate::members::{Member, member_headers};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Uri};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Produces the requests of one scenario; `user` is the virtual user and
/// `iter` its iteration (the open loop is user 0, `iter` the request number).
pub trait Scenario: Send + Sync {
    /// The scenario's name in reports.
    fn name(&self) -> &'static str;
    /// The next request of `user`.
    fn request(&self, user: usize, iter: u64) -> Req;
}

/// `base` and `path` as a URI.
pub fn uri(base: &str, path: &str) -> Uri {
    format!("{base}{path}").parse().expect("valid URI")
}

/// `Content-Type: application/json`.
pub fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h
}

/// The scenario of plain menu GETs.
pub const MENU_200: &str = "menu 200";
/// The scenario of revalidating menu GETs.
pub const MENU_304: &str = "menu 304";
/// The order scenario.
pub const ORDER_RUSH: &str = "order rush";
/// The login scenario.
pub const LOGIN_STORM: &str = "login storm";

/// The menu's two routes: path, label of a plain GET, label of a GET with `If-None-Match`.
pub const MENU_ROUTES: [(&str, &str, &str); 2] = [
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

/// `GET /api/menu/` and `/api/menu/types/` in turn, either plain (all 200:
/// "menu 200") or with the current ETag in `If-None-Match` (all 304: "menu 304").
pub struct MenuBrowse {
    name: &'static str,
    requests: Vec<Req>,
}

fn get(base: &str, path: &str, label: &'static str, headers: HeaderMap) -> Req {
    Req {
        label,
        method: Method::GET,
        uri: uri(base, path),
        headers,
        body: Bytes::new(),
        expect: &[200],
    }
}

impl MenuBrowse {
    /// Plain GETs of both routes: the whole menu each time (200).
    pub fn fresh(base: &str) -> MenuBrowse {
        let requests = MENU_ROUTES
            .iter()
            .map(|&(path, label, _)| get(base, path, label, HeaderMap::new()))
            .collect();
        MenuBrowse {
            name: MENU_200,
            requests,
        }
    }

    /// GETs revalidating `etags`, the routes' current ETags (304). A route
    /// that sends no ETag (`None`) gets a tag it cannot match and must answer 200.
    pub fn revalidate(base: &str, etags: [Option<HeaderValue>; 2]) -> MenuBrowse {
        let requests = MENU_ROUTES
            .iter()
            .zip(etags)
            .map(|(&(path, _, label), etag)| {
                let mut headers = HeaderMap::new();
                let matching = etag.is_some();
                let tag = etag.unwrap_or(HeaderValue::from_static("\"no-etag\""));
                headers.insert(IF_NONE_MATCH, tag);
                let mut req = get(base, path, label, headers);
                if matching {
                    req.expect = &[304];
                }
                req
            })
            .collect();
        MenuBrowse {
            name: MENU_304,
            requests,
        }
    }
}

impl Scenario for MenuBrowse {
    fn name(&self) -> &'static str {
        self.name
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
/// The label of a look at one's orders in reports.
pub const MY_ORDERS: &str = "GET /api/order/myorder/";

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
        ORDER_RUSH
    }

    fn request(&self, _user: usize, iter: u64) -> Req {
        if iter % (ORDERS_PER_HISTORY + 1) != ORDERS_PER_HISTORY {
            return self.next_order();
        }
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, self.next_member().bearer.clone());
        Req {
            label: MY_ORDERS,
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
        LOGIN_STORM
    }

    fn request(&self, user: usize, iter: u64) -> Req {
        self.requests[(user + iter as usize) % self.requests.len()].clone()
    }
}
