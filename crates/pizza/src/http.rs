//! The thin HTTP glue every component shares: method checks (405 with
//! `Allow`), the request body limit (413), JSON responses, the one place
//! where an [`ApiError`] becomes a response (carrying the request's id), and
//! each request's JSON log line ([`crate::request_log`]).
//!
//! Spin sets no request-body limit of its own and delivers bodies of any size,
//! so the body is read as a stream and reading stops as soon as it passes
//! [`BODY_LIMIT`]: an oversized request costs the instance at most that much
//! memory.

use crate::body::Fields;
use crate::error::ApiError;
use crate::request_log::RequestLog;
use futures::StreamExt;
use serde::Serialize;
use spin_sdk::http::{IncomingRequest, Method, Response};
use std::rc::Rc;

/// The largest request body any endpoint accepts (64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// How much of an oversized body is still read, and thrown away, before the
/// 413 (1 MiB). A gateway in front (SpinKube's) sends the whole body before it
/// reads the answer; if the instance answered and its connection closed with
/// body left unread, the gateway's write would fail and its client get 502.
/// Bodies past this are cut off: their senders get whatever the gateway says.
const DRAIN_LIMIT: u64 = 1024 * 1024;

/// Headers whose values are credentials: `{:?}` of a request never shows them.
const SECRET_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// A request whose method was accepted and whose body was read within the limit.
/// Its `Debug` shows neither the body nor credential headers.
#[derive(Clone)]
pub struct Req {
    /// The method, one of those the endpoint accepts (HEAD arrives as GET).
    pub method: Method,
    /// Headers with lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    /// The query string, without `?` (empty without one).
    pub query: String,
    /// The complete body.
    pub body: Vec<u8>,
    /// The request's log line, which handlers add to.
    log: Rc<RequestLog>,
}

impl Req {
    /// A request as the handler sees it, with a log line of its own.
    pub fn new(
        method: Method,
        headers: Vec<(String, String)>,
        query: String,
        body: Vec<u8>,
    ) -> Req {
        let log = RequestLog::begin(&method.to_string(), |name| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        });
        Req {
            method,
            headers,
            query,
            body,
            log: Rc::new(log),
        }
    }

    /// Names the member a verified token belongs to in the request's log line.
    pub fn note_member(&self, member: &str) {
        self.log.note_member(member);
    }

    /// Adds a business event (`order.placed`, `login.throttled` …) to the
    /// request's log line.
    pub fn note_event(&self, event: impl Into<String>) {
        self.log.note_event(event);
    }

    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body's fields, read as its `Content-Type` says (see [`Fields::parse`]).
    pub fn fields(&self) -> Result<Fields, ApiError> {
        Fields::parse(self.header("content-type"), &self.body)
    }

    /// The first `name=value` of the query string, percent-decoded (`+` is a
    /// space, as in forms). Undecodable bytes become U+FFFD.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A `:name` segment of the route that matched, which Spin passes in the
    /// `spin-path-match-<name>` header.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        let header = format!("spin-path-match-{}", name.to_ascii_lowercase());
        self.header(&header)
    }

    /// The path below the component's route (Spin's `spin-path-info`; for a
    /// private component reached by chaining, the whole path).
    pub fn path_info(&self) -> &str {
        self.header("spin-path-info").unwrap_or("/")
    }
}

impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                    "[REDACTED]"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("Req")
            .field("headers", &headers)
            .field(
                "body",
                &format_args!("[REDACTED {} bytes]", self.body.len()),
            )
            .finish()
    }
}

/// Runs `handler` for a request whose method is one of `allowed`.
///
/// - A method outside `allowed` gets 405 with `Allow` (HEAD counts as GET,
///   OPTIONS answers 204 with `Allow`).
/// - A body over [`BODY_LIMIT`] gets 413, decided from `Content-Length` when
///   present and while streaming otherwise.
/// - Errors become JSON error responses carrying the request's id.
/// - Every request, answered or refused, writes its log line.
pub async fn serve(
    request: IncomingRequest,
    allowed: &[Method],
    handler: impl FnOnce(&Req) -> Result<Response, ApiError>,
) -> Response {
    serve_async(request, allowed, async move |req: &Req| handler(req)).await
}

