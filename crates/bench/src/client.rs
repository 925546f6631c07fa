//! The HTTP side of the load generator: one keep-alive hyper client and the
//! requests the scenarios issue.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// How long one request may take before it counts as failed: the host's
/// PostgreSQL pools have no wait timeout, so a stuck run must end somewhere.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP/1.1 client with a keep-alive connection pool (one connection per
/// request in flight, reused afterwards).
pub type Client = HyperClient<HttpConnector, Full<Bytes>>;

/// A new keep-alive client.
pub fn client() -> Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector)
}

/// One request of a scenario and the statuses that count as success. Its
/// `Debug` names the headers without their values and gives the body's
/// length, as they carry tokens and passwords.
#[derive(Clone)]
pub struct Req {
    /// What the request is, as reported (e.g. `POST /api/order/`).
    pub label: &'static str,
    /// The method.
    pub method: Method,
    /// The absolute URI.
    pub uri: Uri,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body (empty for GET).
    pub body: Bytes,
    /// Statuses that are not errors.
    pub expect: &'static [u16],
}

impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Req")
            .field("label", &self.label)
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .field("expect", &self.expect)
            .finish()
    }
}

/// What the server answered.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `ETag` header, if any.
    pub etag: Option<HeaderValue>,
    /// The whole body.
    pub body: Bytes,
}

/// Sends `req` and reads the whole answer; `Err` for transport failures and
/// after [`REQUEST_TIMEOUT`].
pub async fn send(client: &Client, req: &Req) -> anyhow::Result<Answer> {
    let mut builder = http::Request::builder()
        .method(req.method.clone())
        .uri(req.uri.clone());
    if let Some(h) = builder.headers_mut() {
        h.clone_from(&req.headers);
    }
    let request = builder.body(Full::new(req.body.clone()))?;
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status().as_u16();
        let etag = response.headers().get(http::header::ETAG).cloned();
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::Ok(Answer { status, etag, body })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {REQUEST_TIMEOUT:?}"))?
}

/// Sends `req` and fails unless the status is one of `req.expect`.
pub async fn send_expect(client: &Client, req: &Req) -> anyhow::Result<Answer> {
    let answer = send(client, req).await?;
    if !req.expect.contains(&answer.status) {
        anyhow::bail!(
            "{} answered {}: {}",
            req.label,
            answer.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
        );
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_headers_without_values_and_hides_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer eyJ.secret"),
        );
        let req = Req {
            label: "POST /api/login/",
            method: Method::POST,
            uri: Uri::from_static("http://127.0.0.1/api/login/"),
            headers,
            body: Bytes::from_static(br#"{"pw":"hunter2-hunter2"}"#),
            expect: &[200],
        };
        let shown = format!("{req:?}");
        assert!(
            shown.contains("authorization") && shown.contains("body_bytes: 24"),
            "{shown}"
        );
        for secret in ["eyJ", "hunter2"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
