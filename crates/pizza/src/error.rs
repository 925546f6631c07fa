//! Errors as the clients expect them: JSON with a `detail` field, as the
//! Django services answered, and the same text in `error`, which is the field
//! the existing front end shows to the user.
//!
//! An `ApiError` is only a value: building one logs nothing and knows nothing
//! of HTTP responses. [`crate::http::serve`] turns it into the response and
//! logs each 5xx once, with its cause and the request's id.

use serde_json::json;

/// An error answer: a status, a human-readable message, extra headers
/// (`Allow`, `Retry-After`) where the status calls for them, and for the
/// service's own failures a cause for the log that the client never sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code, 4xx for the client's mistakes, 5xx for ours.
    pub status: u16,
    /// The message sent as both `detail` and `error`.
    pub detail: String,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
    /// Extra body fields, next to `detail` and `error` (a 409's current state).
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// What went wrong, for the operator's log only.
    cause: Option<String>,
}

impl ApiError {
    /// An error with the given status and message.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            headers: Vec::new(),
            fields: serde_json::Map::new(),
            cause: None,
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a body field for the client to act on.
    pub fn with_field(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// Records what went wrong, for the log line of a 5xx.
    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// The cause recorded for the log, if any.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// 400: the request is malformed or fails validation.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, detail)
    }

    /// 401 with the body the order service has always sent.
    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized")
    }

    /// 403: a valid token without the role the endpoint needs.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, detail)
    }

    /// 404: the thing asked for does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }

    /// 409: the request conflicts with existing data.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, detail)
    }

    /// 405 with the `Allow` header listing what the endpoint accepts.
    pub fn method_not_allowed(method: &str, allow: &str) -> Self {
        Self::new(405, format!("method {method} not allowed")).with_header("allow", allow)
    }

    /// 413: the body is larger than the endpoint accepts.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(413, format!("request body larger than {limit} bytes"))
    }

    /// 415: a body in a media type the endpoint cannot read.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            format!("unsupported media type {content_type:?}: send application/json"),
        )
    }

    /// 412: the `If-Match` version is not the current one.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, detail)
    }

    /// 428: a change sent without `If-Match`.
    pub fn precondition_required(detail: impl Into<String>) -> Self {
        Self::new(428, detail)
    }

    /// 422: well-formed, but contradicts an earlier request.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(422, detail)
    }

    /// 429 with `Retry-After` in whole seconds.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(429, detail).with_header("retry-after", retry_after_secs.max(1).to_string())
    }

    /// 503 with `Retry-After: 1`: a dependency (the database) is unavailable,
    /// or the service is misconfigured; either may pass, so clients may retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, detail).with_header("retry-after", "1")
    }

    /// 500: a bug or an unexpected failure. The cause goes to the log, never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(500, "internal error").with_cause(cause)
    }

    /// The JSON body: `{"detail": ..., "error": ...}` and any extra fields.
    pub fn body(&self) -> serde_json::Value {
        let mut body = self.fields.clone();
        body.insert("detail".into(), json!(self.detail));
        body.insert("error".into(), json!(self.detail));
        serde_json::Value::Object(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_detail_and_error() {
        let e = ApiError::bad_request("missing field `id`");
        assert_eq!(
            e.body(),
            json!({"detail": "missing field `id`", "error": "missing field `id`"})
        );
    }

    #[test]
    fn extra_fields_sit_next_to_detail() {
        let e = ApiError::conflict("no").with_field("state", "ready");
        assert_eq!(
            e.body(),
            json!({"detail": "no", "error": "no", "state": "ready"})
        );
    }

    #[test]
    fn the_cause_stays_out_of_the_body() {
        let e = ApiError::internal("relation \"orders\" does not exist");
        assert_eq!(e.status, 500);
        assert_eq!(e.cause(), Some("relation \"orders\" does not exist"));
        assert!(!e.body().to_string().contains("orders"));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let e = ApiError::too_many_requests("slow down", 0);
        assert_eq!(e.headers, vec![("retry-after".into(), "1".into())]);
    }
}
