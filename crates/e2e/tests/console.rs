//! The web console: its static files as the app serves them, the admin
//! endpoints its pages read (the catalogue, the audit trail, the role grants
//! and the sales figures over the data set's real year, `pizza-db seed
//! --history`), and the pages themselves in a real headless Chromium
//! (`console/tests/browser.mjs`, playwright-core) against the real app.

use pizza_db::MemberRole;
use pizza_e2e::{Resp, TestApp};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;
use testkit::{Host, Postgres};

/// An app of its own on `make up`'s settings with the data set's year of
/// orders loaded, its admin, and a member of the kitchen of branch 2.
struct Shop {
    app: TestApp,
    admin: (String, String, String),
    staff: (String, String, String),
    _host: Host,
    _pg: Postgres,
}

/// The shop, for one test at a time: the figures a test compares must not
/// move under it because another test placed an order or changed a price.
fn shop() -> (&'static Shop, MutexGuard<'static, ()>) {
    static SERIAL: Mutex<()> = Mutex::new(());
    let turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    (started_shop(), turn)
}

fn started_shop() -> &'static Shop {
    static SHOP: OnceLock<Shop> = OnceLock::new();
    SHOP.get_or_init(|| {
        let (pg, host, app) = pizza_e2e::start_own_app();
        let mut client =
            postgres::Client::connect(&app.admin_url, postgres::NoTls).expect("connect as admin");
        let loaded = Instant::now();
        pizza_db::seed_history(&mut client, &pizza_e2e::data_dir()).expect("seed --history");
        eprintln!("seed --history: {:?}", loaded.elapsed());
        let admin = app.member_with_role("boss", &MemberRole::Admin);
        let staff = app.member_with_role("cook", &MemberRole::Staff { branch: "2".into() });
        Shop {
            app,
            admin,
            staff,
            _host: host,
            _pg: pg,
        }
    })
}

