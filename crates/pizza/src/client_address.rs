//! Which client a request comes from, for the per-address limits.
//!
//! Spin passes the peer's `ip:port` in `spin-client-addr`. Behind proxies
//! (an ingress on SpinKube) the peer is the last proxy, and the client is in
//! `X-Forwarded-For`, where each proxy appends the address it saw. With
//! `trusted_proxy_hops` = N, the N-th address from the right is the client
//! (anything left of it may be forged by the client). An unparsable value
//! falls back to the peer, never to client-supplied text.

use crate::http::Req;
use std::net::{IpAddr, SocketAddr};

/// The client's IP address as text, or `unknown` when Spin passed none.
pub fn client_address(req: &Req, trusted_proxy_hops: usize) -> String {
    forwarded(req, trusted_proxy_hops)
        .or_else(|| peer(req))
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The client named by the trusted proxies, if they are configured and said so.
fn forwarded(req: &Req, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return None;
    }
    let chain: Vec<&str> = req
        .headers
        .iter()
        .filter(|(name, _)| name == "x-forwarded-for")
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .collect();
    let index = chain.len().checked_sub(hops)?;
    chain[index].parse().ok()
}

/// The peer Spin saw (`spin-client-addr`, `ip:port` or `[ipv6]:port`).
fn peer(req: &Req) -> Option<IpAddr> {
    let value = req.header("spin-client-addr")?;
    value
        .parse::<SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| value.parse())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    fn req(headers: &[(&str, &str)]) -> Req {
        Req::new(
            Method::Get,
            headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            String::new(),
            Vec::new(),
        )
    }

    #[test]
    fn the_peer_without_trusted_proxies() {
        let r = req(&[
            ("spin-client-addr", "127.0.0.1:53211"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(client_address(&r, 0), "127.0.0.1");
        let v6 = req(&[("spin-client-addr", "[::1]:8080")]);
        assert_eq!(client_address(&v6, 0), "::1");
        assert_eq!(client_address(&req(&[]), 0), "unknown");
    }

    #[test]
    fn the_nth_forwarded_address_from_the_right_with_n_trusted_hops() {
        let r = req(&[
            ("spin-client-addr", "10.0.0.9:1234"),
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-for", "10.0.0.8"),
        ]);
        assert_eq!(client_address(&r, 1), "10.0.0.8");
        assert_eq!(client_address(&r, 2), "198.51.100.7");
        // More hops than entries, or garbage: the peer, never forged text.
        assert_eq!(client_address(&r, 4), "10.0.0.9");
        let forged = req(&[
            ("spin-client-addr", "10.0.0.9:1234"),
            ("x-forwarded-for", "'; DROP TABLE member;--"),
        ]);
        assert_eq!(client_address(&forged, 1), "10.0.0.9");
    }
}
