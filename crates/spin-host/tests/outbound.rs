//! Outbound HTTP: allow-list enforcement, service chaining via
//! `<id>.spin.internal`, private routes and relative (self) requests.

mod common;

use common::{get, post};
use std::io::{Read, Write};

/// A one-route HTTP server on a free port answering `upstream-ok`.
fn upstream() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\nupstream-ok",
            );
        }
    });
    port
}

#[test]
fn allowed_real_host_and_denied_hosts() {
    let port = upstream();
    let up = format!("127.0.0.1:{port}");
    let host = common::start(&[("upstream", &up)], &[]);
    assert_eq!(
        post(&host, "/outbound", &[], &format!("http://{up}/x")),
        (200, "200\nupstream-ok".into())
    );
    let other = upstream();
    let (_, body) = post(
        &host,
        "/outbound",
        &[],
        &format!("http://127.0.0.1:{other}/x"),
    );
    assert!(
        body.starts_with("ERR") && body.contains("HttpRequestDenied"),
        "{body}"
    );
    let (_, body) = post(&host, "/outbound-none", &[], &format!("http://{up}/x"));
    assert!(body.contains("HttpRequestDenied"), "{body}");
    // Output is captured by a background thread: wait for it.
    assert!(
        common::output_contains(
            &host,
            "Outbound network destination not allowed: http://127.0.0.1:"
        ),
        "{}",
        host.output()
    );
}

#[test]
fn private_component_via_spin_internal() {
    let host = common::start(&[], &[]);
    // Not reachable from outside: no route.
    assert_eq!(get(&host, "/priv"), (404, String::new()));
    let (status, body) = post(
        &host,
        "/outbound",
        &[],
        "http://priv.spin.internal/some/path?a=1",
    );
    assert_eq!(status, 200);
    assert!(body.starts_with("200\n"), "{body}");
    assert!(
        body.contains("uri=http://priv.spin.internal/some/path?a=1\n"),
        "{body}"
    );
    assert!(
        body.contains("spin-full-url: http://localhost/some/path?a=1\n"),
        "{body}"
    );
    assert!(body.contains("spin-path-info: /some/path\n"), "{body}");
    assert!(body.contains("spin-matched-route: /...\n"), "{body}");
    assert!(body.contains("spin-client-addr: 0.0.0.0:0\n"), "{body}");
    // An allowed host naming no component: Spin 3.6.3's chaining interceptor
    // fails to route it, and that error traps the guest (no `ErrorCode`).
    assert_eq!(
        post(&host, "/outbound", &[], "http://nosuch.spin.internal/"),
        (500, String::new())
    );
    assert!(
        common::output_contains(&host, "unknown routing destination 'nosuch'"),
        "{}",
        host.output()
    );
    // Components not in the allow-list are denied.
    let (_, body) = post(&host, "/outbound", &[], "http://counter.spin.internal/");
    assert!(body.contains("HttpRequestDenied"), "{body}");
    let (_, body) = post(&host, "/outbound-none", &[], "http://priv.spin.internal/");
    assert!(body.contains("HttpRequestDenied"), "{body}");
}

#[test]
fn relative_urls_go_through_the_listener() {
    let host = common::start(&[], &[]);
    let (_, body) = post(&host, "/outbound", &[], "/echo/rel?y=2");
    assert!(body.starts_with("200\n"), "{body}");
    assert!(body.contains("spin-path-info: /rel\n"), "{body}");
    let (_, body) = post(&host, "/outbound", &[], "http://self/echo/rel");
    assert!(body.contains("HttpRequestDenied"), "{body}");
}
