//! Bursts on one service, on `make up`'s PostgreSQL: 128 clients browse the
//! menu, then 128 place orders, then members log in. Spin keeps up to 64
//! pooled connections per connection string and never closes them, so each
//! burst leaves its service's pool full; the database must still have room
//! for every other service. No answer may be a 5xx.

use pizza_e2e::{Resp, app};
use serde_json::json;

const CLIENTS: usize = 128;

/// Runs `request(client)` for every client at once, `rounds` times each; the statuses.
fn burst(rounds: usize, request: impl Fn(usize) -> Resp + Sync) -> Vec<u16> {
    std::thread::scope(|s| {
        let request = &request;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| s.spawn(move || (0..rounds).map(|_| request(c).status).collect::<Vec<_>>()))
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    })
}

fn server_errors(statuses: &[u16]) -> usize {
    statuses.iter().filter(|&&s| s >= 500).count()
}

#[test]
fn a_burst_on_one_service_leaves_the_others_their_connections() {
    let a = app();
    let members: Vec<(String, String, String)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                s.spawn(move || {
                    (w..CLIENTS)
                        .step_by(4)
                        .map(|_| a.member("burst"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let branch = a.get("/api/order/branch/", None).json[0]["bran_id"].clone();
    let order = json!({"branchId": branch, "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 1}]});

    let menu = burst(10, |_| a.get("/api/menu/", None));
    assert_eq!(server_errors(&menu), 0, "menu burst: {menu:?}");
    let orders = burst(5, |c| a.post("/api/order/", &order, Some(&members[c].2)));
    assert_eq!(
        server_errors(&orders),
        0,
        "order burst after the menu's: {orders:?}"
    );
    let logins = burst(1, |c| {
        let (id, pw, _) = &members[c];
        a.post("/api/login/", &json!({"id": id, "pw": pw}), None)
    });
    assert_eq!(
        server_errors(&logins),
        0,
        "logins after both bursts: {logins:?}"
    );
    let history = a.get("/api/order/myorder/", Some(&members[0].2));
    assert_eq!(history.status, 200, "{}", history.text);
}
