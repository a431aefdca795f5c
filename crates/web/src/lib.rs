//! Rampart's HTTP layer: the web UI, the JSON API and the security
//! middleware that every request passes through.
//!
//! The crate knows the [`rampart_store::Store`] API but not which database
//! is behind it; the binary chooses and passes the store in [`AppState`].
//! Build the whole application with [`router`].
//!
//! Request pipeline, outermost first:
//! 1. security headers on every response (CSP, nosniff, frame-ancestors, …)
//! 2. panic catcher (a bug answers 500, never kills the server), tracing
//! 3. body size limit (413)
//! 4. [`middleware::identify`]: client address, session cookie or bearer
//!    token resolved into a [`Principal`], rate limits
//! 5. [`middleware::csrf`]: every state-changing request made with a cookie
//!    must carry the session's (or the pre-login) CSRF token
//! 6. the routes, where each handler asks the authorisation question for
//!    the action and then for the object

mod api;
mod attachments;
mod clock;
mod config;
mod cookies;
mod error;
mod forms;
mod mail_api;
mod markdown;
pub mod middleware;
mod openapi;
mod principal;
mod programme_api;
mod ratelimit;
mod routes;
mod views;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{MailInConfig, SecurityTxtConfig, WebConfig};
pub use error::AppError;
pub use principal::{Principal, Via};

use rampart_auth::PasswordHasher;
use rampart_store::Store;
use std::sync::Arc;

/// When the source list was read (Unix ms), and what it was.
type SourcesCache = (i64, Vec<String>);

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub limits: Arc<ratelimit::Limits>,
    /// Renders Prometheus metrics; `None` when the binary installed none.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The distinct finding sources for filter menus: a full index scan at
    /// scale, so kept for a short while and dropped on every ingestion.
    pub(crate) sources_cache: Arc<std::sync::Mutex<Option<SourcesCache>>>,
    /// Statistics refresh after imports: 0 idle, 1 running, 2 running and
    /// asked again. Imports arriving back to back share one refresh (plus
    /// one more at the end) instead of each starting its own.
    optimize_state: Arc<std::sync::atomic::AtomicU8>,
    /// Staff who can be assigned findings, for the assignee menus on every
    /// findings page; kept briefly and dropped when an admin changes users.
    assignees_cache: Arc<std::sync::Mutex<Option<AssigneesCache>>>,
    /// The programme's rules (submissions, workflow, bounties) and its
    /// notification channels.
    pub programmes: rampart_programme::Service,
    /// Report attachments on disk.
    pub(crate) files: attachments::FileStore,
    /// SPF, DKIM and DMARC for mail handed in over the API; `None`: not
    /// evaluated (recorded as `none`).
    pub(crate) mail_checks: Option<rampart_mail::SenderChecks>,
    /// Queues the web layer's own mail (password reset, address
    /// verification) in the outbox. Without `[mail.smtp]` the rows wait.
    pub(crate) mailer: rampart_mail::outbound::EmailNotifier,
}

