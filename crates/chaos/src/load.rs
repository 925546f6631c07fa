//! Load while a fault is injected: client threads that keep placing orders or
//! reading histories until told to stop, single waves of many concurrent
//! requests, and the shared record of every request.

use crate::client::{self, Kind, Member, Shot};
use pizza_e2e::TestApp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Pause of a client thread after an answer that is not a success, so an
/// outage's fast 503s do not turn the clients into a busy loop that starves
/// the app and the restarting database on a small machine.
const BACKOFF: Duration = Duration::from_millis(100);

/// What can be ordered: the seeded branches and the menu's (name, size) pairs.
pub struct Menu {
    /// `branch.bran_id`s.
    pub branches: Vec<String>,
    /// `(pizza_types.pizza_nm, pizza.size)` of every pizza.
    pub items: Vec<(String, String)>,
}

impl Menu {
    /// Reads the menu from the database (superuser URL).
    pub fn read(admin_url: &str) -> anyhow::Result<Menu> {
        let mut db = postgres::Client::connect(admin_url, postgres::NoTls)?;
        let branches = db
            .query("SELECT bran_id FROM branch ORDER BY bran_id", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect::<Vec<String>>();
        let items = db
            .query(
                "SELECT t.pizza_nm, p.size FROM pizza p
                 JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
                 ORDER BY p.pizza_id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect::<Vec<(String, String)>>();
        anyhow::ensure!(
            !branches.is_empty() && items.len() >= 3,
            "the database has no menu (seeding failed?)"
        );
        Ok(Menu { branches, items })
    }

    /// The `n`-th order body: 1 to 3 distinct lines, varied deterministically.
    pub fn order_body(&self, n: usize) -> String {
        let count = 1 + n % 3;
        let lines: Vec<_> = (0..count)
            .map(|i| {
                let (name, size) = &self.items[(n * 7 + i * 13) % self.items.len()];
                serde_json::json!({"name": name, "size": size, "quantity": 1 + (n + i) % 4})
            })
            .collect();
        let branch = &self.branches[n % self.branches.len()];
        serde_json::json!({"branchId": branch, "lines": lines}).to_string()
    }
}

/// Registers and logs in `n` fresh members (ids from `prefix`).
pub fn members(app: &TestApp, prefix: &str, n: usize) -> Vec<Member> {
    (0..n)
        .map(|_| {
            let (id, _, token) = app.member(prefix);
            Member { id, token }
        })
        .collect()
}

/// Every request of a scenario, appended as answers come in (the scenario
/// watches it live, e.g. for the first success after a restart).
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Shot>>>);

impl Recorder {
    /// Appends one request.
    pub fn push(&self, shot: Shot) {
        self.0.lock().unwrap().push(shot);
    }

    /// Whether any request recorded so far satisfies `pred`; returns the
    /// earliest end time of those that do.
    pub fn first_end(&self, pred: impl Fn(&Shot) -> bool) -> Option<f64> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| pred(s))
            .map(Shot::end_ms)
            .reduce(f64::min)
    }

    /// Everything recorded, in order of completion.
    pub fn snapshot(&self) -> Vec<Shot> {
        self.0.lock().unwrap().clone()
    }
}

/// Client threads running until [`Workers::stop`].
pub struct Workers {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts one thread per `(kind, member)`: each sends requests back to back
    /// (orders with fresh keys `<tag>-<thread>-<n>`), recording every one. With
    /// `end_on_transport_failure`, a thread stops at its first request without
    /// an answer (the host is going away and refuses connections).
    pub fn start(
        base: &str,
        jobs: &[(Kind, Member)],
        menu: &Arc<Menu>,
        tag: &str,
        recorder: &Recorder,
        end_on_transport_failure: bool,
    ) -> Workers {
        let stop = Arc::new(AtomicBool::new(false));
        let handles = jobs
            .iter()
            .enumerate()
            .map(|(thread, (kind, member))| {
                let (base, kind, member) = (base.to_owned(), *kind, member.clone());
                let (menu, recorder, stop) = (menu.clone(), recorder.clone(), stop.clone());
                let tag = format!("{tag}-{}-{thread}", std::process::id());
                std::thread::spawn(move || {
                    let agent = client::agent();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let shot = match kind {
                            Kind::Order => {
                                let body = menu.order_body(thread * 1000 + n);
                                client::order(&agent, &base, &member, &format!("{tag}-{n}"), &body)
                            }
                            Kind::MyOrder => client::my_orders(&agent, &base, &member),
                        };
                        n += 1;
                        let ok = matches!(shot.status(), Some(200 | 201));
                        let gone = shot.transport_failed();
                        recorder.push(shot);
                        if gone && end_on_transport_failure {
                            break;
                        }
                        if !ok {
                            std::thread::sleep(BACKOFF);
                        }
                    }
                })
            })
            .collect();
        Workers { stop, handles }
    }

    /// Tells every thread to stop after its current request and waits for them
    /// (each request is bounded by the client timeout).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles {
            let _ = h.join();
        }
    }
}

/// Sends all `jobs` at once (one thread and one connection each, released
/// together by a barrier) and returns every request. Orders get keys
/// `<tag>-<i>`.
pub fn wave(base: &str, jobs: &[(Kind, Member)], menu: &Arc<Menu>, tag: &str) -> Vec<Shot> {
    let barrier = Arc::new(Barrier::new(jobs.len()));
    let handles: Vec<_> = jobs
        .iter()
        .enumerate()
        .map(|(i, (kind, member))| {
            let (base, kind, member) = (base.to_owned(), *kind, member.clone());
            let (menu, barrier) = (menu.clone(), barrier.clone());
            let key = format!("{tag}-{}-{i}", std::process::id());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let agent = client::agent();
                    barrier.wait();
                    match kind {
                        Kind::Order => {
                            client::order(&agent, &base, &member, &key, &menu.order_body(i))
                        }
                        Kind::MyOrder => client::my_orders(&agent, &base, &member),
                    }
                })
                .expect("spawn a client thread")
        })
        .collect();
    handles.into_iter().filter_map(|h| h.join().ok()).collect()
}

/// Waits until `recorder` holds a request satisfying `pred` or `limit` passes;
/// returns that request's end time.
pub fn wait_for(recorder: &Recorder, limit: Duration, pred: impl Fn(&Shot) -> bool) -> Option<f64> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(t) = recorder.first_end(&pred) {
            return Some(t);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
