//! Routing, `spin-*` headers, well-known endpoints and failure responses.

mod common;

use common::{get, start};

fn header_line<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[test]
fn wildcard_route_gets_spin_headers() {
    let host = start(&[], &[]);
    let resp = testkit::agent()
        .get(format!("{}/echo/things/123?x=1&y=%20z", host.base_url()))
        .header("X-Custom", "abc")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().read_to_string().unwrap();
    let port = host.base_url().rsplit(':').next().unwrap().to_string();
    let full = format!("http://127.0.0.1:{port}/echo/things/123?x=1&y=%20z");
    assert!(body.contains(&format!("uri={full}\n")), "{body}");
    assert_eq!(header_line(&body, "spin-full-url"), Some(full.as_str()));
    assert_eq!(header_line(&body, "spin-path-info"), Some("/things/123"));
    assert_eq!(header_line(&body, "spin-matched-route"), Some("/echo/..."));
    assert_eq!(header_line(&body, "spin-component-route"), Some("/echo"));
    assert_eq!(
        header_line(&body, "spin-raw-component-route"),
        Some("/echo/...")
    );
    assert_eq!(header_line(&body, "spin-base-path"), Some("/"));
    assert!(
        header_line(&body, "spin-client-addr")
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(header_line(&body, "x-custom"), Some("abc"));
    assert_eq!(
        header_line(&body, "host"),
        None,
        "host header must not reach the guest"
    );
    // Guest stdout is forwarded with the component prefix.
    assert!(
        host.output()
            .contains("[echo] echo handled /echo/things/123"),
        "{}",
        host.output()
    );
    assert!(
        common::output_contains(&host, "\"duration_ms\""),
        "access log missing"
    );
}

#[test]
fn exact_param_and_unmatched_routes() {
    let host = start(&[], &[]);
    for path in ["/exact", "/exact/"] {
        let (status, body) = get(&host, path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(header_line(&body, "spin-matched-route"), Some("/exact"));
        assert_eq!(header_line(&body, "spin-component-route"), Some("/exact/"));
        assert_eq!(header_line(&body, "spin-path-info"), Some(""));
    }
    let (status, body) = get(&host, "/items/42/");
    assert_eq!(status, 200);
    assert_eq!(header_line(&body, "spin-path-match-id"), Some("42"));
    let (_, body) = get(&host, "/echo//a/%6Cogin/");
    assert_eq!(header_line(&body, "spin-path-info"), Some("//a/%6Cogin/"));
    for path in ["/items/42/more", "/items", "/echox", "/ECHO/x", "/nothing"] {
        assert_eq!(get(&host, path), (404, String::new()), "{path}");
    }
}

#[test]
fn well_known_endpoints() {
    let host = start(&[], &[]);
    assert_eq!(get(&host, "/.well-known/spin/health"), (200, "OK".into()));
    assert_eq!(
        get(&host, "/.well-known/spin/info"),
        (
            200,
            "{\n  \"name\": \"spin-host-fixtures\",\n  \"version\": \"0.1.0\"\n}".into()
        )
    );
    assert_eq!(get(&host, "/.well-known/spin/other"), (404, String::new()));
}

#[test]
fn methods_head_and_failures() {
    let host = start(&[], &[]);
    let agent = testkit::agent();
    let resp = agent
        .head(format!("{}/echo/x", host.base_url()))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("x-echo").unwrap(), "1");
    // ureq refuses unknown methods, so speak HTTP/1.1 by hand.
    let addr = host.base_url().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "FOO /echo/x HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("method=Method::Other(\"FOO\")"), "{raw}");
    let (status, body) = {
        let mut r = agent
            .delete(format!("{}/echo/x", host.base_url()))
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    assert_eq!(status, 200);
    assert!(body.starts_with("method=Method::Delete"), "{body}");
    assert_eq!(get(&host, "/echo/panic"), (500, String::new()));
    assert_eq!(get(&host, "/echo/trap"), (500, String::new()));
    assert_eq!(
        get(&host, "/echo/error"),
        (500, "probe handler error: deliberate".into())
    );
}

#[test]
fn sigterm_exits_zero() {
    let host = start(&[], &[]);
    assert!(common::output_contains(&host, "Available Routes:"));
    assert!(
        common::output_contains(&host, "  echo: http://127.0.0.1:"),
        "{}",
        host.output()
    );
    assert!(
        !host.output().contains("  priv:"),
        "private component must not be listed"
    );
    let status = host.stop();
    assert!(status.success(), "{status}");
}
