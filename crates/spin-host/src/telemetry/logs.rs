//! The guests' output as OpenTelemetry log records, as Spin 3.6.3's
//! `handle_app_log` sends it: one record per line a component writes to
//! stdout or stderr, its body the text (lines that are not UTF-8 go as an
//! escaped prefix with `app_log_non_utf8 = true`).

use opentelemetry::logs::{LogRecord, Logger, LoggerProvider};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use std::sync::OnceLock;

static LOGGER: OnceLock<SdkLogger> = OnceLock::new();

/// Sends guest output to `provider` from now on.
pub fn enable(provider: &SdkLoggerProvider) {
    let _ = LOGGER.set(provider.logger("spin"));
}

/// Exports one line of guest output, when logs are exported.
pub fn app_log(line: &[u8]) {
    let Some(logger) = LOGGER.get() else {
        return;
    };
    let mut record = logger.create_log_record();
    match std::str::from_utf8(line) {
        Ok(text) => record.set_body(text.to_owned().into()),
        Err(_) => {
            let escaped: String = line
                .iter()
                .take(50)
                .flat_map(|b| std::ascii::escape_default(*b))
                .map(char::from)
                .collect();
            record.set_body(escaped.into());
            record.add_attribute("app_log_non_utf8", true);
        }
    }
    logger.emit(record);
}
