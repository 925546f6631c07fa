//! W3C trace context across the host's edges, as Spin 3.6.3 carries it: the
//! incoming request's `traceparent` becomes the parent of the trigger's span,
//! and each outbound request (to another component or out) carries the
//! current span's context, replacing any `traceparent` the guest set. With
//! tracing off, spans are disabled and nothing is read or written.

use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Makes the trace context in `headers`, if any, the parent of `span`.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if span.is_disabled() {
        return;
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into `headers`.
pub fn inject_current(headers: &mut http::HeaderMap) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let context = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&context, &mut HeaderInjector(headers))
    });
}

/// Names `span` once its name is known (Spin's server span gets its route's
/// only after the response). `tracing-opentelemetry` applies a later
/// `otel.name` only to spans not yet started, and a span whose children ran
/// has started, so the name goes to the OpenTelemetry span directly.
pub fn rename(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt;
    span.context().span().update_name(name);
}

/// The trace id of `span` as 32 hex digits, when it is recorded.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}