/// [`serve`] for a handler that awaits (outbound HTTP).
pub async fn serve_async(
    request: IncomingRequest,
    allowed: &[Method],
    handler: impl AsyncFnOnce(&Req) -> Result<Response, ApiError>,
) -> Response {
    // One handle on the headers for the line's few lookups.
    let headers = request.headers();
    let log = Rc::new(RequestLog::begin(&request.method().to_string(), |name| {
        headers
            .get(name)
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }));
    drop(headers);
    let answered = match accept(request, allowed, &log).await {
        Ok(Accepted::Request(req)) => handler(&req).await,
        Ok(Accepted::Options(allow)) => Ok(Response::builder()
            .status(204)
            .header("allow", allow)
            .build()),
        Err(e) => Err(e),
    };
    match answered {
        Ok(response) => {
            log.write(*response.status(), None);
            response
        }
        Err(e) => {
            log.write(e.status, Some(&e));
            error_response(&e, log.request_id())
        }
    }
}

/// The JSON response of an error, with its extra headers and the request's id.
fn error_response(e: &ApiError, request_id: &str) -> Response {
    let mut body = e.body();
    body["request_id"] = request_id.into();
    let mut response = json_response(e.status, &body);
    for (name, value) in &e.headers {
        response.set_header(name, value);
    }
    response
}

/// What [`accept`] made of a request.
enum Accepted {
    Request(Req),
    Options(String),
}

async fn accept(
    request: IncomingRequest,
    allowed: &[Method],
    log: &Rc<RequestLog>,
) -> Result<Accepted, ApiError> {
    let allow = allow_header(allowed);
    let method = match request.method() {
        Method::Head if allowed.contains(&Method::Get) => Method::Get,
        Method::Options => return Ok(Accepted::Options(allow)),
        m if allowed.contains(&m) => m,
        m => return Err(ApiError::method_not_allowed(&m.to_string(), &allow)),
    };
    let query = request
        .path_with_query()
        .and_then(|p| p.split_once('?').map(|(_, q)| q.to_owned()))
        .unwrap_or_default();
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| {
            (
                n.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    let declared = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        if declared.is_some_and(|len| len <= DRAIN_LIMIT) {
            drain(request.into_body_stream(), 0).await;
        }
        return Err(ApiError::payload_too_large(BODY_LIMIT));
    }
    let body = if method == Method::Get {
        Vec::new()
    } else {
        read_body(request).await?
    };
    Ok(Accepted::Request(Req {
        method,
        headers,
        query,
        body,
        log: log.clone(),
    }))
}

/// Reads the body, stopping with 413 as soon as it exceeds the limit.
async fn read_body(request: IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let mut stream = request.into_body_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("unreadable body: {e:?}")))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            drain(stream, (body.len() + chunk.len()) as u64).await;
            return Err(ApiError::payload_too_large(BODY_LIMIT));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and discards the rest of a body of which `read` bytes were read,
/// until it ends or [`DRAIN_LIMIT`] bytes have been read in all.
async fn drain<S, E>(mut stream: S, mut read: u64)
where
    S: futures::Stream<Item = Result<Vec<u8>, E>> + Unpin,
{
    while read <= DRAIN_LIMIT {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len() as u64,
            _ => return,
        }
    }
}

/// The `Allow` header for the accepted methods (GET implies HEAD; OPTIONS is always allowed).
fn allow_header(allowed: &[Method]) -> String {
    let mut names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    if allowed.contains(&Method::Get) {
        names.push("HEAD".into());
    }
    names.push("OPTIONS".into());
    names.join(", ")
}

/// A JSON response that no cache may keep (answers here are per-user or live).
pub fn json_response(status: u16, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).expect("serialising a JSON value cannot fail");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(bytes)
        .build()
}

/// 200 with a JSON body.
pub fn ok(body: &impl Serialize) -> Result<Response, ApiError> {
    Ok(json_response(200, body))
}

/// 200 with a JSON body that clients and proxies may cache for
/// `max_age_secs` and revalidate: it carries a strong `ETag` (a hash of the
/// body), and a request whose `If-None-Match` names it gets 304 without a body.
/// For public data that changes rarely (the API description).
pub fn cacheable_json(req: &Req, body: &impl Serialize, max_age_secs: u32) -> Response {
    let bytes = serde_json::to_vec(body).expect("serialising a JSON value cannot fail");
    let tag = etag(&bytes);
    let fresh = is_known(&if_none_match_tags(req.header("if-none-match")), &tag);
    tagged_json(tag, (!fresh).then_some(bytes), max_age_secs)
}