/// The sender `rampart serve` would pick without `[mail] from`, for an
/// application state made without [`AppState::with_mailer`].
fn default_outbound_config(config: &WebConfig) -> rampart_mail::outbound::OutboundConfig {
    let host = url::Url::parse(&config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    rampart_mail::outbound::OutboundConfig {
        from: format!("{} <security@{host}>", config.site_name),
        public_url: config.public_url.clone(),
        site_name: config.site_name.clone(),
    }
}

/// When the assignee list was read (Unix ms), and `(id, email)` pairs.
type AssigneesCache = (i64, Vec<(i64, String)>);

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        let limits = Arc::new(ratelimit::Limits::new(&config));
        let mailer = rampart_mail::outbound::EmailNotifier::new(
            store.clone(),
            default_outbound_config(&config),
        );
        AppState {
            mailer,
            programmes: rampart_programme::Service::new(store.clone()),
            files: attachments::FileStore::new(config.attachment_dir.clone()),
            store,
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            hasher: PasswordHasher::default(),
            limits,
            metrics: None,
            sources_cache: Arc::default(),
            optimize_state: Arc::default(),
            assignees_cache: Arc::default(),
            mail_checks: None,
        }
    }

    /// Queues the web layer's mail through this email channel (the one the
    /// server configured from `[mail]`, whose worker it wakes).
    pub fn with_mailer(mut self, mailer: rampart_mail::outbound::EmailNotifier) -> Self {
        self.mailer = mailer;
        self
    }

    /// Evaluates sender checks on mail handed in over the API.
    pub fn with_mail_checks(mut self, checks: rampart_mail::SenderChecks) -> Self {
        self.mail_checks = Some(checks);
        self
    }

    /// The mail intake, on this state's programme service (so mailed
    /// reports get the same notifications as web reports) and file store.
    pub fn mail_intake(&self) -> rampart_mail::Intake {
        rampart_mail::Intake {
            service: self.programmes.clone(),
            files: self.files.clone(),
            checks: self.mail_checks.clone(),
            config: rampart_mail::IntakeConfig {
                max_message_bytes: self.config.mail.max_message_bytes,
                max_attachment_bytes: self.config.max_attachment_bytes,
                default_programme: self.config.mail.default_programme.clone(),
                max_reports_per_hour: self.config.reports_per_hour,
                pgp: self.config.mail.pgp.clone(),
                // The server's intake takes mail over HTTP and IMAP, where
                // no MTA bounces a refusal: it is mailed through the outbox.
                refusals: Some(rampart_mail::refusal::RefusalMail {
                    mailer: self.mailer.clone(),
                }),
            },
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = hasher;
        self
    }

    pub fn with_metrics(mut self, handle: metrics_exporter_prometheus::PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// Forgets files uploaded with forms that were never completed (after a
    /// day) and deletes their bytes; run by the server's housekeeping.
    pub async fn purge_staged_files(&self) -> Result<usize, AppError> {
        let unused = self
            .store
            .purge_staged_attachments(self.now() - 86_400_000)
            .await?;
        for sha in &unused {
            self.files.remove(sha).await;
        }
        Ok(unused.len())
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Distinct finding sources, from a cache at most 60 seconds old.
    pub(crate) async fn finding_sources(&self) -> Result<Vec<String>, AppError> {
        let now = self.now();
        if let Ok(guard) = self.sources_cache.lock()
            && let Some((at, v)) = guard.as_ref()
            && now - at < 60_000
        {
            return Ok(v.clone());
        }
        let v = self.store.finding_sources().await?;
        if let Ok(mut guard) = self.sources_cache.lock() {
            *guard = Some((now, v.clone()));
        }
        Ok(v)
    }

    /// Active staff accounts as `(id, email)`, at most 30 seconds old.
    pub(crate) async fn assignees(&self) -> Result<Vec<(i64, String)>, AppError> {
        let now = self.now();
        if let Ok(guard) = self.assignees_cache.lock()
            && let Some((at, v)) = guard.as_ref()
            && now - at < 30_000
        {
            return Ok(v.clone());
        }
        let v: Vec<(i64, String)> = self
            .store
            .list_assignable_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect();
        if let Ok(mut guard) = self.assignees_cache.lock() {
            *guard = Some((now, v.clone()));
        }
        Ok(v)
    }

    /// Called after an account is created or changed.
    pub(crate) fn users_changed(&self) {
        if let Ok(mut guard) = self.assignees_cache.lock() {
            *guard = None;
        }
    }

    /// Called after findings arrive: new sources may exist, and a large
    /// import changes the data's shape enough to refresh planner statistics.
    pub(crate) fn findings_changed(&self, count: usize) {
        if let Ok(mut guard) = self.sources_cache.lock() {
            *guard = None;
        }
        if count >= 1_000 {
            use std::sync::atomic::Ordering;
            // Already running: note that it must run once more, and leave.
            if self.optimize_state.fetch_max(1, Ordering::SeqCst) >= 1 {
                self.optimize_state.store(2, Ordering::SeqCst);
                return;
            }
            let store = self.store.clone();
            let state = self.optimize_state.clone();
            tokio::spawn(async move {
                loop {
                    if let Err(e) = store.optimize().await {
                        tracing::warn!(error = %e, "Could not refresh query statistics");
                    }
                    // 2 -> 1: run again; 1 -> 0: done.
                    if state.fetch_sub(1, Ordering::SeqCst) <= 1 {
                        break;
                    }
                }
            });
        }
    }
}

pub use routes::router;

/// Creates a one-time link for the first admin when the database has no
/// account yet, and returns its URL. `None` when accounts exist.
pub async fn first_admin_link(state: &AppState) -> Result<Option<String>, AppError> {
    if state.store.count_users().await? > 0 {
        return Ok(None);
    }
    let token = rampart_auth::new_token(rampart_auth::TokenKind::Link)?;
    state
        .store
        .create_link(
            &rampart_auth::token_digest(&token),
            rampart_store::LinkPurpose::SetupAdmin,
            None,
            state.now(),
            config::SETUP_LINK_VALID_MS,
        )
        .await?;
    Ok(Some(format!(
        "{}/setup/{token}",
        state.config.public_url.trim_end_matches('/')
    )))
}

/// Creates a one-time link for `user_id` to choose a password.
pub async fn set_password_link(state: &AppState, user_id: i64) -> Result<String, AppError> {
    let token = rampart_auth::new_token(rampart_auth::TokenKind::Link)?;
    state
        .store
        .create_link(
            &rampart_auth::token_digest(&token),
            rampart_store::LinkPurpose::SetPassword,
            Some(user_id),
            state.now(),
            config::PASSWORD_LINK_VALID_MS,
        )
        .await?;
    Ok(format!(
        "{}/set-password/{token}",
        state.config.public_url.trim_end_matches('/')
    ))
}
