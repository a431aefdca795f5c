//! Slack (incoming webhook) and generic webhooks on chosen events. Each
//! event is an outbox row per endpoint (queued once: the team's several
//! notices of one event make one call), sent by the delivery worker with
//! retries, every try in the delivery log.
//!
//! Generic webhooks are signed: `X-Rampart-Timestamp: <Unix seconds>` and
//! `X-Rampart-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." +
//! body)>`. A receiver recomputes the HMAC over the raw body, compares in
//! constant time, and refuses timestamps more than five minutes old (a
//! replayed call). `X-Rampart-Delivery` is the row's id, the same on every
//! retry, for receivers that must act once.

use crate::outbound::{DeliveryError, DeliveryOk, is_resolved};
use hmac::{Hmac, Mac};
use rampart_core::{Severity, UnixMillis};
use rampart_programme::notify::{Notice, NoticeKind, Notifier};
use rampart_store::{
    CHANNEL_SLACK, CHANNEL_WEBHOOK, NewOutbox, OutboxRow, Programme, Report, Store, StoreError,
};
use serde_json::json;
use sha2::Sha256;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The events an endpoint can choose.
pub const EVENTS: [&str; 4] = [
    EVENT_REPORT_NEW,
    EVENT_FINDING_CRITICAL_HIGH,
    EVENT_TARGET_BREACHED,
    EVENT_REPORT_RESOLVED,
];
pub const EVENT_REPORT_NEW: &str = "report.new";
/// A new report whose severity (the team's, else the researcher's) is
/// critical or high.
pub const EVENT_FINDING_CRITICAL_HIGH: &str = "finding.critical_high";
pub const EVENT_TARGET_BREACHED: &str = "response_target.breached";
pub const EVENT_REPORT_RESOLVED: &str = "report.resolved";

/// The body shape an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// Signed JSON: `{event, delivery_key, occurred_at, message, report}`.
    Generic,
    /// Slack incoming webhook: `{"text": …}` with mrkdwn (Slack does not
    /// check signatures; the URL is the secret).
    Slack,
}

