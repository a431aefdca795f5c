//! Printing results for people (`text`) or scripts (`json`).

use crate::cli::OutputFormat;

pub fn emit(format: OutputFormat, json: serde_json::Value, text: impl FnOnce() -> String) {
    match format {
        OutputFormat::Json => println!("{json}"),
        OutputFormat::Text => print!("{}", text()),
    }
}

/// `2026-11-28 14:03 UTC` from Unix milliseconds.
pub fn time(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
