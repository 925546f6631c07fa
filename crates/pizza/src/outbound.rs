//! Outbound HTTP through Spin's `wasi:http/outgoing-handler`: the relay
//! calling the provider component, that component calling the provider, and
//! the test provider delivering webhooks. Each target must be in the calling
//! component's `allowed_outbound_hosts`.

use spin_sdk::http::{Method, Request, Response, send};

/// A response, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends `method url` with `headers` and `body`; `Err` when no answer came
/// (refused, unreachable, not allowed, reset).
pub async fn call(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Answer, String> {
    let mut request = Request::builder();
    request.method(method).uri(url);
    for (name, value) in headers {
        request.header(*name, *value);
    }
    let response: Response = send(request.body(body).build())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(Answer {
        status: *response.status(),
        body: response.into_body(),
    })
}