/// One configured endpoint.
#[derive(Clone)]
pub struct Endpoint {
    /// Unique; rows name their endpoint by it.
    pub name: String,
    pub url: String,
    pub kind: EndpointKind,
    /// HMAC key for generic webhooks.
    pub secret: String,
    /// Chosen events; empty: all of [`EVENTS`].
    pub events: Vec<String>,
    /// Programmes (slugs) whose events it hears; empty: every programme.
    pub programmes: Vec<String>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the secret nor a Slack URL (which is one) goes into logs.
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub fn wants(&self, event: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event)
    }

    /// Whether events of this programme go to this endpoint.
    pub fn hears(&self, programme_slug: &str) -> bool {
        self.programmes.is_empty() || self.programmes.iter().any(|p| p == programme_slug)
    }

    /// Checks the settings: an http(s) URL, a secret for generic hooks,
    /// known event names.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("every [[webhooks]] entry needs a name".into());
        }
        let u = url::Url::parse(&self.url)
            .map_err(|e| format!("webhook {:?}: url is not a URL ({e})", self.name))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!(
                "webhook {:?}: url must start with https:// (or http:// for a receiver on this machine)",
                self.name
            ));
        }
        if self.kind == EndpointKind::Generic && self.secret.len() < 16 {
            return Err(format!(
                "webhook {:?}: a secret of at least 16 characters is required to sign calls (e.g. `openssl rand -hex 32`)",
                self.name
            ));
        }
        for e in &self.events {
            if !EVENTS.contains(&e.as_str()) {
                return Err(format!(
                    "webhook {:?}: unknown event {e:?}; choose from {}",
                    self.name,
                    EVENTS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// `sha256=<hex>` over `timestamp + "." + body`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The receiver's side, as the documentation describes it: constant-time
/// comparison and a five-minute window.
pub fn verify_signature(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
    now_secs: i64,
) -> bool {
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if (now_secs - ts).abs() > 300 {
        return false;
    }
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The webhook and Slack channel: turns notices into outbox rows.
#[derive(Clone)]
pub struct WebhookNotifier {
    pub store: Store,
    pub endpoints: Arc<Vec<Endpoint>>,
    pub public_url: String,
    pub wake: Arc<tokio::sync::Notify>,
}

fn severity(r: &Report) -> Option<Severity> {
    r.final_severity.or(r.researcher_severity)
}

impl WebhookNotifier {
    fn report_url(&self, id: i64) -> String {
        format!("{}/reports/{id}", self.public_url.trim_end_matches('/'))
    }

    /// Queues `event` about `report` to every endpoint that chose it, once
    /// per `occurrence` (a key that is the same for every notice of one
    /// event). Returns how many rows were queued.
    pub async fn queue_event(
        &self,
        event: &str,
        report: &Report,
        programme: &Programme,
        message: &str,
        occurrence: &str,
        at: UnixMillis,
    ) -> Result<usize, StoreError> {
        let url = self.report_url(report.id);
        let sev = severity(report).map(|s| s.label().to_lowercase());
        let mut queued = 0;
        for ep in self
            .endpoints
            .iter()
            .filter(|e| e.wants(event) && e.hears(&programme.slug))
        {
            let key = format!("{}:{event}:{}:{occurrence}", ep.name, report.id);
            let body = match ep.kind {
                EndpointKind::Generic => json!({
                    "event": event,
                    "delivery_key": key,
                    "occurred_at": at,
                    "message": message,
                    "report": {
                        "id": report.id,
                        "title": report.title,
                        "state": report.state.as_str(),
                        "severity": sev,
                        "programme": programme.slug,
                        "url": url,
                    },
                }),
                EndpointKind::Slack => {
                    let sev = sev
                        .as_deref()
                        .map(|s| format!(" · severity {s}"))
                        .unwrap_or_default();
                    json!({
                        "text": format!("{message}: <{url}|#{} {}>", report.id, slack_escape(&report.title)),
                        "blocks": [{
                            "type": "section",
                            "text": {
                                "type": "mrkdwn",
                                "text": format!(
                                    "*{}*\n<{url}|#{} {}>\n{}{sev}",
                                    slack_escape(message),
                                    report.id,
                                    slack_escape(&report.title),
                                    slack_escape(&programme.name),
                                ),
                            },
                        }],
                    })
                }
            };
            let row = NewOutbox {
                channel: match ep.kind {
                    EndpointKind::Generic => CHANNEL_WEBHOOK,
                    EndpointKind::Slack => CHANNEL_SLACK,
                }
                .into(),
                target: ep.name.clone(),
                subject: event.to_owned(),
                body: body.to_string(),
                headers: String::new(),
                message_id: None,
                report_id: Some(report.id),
                user_id: None,
                kind: event.to_owned(),
                dedupe_key: Some(key),
            };
            if self.store.enqueue_outbox(&row, at).await?.is_some() {
                queued += 1;
            }
        }
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    async fn deliver_notice(&self, n: &Notice) -> Result<(), StoreError> {
        let Some(report_id) = n.report_id else {
            return Ok(());
        };
        let wanted: Vec<&str> = match n.kind {
            NoticeKind::ReportReceived => vec![EVENT_REPORT_NEW, EVENT_FINDING_CRITICAL_HIGH],
            NoticeKind::StateChanged => vec![EVENT_REPORT_RESOLVED],
            _ => return Ok(()),
        };
        if !self
            .endpoints
            .iter()
            .any(|e| wanted.iter().any(|w| e.wants(w)))
        {
            return Ok(());
        }
        let report = self.store.report(report_id).await?;
        let programme = self.store.programme_by_id(report.programme_id).await?;
        let occurrence = n.at.to_string();
        for event in wanted {
            let fire = match event {
                EVENT_REPORT_NEW => true,
                EVENT_FINDING_CRITICAL_HIGH => {
                    matches!(severity(&report), Some(Severity::Critical | Severity::High))
                }
                EVENT_REPORT_RESOLVED => is_resolved(report.state),
                _ => false,
            };
            if !fire {
                continue;
            }
            let message = match event {
                EVENT_REPORT_NEW => format!("New report to {}", programme.name),
                EVENT_FINDING_CRITICAL_HIGH => format!(
                    "New {} severity report to {}",
                    severity(&report)
                        .map_or("high", |s| s.label())
                        .to_lowercase(),
                    programme.name
                ),
                _ => format!("Report resolved in {}", programme.name),
            };
            self.queue_event(event, &report, &programme, &message, &occurrence, n.at)
                .await?;
        }
        Ok(())
    }
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn deliver<'a>(
        &'a self,
        notice: &'a Notice,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(self.deliver_notice(notice))
    }
}

/// Slack's three mrkdwn control characters.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sends webhook and Slack rows over HTTP(S).
#[derive(Clone)]
pub struct HttpSender {
    agent: ureq::Agent,
}

impl Default for HttpSender {
    fn default() -> Self {
        Self::new(Duration::from_secs(10))
    }
}

impl HttpSender {
    pub fn new(timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            // A receiver that redirects is misconfigured; following it would
            // send the signed body somewhere nobody configured.
            .max_redirects(0)
            .user_agent(concat!("rampart-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HttpSender { agent }
    }

    /// One call. 2xx is delivered; anything else (including 4xx: a
    /// receiver being fixed) is retried until the row is given up.
    pub async fn send(
        &self,
        row: &OutboxRow,
        endpoint: &Endpoint,
        now: UnixMillis,
    ) -> Result<DeliveryOk, DeliveryError> {
        let agent = self.agent.clone();
        let url = endpoint.url.clone();
        let body = row.body.clone().into_bytes();
        let ts = now.div_euclid(1000);
        let mut headers: Vec<(&'static str, String)> = vec![
            ("Content-Type", "application/json".into()),
            ("X-Rampart-Event", row.kind.clone()),
            ("X-Rampart-Delivery", row.id.to_string()),
        ];
        if endpoint.kind == EndpointKind::Generic {
            headers.push(("X-Rampart-Timestamp", ts.to_string()));
            headers.push((
                "X-Rampart-Signature",
                signature(&endpoint.secret, ts, &body),
            ));
        }
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let mut req = agent.post(&url);
            for (k, v) in &headers {
                req = req.header(*k, v);
            }
            match req.send(&body[..]) {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let text = resp
                        .body_mut()
                        .with_config()
                        .limit(64 * 1024)
                        .read_to_string()
                        .unwrap_or_default();
                    Ok((status, text))
                }
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        let elapsed = started.elapsed();
        match result {
            Ok(Ok((status, text))) if (200..300).contains(&status) => Ok(DeliveryOk {
                status_code: Some(i64::from(status)),
                detail: text,
            }),
            Ok(Ok((status, text))) => Err(DeliveryError {
                permanent: false,
                status_code: Some(i64::from(status)),
                detail: format!("answered {status}: {text}"),
            }),
            Ok(Err(e)) => Err(DeliveryError {
                permanent: false,
                status_code: None,
                detail: format!("could not reach the receiver after {elapsed:?}: {e}"),
            }),
            Err(e) => Err(DeliveryError {
                permanent: false,
                status_code: None,
                detail: format!("the call stopped: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let body = br#"{"event":"report.new"}"#;
        let sig = signature("0123456789abcdef", 1_800_000_000, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify_signature(
            "0123456789abcdef",
            "1800000000",
            body,
            &sig,
            1_800_000_100
        ));
        assert!(!verify_signature(
            "0123456789abcdeX",
            "1800000000",
            body,
            &sig,
            1_800_000_100
        ));
        assert!(!verify_signature(
            "0123456789abcdef",
            "1800000001",
            body,
            &sig,
            1_800_000_100
        ));
        assert!(!verify_signature(
            "0123456789abcdef",
            "1800000000",
            b"{}",
            &sig,
            1_800_000_100
        ));
        assert!(!verify_signature(
            "0123456789abcdef",
            "1800000000",
            body,
            &sig,
            1_800_000_301
        ));
        assert!(!verify_signature("0123456789abcdef", "x", body, &sig, 0));
        assert!(!verify_signature(
            "0123456789abcdef",
            "1800000000",
            body,
            "md5=00",
            1_800_000_000
        ));
    }

    #[test]
    fn known_answer() {
        // printf '%s' '1700000000.{}' | openssl dgst -sha256 -hmac 'secret-secret-secret'
        assert_eq!(
            signature("secret-secret-secret", 1_700_000_000, b"{}"),
            "sha256=9abb7ec2de5533bf35e03b3947b220889dd81b1238d43182a426463aafcc6e8c"
        );
    }

    #[test]
    fn endpoint_settings_are_checked() {
        let ok = Endpoint {
            name: "siem".into(),
            url: "https://siem.example.com/hook".into(),
            kind: EndpointKind::Generic,
            secret: "0123456789abcdef".into(),
            events: vec!["report.new".into()],
            programmes: vec![],
        };
        assert!(ok.validate().is_ok());
        assert!(ok.hears("shop"));
        let only = Endpoint {
            programmes: vec!["blog".into()],
            ..ok.clone()
        };
        assert!(only.hears("blog") && !only.hears("shop"));
        assert!(ok.wants("report.new") && !ok.wants("report.resolved"));
        let all = Endpoint {
            events: vec![],
            ..ok.clone()
        };
        assert!(EVENTS.iter().all(|e| all.wants(e)));
        for bad in [
            Endpoint {
                url: "ftp://x".into(),
                ..ok.clone()
            },
            Endpoint {
                url: "not a url".into(),
                ..ok.clone()
            },
            Endpoint {
                secret: "short".into(),
                ..ok.clone()
            },
            Endpoint {
                events: vec!["report.deleted".into()],
                ..ok.clone()
            },
            Endpoint {
                name: " ".into(),
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let slack = Endpoint {
            kind: EndpointKind::Slack,
            secret: String::new(),
            ..ok.clone()
        };
        assert!(slack.validate().is_ok(), "Slack needs no secret");
        assert!(
            !format!("{slack:?}").contains("siem.example.com"),
            "URL hidden from logs"
        );
        assert_eq!(slack_escape("<b>&"), "&lt;b&gt;&amp;");
    }
}
