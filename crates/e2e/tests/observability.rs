//! OpenTelemetry end to end: a host exporting to an in-test OTLP receiver
//! while members register, log in and order, each request with its own W3C
//! `traceparent`, as a browser's or gateway's would be. One order is one
//! trace from the trigger's server span down to each SQL statement, with
//! Spin 3.6.3's span names and kinds; every component writes one JSON line
//! per request carrying the trace id; nothing exported holds a secret.

use pizza_e2e::otlp::{CLIENT, Receiver, SERVER, Span};
use pizza_e2e::{JWT_SECRET, RELAY_TOKEN, ROLE_PASSWORDS, Resp, TestApp};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::{Host, Postgres};

/// A `traceparent` for request `n` of this test: trace and parent ids of its own.
fn traceparent(n: u8) -> (String, String, String) {
    let trace = format!(
        "{:032x}",
        0x0af7_6519_16cd_43dd_8448_eb21_1c80_0000u128 + u128::from(n)
    );
    let parent = format!("{:016x}", 0xb7ad_6b71_6920_0000u64 + u64::from(n));
    (format!("00-{trace}-{parent}-01"), trace, parent)
}

fn send(app: &TestApp, n: u8, method: &str, path: &str, token: Option<&str>, body: &Value) -> Resp {
    let (tp, _, _) = traceparent(n);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        ("traceparent", tp.as_str()),
        ("content-type", "application/json"),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let body = body.to_string();
    let body = (method != "GET").then_some(body.as_bytes());
    app.request(method, path, &headers, body)
}

struct Exporting {
    receiver: Receiver,
    host: Host,
    app: TestApp,
    _pg: Postgres,
}

fn exporting_app() -> Exporting {
    let receiver = Receiver::start();
    let pg = Postgres::start();
    pg.create_database("pizza");
    pizza_e2e::prepare_database(&pg.superuser_url("pizza"), true);
    let (host, app) = pizza_e2e::serve_with_env(
        &pg,
        "pizza",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "pizza-e2e"),
            // Export within a fraction of a second rather than the SDK's 5 s
            // (spans, logs) and 60 s (metrics).
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ],
    );
    Exporting {
        receiver,
        host,
        app,
        _pg: pg,
    }
}

fn in_trace<'a>(spans: &'a [Span], trace: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.trace_id == trace).collect()
}

/// Whether `span` descends from the span with id `ancestor`.
fn descends(spans: &[&Span], span: &Span, ancestor: &str) -> bool {
    let mut parent = span.parent_span_id.clone();
    while !parent.is_empty() {
        if parent == ancestor {
            return true;
        }
        parent = spans
            .iter()
            .find(|s| s.span_id == parent)
            .map(|s| s.parent_span_id.clone())
            .unwrap_or_default();
    }
    false
}

