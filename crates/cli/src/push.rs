//! `--push URL --token T`: sends a scanner's findings to a running Rampart
//! server through its findings API (`POST /api/v1/findings`).
//!
//! The API is idempotent by fingerprint, so a push that is retried after a
//! lost answer, or the same scan pushed twice, counts occurrences instead of
//! adding rows. That is what makes retrying safe here.

use anyhow::{Context, Result, bail};
use rampart_core::NewFinding;
use serde::Serialize;
use std::time::Duration;

/// Findings per request: well under the server's 50,000 limit, and small
/// enough that one batch stays far below the upload size limit.
const BATCH: usize = 2_000;
/// Attempts per batch when the server is unreachable, overloaded (429) or
/// failing (5xx). Client errors (4xx) are not retried: they will not heal.
const ATTEMPTS: u32 = 4;

/// What the server did with a push.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PushSummary {
    /// Findings the server saw for the first time.
    pub created: u64,
    /// Known findings whose count and last-seen time went up.
    pub updated: u64,
    /// Requests sent.
    pub batches: usize,
}

/// The API's field names, with absent values left out.
#[derive(Serialize)]
struct FindingOut<'a> {
    source: &'a str,
    title: &'a str,
    severity: rampart_core::Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    cvss_vector: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwe: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    fingerprint: &'a str,
}

impl<'a> From<&'a NewFinding> for FindingOut<'a> {
    fn from(f: &'a NewFinding) -> Self {
        FindingOut {
            source: f.source.as_str(),
            title: &f.title,
            severity: f.severity,
            cvss_vector: f.cvss_vector.as_deref(),
            cwe: f.cwe,
            asset: f.asset.as_deref(),
            location: f.location.as_deref(),
            rule_id: f.rule_id.as_deref(),
            description: f.description.as_deref(),
            fingerprint: &f.fingerprint,
        }
    }
}

#[derive(Serialize)]
struct Batch<'a> {
    findings: Vec<FindingOut<'a>>,
}

#[derive(serde::Deserialize)]
struct IngestAnswer {
    created: u64,
    updated: u64,
}

/// Sends `findings` to the Rampart server at `url` (its base address, such
/// as `https://security.example.com`) with the API token `token`, which
/// needs the `findings:write` scope.
pub fn push_findings(url: &str, token: &str, findings: &[NewFinding]) -> Result<PushSummary> {
    let endpoint = endpoint(url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut summary = PushSummary::default();
    for chunk in findings.chunks(BATCH) {
        let body = serde_json::to_vec(&Batch {
            findings: chunk.iter().map(FindingOut::from).collect(),
        })
        .context("could not encode the findings as JSON")?;
        let answer = send_with_retries(&agent, &endpoint, token, &body)?;
        summary.created += answer.created;
        summary.updated += answer.updated;
        summary.batches += 1;
    }
    Ok(summary)
}

fn endpoint(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url).with_context(|| {
        format!("--push {url:?} is not a URL; give the server's address, e.g. https://security.example.com")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--push {url:?} must start with http:// or https:// (the Rampart server's address)");
    }
    Ok(format!("{}/api/v1/findings", url.trim_end_matches('/')))
}

fn send_with_retries(
    agent: &ureq::Agent,
    endpoint: &str,
    token: &str,
    body: &[u8],
) -> Result<IngestAnswer> {
    let mut last_problem = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // 0.5 s, 1 s, 2 s: enough for a restarting server, short for CI.
            std::thread::sleep(Duration::from_millis(500 << (attempt - 1)));
        }
        let response = agent
            .post(endpoint)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body);
        let mut response = match response {
            Ok(r) => r,
            Err(e) => {
                last_problem = format!("could not reach {endpoint}: {e}");
                continue;
            }
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200..=299 => {
                return serde_json::from_str(&text).with_context(|| {
                    format!("{endpoint} answered {status} but not with Rampart's ingest result; is --push the address of a Rampart server?")
                });
            }
            401 => bail!(
                "the server refused the token (401); check --token, or create one with `rampart token create --scope findings:write`"
            ),
            403 => {
                bail!("the token may not write findings (403); it needs the findings:write scope")
            }
            429 | 500..=599 => {
                last_problem = format!("{endpoint} answered {status}: {}", server_message(&text));
            }
            _ => bail!("{endpoint} answered {status}: {}", server_message(&text)),
        }
    }
    bail!("gave up after {ATTEMPTS} attempts; {last_problem}")
}

/// The API's `{"error": "..."}` message, or the start of whatever came back.
fn server_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_is_the_findings_api_under_the_base_url() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080/").expect("valid"),
            "http://127.0.0.1:8080/api/v1/findings"
        );
        assert!(endpoint("127.0.0.1:8080").is_err());
        assert!(endpoint("ftp://example.com").is_err());
    }

    #[test]
    fn absent_fields_are_left_out_of_the_body() {
        let f = NewFinding::builder("secrets", "AWS key", rampart_core::Severity::High).build();
        let json = serde_json::to_value(FindingOut::from(&f)).expect("serialises");
        assert_eq!(json["source"], "secrets");
        assert_eq!(json["severity"], "high");
        assert!(json.get("cwe").is_none());
        assert_eq!(json["fingerprint"].as_str(), Some(f.fingerprint.as_str()));
    }

    #[test]
    fn error_messages_come_from_the_api_body() {
        assert_eq!(server_message(r#"{"error":"bad field"}"#), "bad field");
        assert_eq!(server_message("plain"), "plain");
    }
}