/// What the data set's year sums to, computed here by other SQL than the
/// endpoint's: (orders, revenue, best-selling pizza by revenue).
fn independent_figures(app: &TestApp) -> (i64, f64, String) {
    let counted = "coalesce(o.state, 'completed') IN ('placed', 'paid', 'accepted', 'baking', 'ready', 'completed')";
    let orders = app.sql(&format!(
        "SELECT count(*) FROM orders o WHERE {counted}
           AND EXISTS (SELECT 1 FROM order_detail d WHERE d.order_id = o.order_id)"
    ));
    let revenue = app.sql(&format!(
        "SELECT sum(d.quantity * coalesce(d.unit_price, p.price::numeric(10, 2)))
         FROM orders o, order_detail d, pizza p
         WHERE d.order_id = o.order_id AND p.pizza_id = d.pizza_id AND {counted}"
    ));
    let top = app.sql(&format!(
        "SELECT t.pizza_nm FROM orders o, order_detail d, pizza p, pizza_types t
         WHERE d.order_id = o.order_id AND p.pizza_id = d.pizza_id
           AND t.pizza_type_id = p.pizza_type_id AND {counted}
         GROUP BY t.pizza_nm
         ORDER BY sum(d.quantity * coalesce(d.unit_price, p.price::numeric(10, 2))) DESC LIMIT 1"
    ));
    (
        orders.parse().expect("a count"),
        revenue.parse().expect("a sum"),
        top,
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

#[test]
fn the_sales_figures_are_the_data_sets_year_and_quick() {
    let (s, _turn) = shop();
    let token = &s.admin.2;
    let mut times = Vec::new();
    let mut answers: Vec<Resp> = (0..5)
        .map(|_| {
            let asked = Instant::now();
            let r = s.app.get("/api/admin/sales/", Some(token));
            times.push(asked.elapsed());
            r
        })
        .collect();
    let all = answers.pop().expect("five answers");
    assert_eq!(all.status, 200, "{}", all.text);
    times.sort();
    eprintln!(
        "GET /api/admin/sales/ over the whole year: median {:?}, slowest {:?}",
        times[2], times[4]
    );
    let (orders, revenue, top) = independent_figures(&s.app);
    let f = &all.json;
    assert_eq!(f["orders"].as_i64(), Some(orders), "{}", f["orders"]);
    assert!(
        close(f["revenue"].as_f64().unwrap(), revenue),
        "{} vs {revenue}",
        f["revenue"]
    );
    assert_eq!(f["pizzas"][0]["name"], top.as_str());
    // Unasked, the range is the first and last day sold: the data set's year,
    // and today once a test has placed an order.
    let (first, last, days) = {
        let row = s
            .app
            .sql("SELECT min(date) || ' ' || max(date) || ' ' || count(DISTINCT date) FROM orders");
        let parts: Vec<String> = row.split(' ').map(str::to_owned).collect();
        (
            parts[0].clone(),
            parts[1].clone(),
            parts[2].parse::<usize>().unwrap(),
        )
    };
    assert_eq!(first, "2015-01-01");
    assert_eq!(
        (f["from"].as_str(), f["to"].as_str()),
        (Some(first.as_str()), Some(last.as_str()))
    );
    let sum = |key: &str, field: &str| -> f64 {
        f[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[field].as_f64().unwrap())
            .sum()
    };
    // Every breakdown adds up to the total.
    for key in [
        "by_day",
        "by_hour",
        "pizzas",
        "sizes",
        "categories",
        "branches",
    ] {
        assert!(
            (sum(key, "revenue") - revenue).abs() < 0.5,
            "{key}: {} vs {revenue}",
            sum(key, "revenue")
        );
    }
    assert_eq!(sum("branches", "orders") as i64, orders);
    // 358 days of the data set's year had sales.
    assert!(days >= 358, "{days}");
    assert_eq!(
        f["by_day"].as_array().unwrap().len(),
        days,
        "days with sales"
    );
    let aov = f["average_order_value"].as_f64().unwrap();
    assert!(
        close(aov, (revenue / orders as f64 * 100.0).round() / 100.0),
        "{aov}"
    );

    // One month of one branch: what SQL says of them.
    let jan = s.app.get(
        "/api/admin/sales/?from=2015-01-01&to=2015-01-31&branch=2",
        Some(token),
    );
    assert_eq!(jan.status, 200, "{}", jan.text);
    let expected: i64 = s
        .app
        .sql("SELECT count(*) FROM orders WHERE bran_id = '2' AND date BETWEEN '2015-01-01' AND '2015-01-31' AND coalesce(state, 'completed') = 'completed'")
        .parse()
        .unwrap();
    assert_eq!(jan.json["orders"].as_i64(), Some(expected));
    assert_eq!(jan.json["branches"].as_array().unwrap().len(), 1);
    assert_eq!(jan.json["by_day"].as_array().unwrap().len(), 31);
}

#[test]
fn the_sales_query_is_checked_and_only_admins_may_ask() {
    let (s, _turn) = shop();
    for (query, word) in [
        ("from=2015-02-30", "`from`"),
        ("to=yesterday", "`to`"),
        ("from=2015-03-01&to=2015-02-01", "after"),
    ] {
        let r = s
            .app
            .get(&format!("/api/admin/sales/?{query}"), Some(&s.admin.2));
        let detail = r.assert_error(400);
        assert!(detail.contains(word), "{query}: {detail}");
    }
    assert_eq!(s.app.get("/api/admin/sales/", None).status, 401);
    assert_eq!(s.app.get("/api/admin/sales/", Some(&s.staff.2)).status, 403);
    for path in [
        "/api/admin/menu/",
        "/api/admin/audit/",
        "/api/admin/roles/",
        "/api/admin/branches/",
    ] {
        assert_eq!(s.app.get(path, None).status, 401, "{path}");
        assert_eq!(s.app.get(path, Some(&s.staff.2)).status, 403, "{path}");
    }
    let r = s.app.get("/api/admin/audit/?limit=0", Some(&s.admin.2));
    r.assert_error(400);
}

#[test]
fn the_catalogue_audit_and_grants_show_what_admins_did() {
    let (s, _turn) = shop();
    let token = &s.admin.2;
    let greek_xl = "the_greek_xl";
    let patch = |pizza: &str, body: Value| {
        s.app.request(
            "PATCH",
            &format!("/api/admin/menu/{pizza}/"),
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            Some(body.to_string().as_bytes()),
        )
    };
    // Two changes before the one looked at: the trail has pages.
    for sold_out in [true, false] {
        let r = patch("bbq_ckn_s", json!({ "sold_out": sold_out }));
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = patch(greek_xl, json!({"sold_out": true}));
    assert_eq!(r.status, 200, "{}", r.text);
    let catalogue = s.app.get("/api/admin/menu/", Some(token));
    assert_eq!(catalogue.status, 200, "{}", catalogue.text);
    let pizzas = catalogue.json["pizzas"].as_array().unwrap();
    assert_eq!(pizzas.len(), 96, "every pizza, sold out or not");
    let greek = pizzas
        .iter()
        .find(|p| p["pizza_id"] == greek_xl)
        .expect("sold out, still listed");
    assert_eq!(greek["sold_out"], true);
    assert_eq!(greek["name"], "The Greek Pizza");
    assert!(greek["price"].is_number());
    let public = s.app.get("/api/menu/", None);
    assert!(
        !public.text.contains(greek_xl),
        "the public menu leaves it out"
    );

    let audit = s.app.get("/api/admin/audit/", Some(token));
    assert_eq!(audit.status, 200, "{}", audit.text);
    let newest = &audit.json["entries"][0];
    assert_eq!(newest["action"], "pizza.update");
    assert_eq!(newest["subject"], format!("pizza:{greek_xl}"));
    assert_eq!(newest["actor"], s.admin.0.as_str());
    assert_eq!(newest["after"]["sold_out"], true);
    // Pages: newest first, each below the last page's cursor.
    let first = s.app.get("/api/admin/audit/?limit=1", Some(token));
    let cursor = first.json["next_cursor"]
        .as_i64()
        .expect("older entries: the two changes before");
    let older = s
        .app
        .get(&format!("/api/admin/audit/?cursor={cursor}"), Some(token));
    let ids: Vec<i64> = older.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["audit_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.len() >= 2 && ids.iter().all(|id| *id < cursor),
        "{ids:?} after {cursor}"
    );
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // Every branch says whether it is open; a closed one too.
    let set_open = |open: bool| {
        s.app.request(
            "PATCH",
            "/api/admin/branches/4/",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            Some(json!({ "is_open": open }).to_string().as_bytes()),
        )
    };
    assert_eq!(set_open(false).status, 200);
    let branches = s.app.get("/api/admin/branches/", Some(token));
    assert_eq!(branches.status, 200, "{}", branches.text);
    let open: Vec<(&str, bool)> = branches.json["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["bran_id"].as_str().unwrap(),
                b["is_open"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(open, [("1", true), ("2", true), ("3", true), ("4", false)]);
    assert_eq!(set_open(true).status, 200);

    let grants = s.app.get("/api/admin/roles/", Some(token));
    assert_eq!(grants.status, 200, "{}", grants.text);
    let roles = grants.json["roles"].as_array().unwrap();
    assert!(roles.contains(&json!({"member_id": s.admin.0, "role": "admin", "branch_id": null})));
    assert!(roles.contains(&json!({"member_id": s.staff.0, "role": "staff", "branch_id": "2"})));
}

#[test]
fn the_console_is_served_with_types_tags_and_caching_and_nothing_else() {
    let (s, _turn) = shop();
    let index = s.app.get("/console/", None);
    assert_eq!(index.status, 200, "{}", index.text);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert!(index.header("content-security-policy").is_some());
    let tag = index.header("etag").expect("an ETag").to_owned();
    let again = s
        .app
        .request("GET", "/console/", &[("if-none-match", &tag)], None);
    assert_eq!((again.status, again.text.as_str()), (304, ""));

    // The bundles index.html names: hashed, so cached for a year.
    let scripts: Vec<&str> = index
        .text
        .split('"')
        .filter(|p| p.starts_with("/console/assets/"))
        .collect();
    assert!(scripts.iter().any(|p| p.ends_with(".js")), "{}", index.text);
    for asset in &scripts {
        let r = s.app.get(asset, None);
        assert_eq!(r.status, 200, "{asset}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{asset}"
        );
        let kind = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(r.header("content-type"), Some(kind), "{asset}");
    }

    // Without its slash, redirected (not followed here).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let bare = agent
        .get(format!("{}/console", s.app.base_url))
        .call()
        .expect("GET /console");
    let location = bare.headers().get("location").and_then(|l| l.to_str().ok());
    assert_eq!((bare.status().as_u16(), location), (308, Some("/console/")));
    for path in [
        "/console/nope.html",
        "/console/assets/",
        "/console/../spin.toml",
        "/console/%2e%2e/spin.toml",
        "/console/assets/..%2f..%2fCargo.toml",
        "/console//etc/passwd",
        "/console/index.html/",
    ] {
        let r = s.app.get(path, None);
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    }
}

#[test]
fn a_branch_evening_and_the_years_sales_in_a_real_browser() {
    let (s, _turn) = shop();
    let root = testkit::workspace_root();
    let shots = root.join("target/console-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let (_, _, member_token) = s.app.member("diner");
    let out = Command::new("node")
        .arg(root.join("console/tests/browser.mjs"))
        .env("BASE_URL", &s.app.base_url)
        .env("STAFF_ID", &s.staff.0)
        .env("STAFF_PW", &s.staff.1)
        .env("STAFF_BRANCH", "2")
        .env("ADMIN_ID", &s.admin.0)
        .env("ADMIN_PW", &s.admin.1)
        .env("MEMBER_TOKEN", &member_token)
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .expect("run node console/tests/browser.mjs (make console-test-deps)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).expect("RESULT is JSON"))
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}\n{stderr}"));
    eprintln!("browser: {result}");
    assert!(
        result["board_appeared_ms"].as_f64().unwrap() <= 2000.0,
        "{result}"
    );

    // What the dashboard showed is what SQL says (the evening's order, now
    // completed, included).
    let (orders, revenue, top) = independent_figures(&s.app);
    let kpis = &result["kpis"];
    assert_eq!(kpis["orders"].as_f64(), Some(orders as f64), "{result}");
    assert!(
        close(kpis["revenue"].as_f64().unwrap(), revenue),
        "{result} vs {revenue}"
    );
    assert_eq!(result["top_pizza"], top.as_str());

    // The admin's new price is the menu's.
    let menu = s.app.get("/api/menu/", None);
    let new_price = result["new_price"].as_f64().unwrap();
    assert!(
        menu.text.contains(&format!("{new_price}")),
        "{new_price} not in the menu"
    );
    for page in ["signin", "board", "menu", "branches", "sales"] {
        let shot = shots.join(format!("{page}.png"));
        assert!(
            shot.metadata().is_ok_and(|m| m.len() > 1000),
            "no screenshot {}",
            shot.display()
        );
    }
}
