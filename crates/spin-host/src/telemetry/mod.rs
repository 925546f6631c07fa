//! OpenTelemetry for the host, as Spin 3.6.3's `spin-telemetry` crate does it:
//! the same environment variables ([`env`]), `tracing` spans bridged to
//! OpenTelemetry by `tracing-opentelemetry` (so `otel.name` and `otel.kind`
//! fields name and classify spans, as in Spin's `#[instrument]`s), W3C
//! `traceparent` taken from requests and put on outbound ones
//! ([`propagation`]), metrics ([`metrics`]) and the guests' output as log
//! records ([`logs`]), each exported by OTLP over http/protobuf or gRPC.
//!
//! Off by default: without an endpoint no subscriber, exporter or meter
//! provider is installed, so every span is a disabled callsite and every
//! instrument a no-op.

pub mod env;
pub mod logs;
pub mod metrics;
pub mod propagation;

use anyhow::{Context, Result};
use env::{Protocol, Signal};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::prelude::*;

/// The exporters that were started; [`Telemetry::shutdown`] flushes them.
#[derive(Default)]
pub struct Telemetry {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
    logger: Option<SdkLoggerProvider>,
}

/// Starts the exporters the environment asks for. Must run inside the tokio
/// runtime (the batch processors are tokio tasks) and before any request.
pub fn init(version: &str) -> Result<Telemetry> {
    let lookup: env::Lookup = &env::process_env;
    // Propagation works even with tracing off, as in Spin.
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let resource = Resource::builder()
        .with_service_name(env::service_name(lookup))
        .with_attribute(KeyValue::new("service.version", version.to_owned()))
        .build();
    let mut telemetry = Telemetry::default();
    if env::enabled(Signal::Traces, lookup) {
        let provider = tracer_provider(resource.clone(), env::protocol(Signal::Traces, lookup)?)
            .context("failed to initialize otel tracing")?;
        let filter = tracing_subscriber::EnvFilter::try_from_env("SPIN_OTEL_TRACING_LEVEL")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("spin"))
            .with_threads(false)
            .with_filter(filter);
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .context("failed to install the tracing subscriber")?;
        telemetry.tracer = Some(provider);
    }
    if env::enabled(Signal::Metrics, lookup) {
        let provider = meter_provider(resource.clone(), env::protocol(Signal::Metrics, lookup)?)
            .context("failed to initialize otel metrics")?;
        opentelemetry::global::set_meter_provider(provider.clone());
        metrics::enable();
        telemetry.meter = Some(provider);
    }
    if env::enabled(Signal::Logs, lookup) {
        let provider = logger_provider(resource, env::protocol(Signal::Logs, lookup)?)
            .context("failed to initialize otel logging")?;
        logs::enable(&provider);
        telemetry.logger = Some(provider);
    }
    Ok(telemetry)
}

impl Telemetry {
    /// Whether any signal is exported.
    pub fn exporting(&self) -> bool {
        self.tracer.is_some() || self.meter.is_some() || self.logger.is_some()
    }

    /// Exports what is still buffered and stops the exporters (at shutdown,
    /// so that the last requests' spans are not lost).
    pub async fn shutdown(self) {
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(p) = self.tracer {
                let _ = p.shutdown();
            }
            if let Some(p) = self.meter {
                let _ = p.shutdown();
            }
            if let Some(p) = self.logger {
                let _ = p.shutdown();
            }
        })
        .await;
    }
}

fn tracer_provider(resource: Resource, protocol: Protocol) -> Result<SdkTracerProvider> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match protocol {
        Protocol::Grpc => builder.with_tonic().build()?,
        Protocol::HttpProtobuf => builder.with_http().build()?,
    };
    let processor =
        opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter, Tokio,
        )
        .build();
    Ok(SdkTracerProvider::builder()
        .with_resource(resource)
        .with_span_processor(processor)
        .build())
}

fn meter_provider(resource: Resource, protocol: Protocol) -> Result<SdkMeterProvider> {
    let builder = opentelemetry_otlp::MetricExporter::builder();
    let exporter = match protocol {
        Protocol::Grpc => builder.with_tonic().build()?,
        Protocol::HttpProtobuf => builder.with_http().build()?,
    };
    let reader =
        opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
            exporter, Tokio,
        )
        .build();
    Ok(SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource)
        .build())
}

fn logger_provider(resource: Resource, protocol: Protocol) -> Result<SdkLoggerProvider> {
    let builder = opentelemetry_otlp::LogExporter::builder();
    let exporter = match protocol {
        Protocol::Grpc => builder.with_tonic().build()?,
        Protocol::HttpProtobuf => builder.with_http().build()?,
    };
    let processor =
        opentelemetry_sdk::logs::log_processor_with_async_runtime::BatchLogProcessor::builder(
            exporter, Tokio,
        )
        .build();
    Ok(SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_log_processor(processor)
        .build())
}
