//! Mail out, Slack and webhooks for `rampart serve` (and any command that
//! changes reports): the notifiers that queue deliveries in the outbox, and
//! the worker that sends them, built from `[mail]`, `[mail.smtp]`,
//! `[outbox]` and `[[webhooks]]`.

use crate::settings::Settings;
use anyhow::{Context, Result, bail};
use rampart_mail::outbound::{EmailNotifier, OutboundConfig, RetryPolicy};
use rampart_mail::smtp::{SmtpConfig, SmtpSecurity, SmtpSender};
use rampart_mail::webhooks::{Endpoint, EndpointKind, WebhookNotifier};
use rampart_mail::worker::DeliveryWorker;
use rampart_programme::notify::Notifier;
use rampart_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// The channels and their worker.
pub struct Outbound {
    pub email: Option<EmailNotifier>,
    pub webhooks: Option<WebhookNotifier>,
    /// `None` when nothing is configured (no SMTP server, no webhooks).
    pub worker: Option<DeliveryWorker>,
}

impl Outbound {
    /// The notifiers to add to a programme service.
    pub fn notifiers(&self) -> Vec<Arc<dyn Notifier>> {
        let mut v: Vec<Arc<dyn Notifier>> = Vec::new();
        if let Some(e) = &self.email {
            v.push(Arc::new(e.clone()));
        }
        if let Some(w) = &self.webhooks {
            v.push(Arc::new(w.clone()));
        }
        v
    }

    /// `service` with these channels added.
    pub fn attach(&self, mut service: rampart_programme::Service) -> rampart_programme::Service {
        for n in self.notifiers() {
            service = service.with_notifier(n);
        }
        service
    }
}