#[test]
fn one_order_is_one_trace_down_to_each_statement_and_nothing_secret_is_exported() {
    let Exporting {
        receiver,
        host,
        app,
        _pg,
    } = exporting_app();
    let id = pizza_e2e::unique_id("otel");
    let pw = "otel horse battery staple";
    let r = send(
        &app,
        1,
        "POST",
        "/api/login/register/",
        None,
        &json!({"id": id, "pw": pw, "name": "O"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = send(
        &app,
        2,
        "POST",
        "/api/login/",
        None,
        &json!({"id": id, "pw": pw}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json["token"].as_str().expect("token").to_owned();
    let order = json!({"branchId": "2", "lines": [{"name": "The Greek Pizza", "size": "M", "quantity": 2}]});
    let r = send(&app, 3, "POST", "/api/order/", Some(&token), &order);
    assert_eq!(r.status, 201, "{}", r.text);
    let (_, trace, client_parent) = traceparent(3);

    let complete = |rx: &Receiver| {
        let spans = rx.spans();
        let mine = in_trace(&spans, &trace);
        mine.iter().any(|s| s.kind == SERVER) && mine.iter().any(|s| s.kind == CLIENT)
    };
    assert!(
        receiver.wait_for(Duration::from_secs(15), complete),
        "no trace {trace} with server and client spans; spans: {:#?}\nhost:\n{}",
        receiver.spans(),
        host.output()
    );
    // Let the last statements' spans arrive.
    std::thread::sleep(Duration::from_millis(800));
    let spans = receiver.spans();
    let mine = in_trace(&spans, &trace);

    // The trigger's server span continues the client's traceparent.
    let server: Vec<&&Span> = mine.iter().filter(|s| s.kind == SERVER).collect();
    assert_eq!(server.len(), 1, "{mine:#?}");
    let server = server[0];
    assert_eq!(server.name, "POST /api/order/", "{server:?}");
    assert_eq!(
        server.parent_span_id, client_parent,
        "the client's span is the parent"
    );
    assert_eq!(server.service, "pizza-e2e");
    assert_eq!(server.attributes["http.route"], "/api/order/");
    assert_eq!(server.attributes["http.request.method"], "POST");
    assert_eq!(server.attributes["http.response.status_code"], "201");
    assert_eq!(server.attributes["url.path"], "/api/order/");

    // Then the component's execution, as Spin names it.
    let wasm: Vec<&&Span> = mine
        .iter()
        .filter(|s| s.name == "execute_wasm_component order-create")
        .collect();
    assert_eq!(wasm.len(), 1, "{mine:#?}");
    assert_eq!(wasm[0].parent_span_id, server.span_id);

    // Then each PostgreSQL call: client spans, `db.system = postgresql`,
    // the open named as Spin names it, each statement named by its SQL.
    let pg: Vec<&&Span> = mine
        .iter()
        .filter(|s| s.attributes.get("db.system").map(String::as_str) == Some("postgresql"))
        .collect();
    assert!(pg.iter().all(|s| s.kind == CLIENT), "{pg:#?}");
    assert!(
        pg.iter().all(|s| descends(&mine, s, &server.span_id)),
        "{mine:#?}"
    );
    assert!(
        pg.iter().all(|s| s.parent_span_id == wasm[0].span_id),
        "{mine:#?}"
    );
    let open: Vec<&&&Span> = pg
        .iter()
        .filter(|s| s.name == "spin_outbound_pg.open")
        .collect();
    assert_eq!(open.len(), 1, "one connection per request: {pg:#?}");
    assert_eq!(open[0].attributes["db.namespace"], "pizza");
    assert_eq!(open[0].attributes["db.address"], "127.0.0.1");
    let statements: Vec<&&&Span> = pg
        .iter()
        .filter(|s| s.name != "spin_outbound_pg.open")
        .collect();
    assert_eq!(
        statements.len(),
        1,
        "placing an order is one statement: {pg:#?}"
    );
    assert!(
        statements[0].name.contains("INSERT INTO orders"),
        "named by its statement: {}",
        statements[0].name
    );

    // One JSON line per request, carrying the trace id, the route, the
    // member and the business event, exported as a log record too.
    let order_line = |rx: &Receiver| {
        rx.log_bodies().iter().any(|b| {
            serde_json::from_str::<Value>(b).is_ok_and(|l| {
                l["trace_id"] == trace.as_str() && l["events"] == json!(["order.placed"])
            })
        })
    };
    assert!(
        receiver.wait_for(Duration::from_secs(10), order_line),
        "no log record for the order: {:#?}",
        receiver.log_bodies()
    );

    // Metrics: Spin's request counter and ours.
    let metrics = |rx: &Receiver| {
        let names = rx.metric_names();
        [
            "spin.request_count",
            "http.server.request.duration",
            "spin_host.instances.active",
            "db.client.connection.count",
            "db.client.connection.max",
            "db.client.connection.wait_time",
        ]
        .iter()
        .all(|m| names.iter().any(|n| n == m))
    };
    assert!(
        receiver.wait_for(Duration::from_secs(10), metrics),
        "metrics: {:?}",
        receiver.metric_names()
    );

    // No span, log record or metric holds a password, a token or a
    // connection string.
    let raw = String::from_utf8_lossy(&receiver.raw()).into_owned();
    let mut secrets = vec![pw, token.as_str(), JWT_SECRET, RELAY_TOKEN, "postgres://"];
    secrets.extend(ROLE_PASSWORDS.iter().map(|(_, p)| *p));
    for secret in secrets {
        assert!(!raw.contains(secret), "exported telemetry holds {secret:?}");
    }
    drop(host);
}

#[test]
fn every_request_logs_one_json_line_with_its_trace_id_and_errors_carry_their_request_id() {
    let Exporting {
        receiver: _receiver,
        host,
        app,
        _pg,
    } = exporting_app();
    let (id, _pw, token) = app.member("otellog");
    let sent = [
        send(&app, 10, "GET", "/api/menu/", None, &Value::Null),
        send(
            &app,
            11,
            "POST",
            "/api/order/",
            Some(&token),
            &json!({"branchId": "2", "lines": []}),
        ),
        send(
            &app,
            12,
            "POST",
            "/api/order/",
            Some("forged.token.here"),
            &json!({}),
        ),
        send(
            &app,
            13,
            "DELETE",
            "/api/order/",
            Some(&token),
            &Value::Null,
        ),
    ];
    assert_eq!(
        sent.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 400, 401, 405]
    );
    for r in &sent[1..] {
        let rid = r.json["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no request_id: {}", r.text));
        assert_eq!(rid.len(), 16, "{}", r.text);
    }
    std::thread::sleep(Duration::from_millis(300));
    let output = host.output();
    let lines: Vec<Value> = output
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest))
        .filter(|rest| rest.contains("\"type\":\"request\""))
        .map(|rest| serde_json::from_str(rest).unwrap_or_else(|e| panic!("{e}: {rest}")))
        .collect();
    for (n, r) in (10..).zip(&sent) {
        let (_, trace, _) = traceparent(n);
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| l["trace_id"] == trace.as_str())
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "request {n}: one line, got {mine:?}\n{output}"
        );
        let line = mine[0];
        assert_eq!(line["status"], r.status, "{line}");
        if r.status >= 400 {
            assert_eq!(line["request_id"], r.json["request_id"], "{line}");
            assert_eq!(line["outcome"], "client_error", "{line}");
            assert_eq!(line["detail"], r.json["detail"], "{line}");
        }
        assert!(line["duration_ms"].as_f64().is_some(), "{line}");
    }
    let bad_order = lines
        .iter()
        .find(|l| l["status"] == 400)
        .expect("the 400's line");
    assert_eq!(
        bad_order["member"],
        id.as_str(),
        "the verified member is named"
    );
    assert_eq!(bad_order["route"], "/api/order/");
    for line in &lines {
        let text = line.to_string();
        assert!(
            !text.contains(&token) && !text.contains("correct horse"),
            "{text}"
        );
    }
    drop(host);
}