/// A cacheable JSON answer whose tag was computed ahead (a stored document):
/// 200 with `body`, or 304 when `body` is `None` because the client's
/// [`if_none_match_tags`] named `etag`. Headers as [`cacheable_json`]'s.
pub fn tagged_json(etag: String, body: Option<Vec<u8>>, max_age_secs: u32) -> Response {
    let mut response = match body {
        None => Response::builder().status(304).body(Vec::new()).build(),
        Some(bytes) => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(bytes)
            .build(),
    };
    response.set_header("etag", etag);
    response.set_header("cache-control", format!("public, max-age={max_age_secs}"));
    response
}

/// A strong entity tag for a body: the first 128 bits of its SHA-256, quoted.
/// (Migration 0013 computes the menu documents' tags the same way.)
fn etag(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    format!("\"{}\"", crate::hex::encode(&digest[..16]))
}

/// Whether `tag` is among the client's `known` tags, or they include `*`.
/// (The menu documents' query asks the same in SQL; the console's files use it.)
pub fn is_known(known: &[String], tag: &str) -> bool {
    known.iter().any(|t| t == "*" || t == tag)
}

/// The tags an `If-None-Match` header lists, for RFC 9110's weak comparison:
/// each without its `W/`; `*` stays `*` and matches any tag.
pub fn if_none_match_tags(header: Option<&str>) -> Vec<String> {
    header
        .map(|h| {
            h.split(',')
                .map(str::trim)
                .map(|t| t.strip_prefix("W/").unwrap_or(t).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_hashes_of_the_body() {
        let a = etag(b"[1]");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert_eq!(a, etag(b"[1]"));
        assert_ne!(a, etag(b"[2]"));
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let tag = "\"abc\"";
        let matches = |h: Option<&str>| is_known(&if_none_match_tags(h), tag);
        assert!(matches(Some("\"abc\"")));
        assert!(matches(Some("W/\"abc\"")));
        assert!(matches(Some("\"x\", \"abc\"")));
        assert!(matches(Some("*")));
        assert!(!matches(Some("\"abd\"")));
        assert!(!matches(Some("abc")));
        assert!(!matches(None));
    }

    #[test]
    fn debug_of_a_request_shows_no_credentials_and_no_body() {
        let req = Req::new(
            Method::Get,
            vec![
                ("authorization".into(), "Bearer eyJ.secret.token".into()),
                ("cookie".into(), "session=s3cret".into()),
                ("content-type".into(), "application/json".into()),
            ],
            String::new(),
            br#"{"id":"alice","pw":"hunter2-hunter2"}"#.to_vec(),
        );
        let shown = format!("{req:?}");
        for secret in ["eyJ", "s3cret", "hunter2", "alice"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("application/json"), "{shown}");
        assert!(shown.contains("[REDACTED 37 bytes]"), "{shown}");
    }

    #[test]
    fn path_params_come_from_spins_headers() {
        let req = Req::new(
            Method::Get,
            vec![("spin-path-match-id".into(), "42".into())],
            String::new(),
            Vec::new(),
        );
        assert_eq!(req.path_param("id"), Some("42"));
        assert_eq!(req.path_param("other"), None);
    }

    #[test]
    fn query_params_are_decoded_and_the_first_wins() {
        let req = Req::new(
            Method::Get,
            Vec::new(),
            "branch=Gangnam%20%231&state=placed&branch=x&after=+3".into(),
            Vec::new(),
        );
        assert_eq!(req.query_param("branch").as_deref(), Some("Gangnam #1"));
        assert_eq!(req.query_param("after").as_deref(), Some(" 3"));
        assert_eq!(req.query_param("cursor"), None);
    }

    #[test]
    fn allow_lists_head_for_get_and_always_options() {
        assert_eq!(allow_header(&[Method::Get]), "GET, HEAD, OPTIONS");
        assert_eq!(allow_header(&[Method::Post]), "POST, OPTIONS");
    }
}