fn read_secret(inline: &str, file: Option<&std::path::Path>, what: &str) -> Result<String> {
    match file {
        Some(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("could not read {what} from {}", path.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_owned()),
        None => Ok(inline.to_owned()),
    }
}

/// Builds the channels from the settings (checking them: a bad setting is
/// an error at start, not a silent failure at the first notification).
pub fn setup(settings: &Settings, store: &Store) -> Result<Outbound> {
    let public_url = settings.public_url();
    let wake = Arc::new(tokio::sync::Notify::new());
    let o = &settings.outbox;
    if o.first_retry_seconds == 0
        || o.max_retry_seconds < o.first_retry_seconds
        || o.give_up_hours == 0
    {
        bail!(
            "[outbox]: first_retry_seconds must be above 0 and at most max_retry_seconds, and give_up_hours above 0"
        );
    }
    let policy = RetryPolicy {
        first_delay_ms: o.first_retry_seconds.saturating_mul(1000) as i64,
        max_delay_ms: o.max_retry_seconds.saturating_mul(1000) as i64,
        give_up_after_ms: o.give_up_hours.saturating_mul(3_600_000) as i64,
    };

    let mut smtp = None;
    let mut email = None;
    if let Some(s) = &settings.mail.smtp {
        if s.host.trim().is_empty() {
            bail!("[mail.smtp] needs a host (or remove the section to keep mail in the queue)");
        }
        let security = SmtpSecurity::parse(&s.security).with_context(|| {
            format!(
                "[mail.smtp] security must be starttls, tls or none, not {:?}",
                s.security
            )
        })?;
        let port = match (s.port, security) {
            (0, SmtpSecurity::Tls) => 465,
            (0, SmtpSecurity::StartTls) => 587,
            (0, SmtpSecurity::None) => 25,
            (p, _) => p,
        };
        let password = read_secret(&s.password, s.password_file.as_deref(), "the SMTP password")?;
        let config = SmtpConfig {
            host: s.host.trim().to_owned(),
            port,
            security,
            username: (!s.username.is_empty()).then(|| s.username.clone()),
            password: (!s.username.is_empty()).then_some(password),
            ca_file: s.ca_file.clone(),
            timeout: Duration::from_secs(s.timeout_seconds.clamp(1, 600)),
        };
        smtp = Some(SmtpSender::new(&config).context("[mail.smtp]")?);
        let host = url::Url::parse(&public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".into());
        let from = if settings.mail.from.trim().is_empty() {
            format!("{} <security@{host}>", settings.site_name)
        } else {
            settings.mail.from.trim().to_owned()
        };
        let mut n = EmailNotifier::new(
            store.clone(),
            OutboundConfig {
                from,
                public_url: public_url.clone(),
                site_name: settings.site_name.clone(),
            },
        );
        n.wake = wake.clone();
        email = Some(n);
    }

    let mut endpoints = Vec::new();
    for w in &settings.webhooks {
        let kind = match w.kind.as_str() {
            "" | "generic" => EndpointKind::Generic,
            "slack" => EndpointKind::Slack,
            other => bail!(
                "[[webhooks]] {:?}: kind must be generic or slack, not {other:?}",
                w.name
            ),
        };
        let ep = Endpoint {
            name: w.name.trim().to_owned(),
            url: w.url.trim().to_owned(),
            kind,
            secret: read_secret(&w.secret, w.secret_file.as_deref(), "the webhook secret")?,
            events: w.events.clone(),
            programmes: w.programmes.clone(),
        };
        ep.validate().map_err(anyhow::Error::msg)?;
        if endpoints.iter().any(|e: &Endpoint| e.name == ep.name) {
            bail!(
                "[[webhooks]]: two endpoints are named {:?}; names must differ",
                ep.name
            );
        }
        endpoints.push(ep);
    }
    let webhooks = (!endpoints.is_empty()).then(|| WebhookNotifier {
        store: store.clone(),
        endpoints: Arc::new(endpoints.clone()),
        public_url: public_url.clone(),
        wake: wake.clone(),
    });

    let worker = (smtp.is_some() || webhooks.is_some()).then(|| {
        let mut w = DeliveryWorker::new(store.clone());
        w.smtp = smtp;
        w.endpoints = endpoints.into_iter().map(|e| (e.name.clone(), e)).collect();
        w.policy = policy;
        w.wake = wake.clone();
        w.email = email.clone();
        w.webhooks = webhooks.clone();
        w
    });
    Ok(Outbound {
        email,
        webhooks,
        worker,
    })
}

/// For `rampart serve`: adds the channels to the web layer's programme
/// service and starts the delivery worker.
pub fn start(
    settings: &Settings,
    store: &Store,
    mut state: rampart_web::AppState,
) -> Result<rampart_web::AppState> {
    let mut out = setup(settings, store)?;
    state.programmes = out.attach(state.programmes.clone());
    if let Some(e) = &out.email {
        // Password-reset and verification mail: the configured sender, and
        // the worker woken at once.
        state = state.with_mailer(e.clone());
    }
    if let Some(worker) = out.worker.take() {
        tracing::info!(
            email = out.email.is_some(),
            webhooks = out.webhooks.as_ref().map_or(0, |w| w.endpoints.len()),
            "Delivery worker started"
        );
        tokio::spawn(worker.run());
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{SmtpSettings, WebhookSettings};

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::connect(&Store::sqlite_url_for(dir.path()))
            .await
            .unwrap();
        (dir, s)
    }

    #[tokio::test]
    async fn nothing_configured_means_no_worker() {
        let (_d, s) = store().await;
        let o = setup(&Settings::default(), &s).unwrap();
        assert!(o.worker.is_none() && o.notifiers().is_empty());
    }

    #[tokio::test]
    async fn settings_are_checked_at_start() {
        let (_d, s) = store().await;
        let mut bad = Settings::default();
        bad.mail.smtp = Some(SmtpSettings {
            host: "smtp.example.com".into(),
            security: "ssl".into(),
            ..Default::default()
        });
        let e = setup(&bad, &s).err().unwrap().to_string();
        assert!(e.contains("starttls, tls or none"), "{e}");

        let bad = Settings {
            webhooks: vec![WebhookSettings {
                name: "siem".into(),
                url: "https://siem.example.com".into(),
                secret: "short".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = setup(&bad, &s).err().unwrap().to_string();
        assert!(e.contains("at least 16"), "{e}");

        let mut ok = Settings {
            webhooks: vec![WebhookSettings {
                name: "chat".into(),
                kind: "slack".into(),
                url: "https://hooks.slack.com/services/x".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        ok.mail.smtp = Some(SmtpSettings {
            host: "smtp.example.com".into(),
            ..Default::default()
        });
        let o = setup(&ok, &s).unwrap();
        assert_eq!(o.notifiers().len(), 2);
        assert!(o.worker.is_some());
        let e = o.email.unwrap();
        assert_eq!(e.config.from, "Rampart <security@127.0.0.1>");
    }
}
