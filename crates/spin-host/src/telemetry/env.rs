//! Which signals to export and how, read from the environment variables
//! Spin 3.6.3 reads (`crates/telemetry/src/env.rs`): a signal is on when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` or its own `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`
//! is set and not empty, unless `OTEL_SDK_DISABLED` is set and not empty; the
//! protocol is `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`, else
//! `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.

/// One of the three OpenTelemetry signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Counters, gauges and histograms.
    Metrics,
    /// Log records (the guests' output).
    Logs,
}

impl Signal {
    /// The signal's part of the variable names (`TRACES`, `METRICS`, `LOGS`).
    fn upper(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }
}

/// How OTLP is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (`grpc`, port 4317 by convention).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`, port 4318).
    HttpProtobuf,
}

/// Reads one environment variable, treating empty as unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, empty values dropped.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether `signal` is exported.
pub fn enabled(signal: Signal, env: Lookup) -> bool {
    let own = format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", signal.upper());
    (env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() || env(&own).is_some())
        && env("OTEL_SDK_DISABLED").is_none()
}

/// The protocol `signal` is sent with; `http/json`, which Spin refuses, is an
/// error, and any other unknown value falls back to `http/protobuf` with a
/// warning, as in Spin.
pub fn protocol(signal: Signal, env: Lookup) -> anyhow::Result<Protocol> {
    let own = format!("OTEL_EXPORTER_OTLP_{}_PROTOCOL", signal.upper());
    let chosen = env(&own)
        .or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_else(|| "http/protobuf".into());
    match chosen.as_str() {
        "grpc" => Ok(Protocol::Grpc),
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "http/json" => anyhow::bail!("http/json OTLP protocol is not supported"),
        other => {
            eprintln!(
                "spin-host: warning: '{other}' is not a valid OTLP protocol, defaulting to http/protobuf"
            );
            Ok(Protocol::HttpProtobuf)
        }
    }
}

/// `service.name`: `OTEL_SERVICE_NAME`, else the `service.name` of
/// `OTEL_RESOURCE_ATTRIBUTES`, else `spin`, as Spin's resource detector does.
pub fn service_name(env: Lookup) -> String {
    env("OTEL_SERVICE_NAME")
        .or_else(|| {
            env("OTEL_RESOURCE_ATTRIBUTES")?
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| k.trim() == "service.name")
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "spin".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).filter(|v| !v.is_empty()).cloned()
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint() {
        let e = env(&[("OTEL_SERVICE_NAME", "pizza")]);
        for s in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            assert!(!enabled(s, &e));
        }
        assert!(!enabled(
            Signal::Traces,
            &env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "")])
        ));
    }

    #[test]
    fn the_general_endpoint_enables_all_and_a_signals_own_only_that_one() {
        let all = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]);
        assert!(enabled(Signal::Traces, &all) && enabled(Signal::Metrics, &all));
        let traces = env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces",
        )]);
        assert!(enabled(Signal::Traces, &traces));
        assert!(!enabled(Signal::Logs, &traces));
    }

    #[test]
    fn sdk_disabled_wins() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert!(!enabled(Signal::Metrics, &e));
    }

    #[test]
    fn protocol_prefers_the_signals_own_then_the_general_then_http_protobuf() {
        assert_eq!(
            protocol(Signal::Logs, &env(&[])).unwrap(),
            Protocol::HttpProtobuf
        );
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        ]);
        assert_eq!(protocol(Signal::Traces, &e).unwrap(), Protocol::Grpc);
        assert_eq!(
            protocol(Signal::Metrics, &e).unwrap(),
            Protocol::HttpProtobuf
        );
        let json = env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]);
        assert!(protocol(Signal::Traces, &json).is_err());
    }

    #[test]
    fn service_name_falls_back_to_resource_attributes_then_spin() {
        assert_eq!(service_name(&env(&[])), "spin");
        let attrs = env(&[("OTEL_RESOURCE_ATTRIBUTES", "a=b, service.name=pizza-order")]);
        assert_eq!(service_name(&attrs), "pizza-order");
        let both = env(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=x"),
            ("OTEL_SERVICE_NAME", "pizza"),
        ]);
        assert_eq!(service_name(&both), "pizza");
    }
}
