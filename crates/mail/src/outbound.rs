//! Mail out: the email [`Notifier`] turns the programme's notices into
//! outbox rows (written to the database before anything is sent), with the
//! threading that makes a mail client show one conversation per report:
//!
//! - `From`: the programme's address (or the configured sender);
//! - `Reply-To`: the report's reply address (`security+r<ID>-<TOKEN>@…`), so
//!   an answer comes back into the report through mail intake;
//! - `Message-ID`: `r<ID>.<96 random bits>@<domain>`, recorded in
//!   `mail_sent` so a reply naming it threads;
//! - `In-Reply-To` / `References`: the first message queued about that report
//!   to that recipient (the acknowledgement, for a researcher);
//! - `Subject`: `[#ID] title`.
//!
//! Team members choose immediate mail, a daily digest or none; researchers
//! always get mail about their reports (it is how an emailed report is
//! answered). The [`crate::worker`] sends the rows.

use crate::reply::{REPLY_KEY_NAME, ReplyKey, generate_key_hex, new_message_id};
use rampart_core::{ReportState, Role, UnixMillis};
use rampart_programme::notify::{Notice, NoticeKind, Notifier};
use rampart_store::{
    CHANNEL_EMAIL, EmailPreference, LinkPurpose, NewOutbox, Programme, Report, Store, StoreError,
    User,
};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The headers an email row carries beyond To, Subject and Message-ID
/// (stored as JSON in the row, so a row is sendable on its own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailHeaders {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// RFC 3834: `auto-replied` for acknowledgements, `auto-generated` for
    /// notifications, so the other side's auto-responders stay quiet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_submitted: Option<String>,
    /// The row's body is an armoured OpenPGP message (encrypted to the
    /// recipient's key when queued): it is sent as PGP/MIME (RFC 3156).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pgp_encrypted: bool,
}

/// A try that worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOk {
    pub status_code: Option<i64>,
    pub detail: String,
}

/// A try that did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// Not worth retrying (an SMTP 5xx refusal, a row that cannot be built).
    pub permanent: bool,
    pub status_code: Option<i64>,
    pub detail: String,
}

/// Exponential backoff with jitter, capped, and a time after which a row
/// is given up (`dead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_delay_ms: i64,
    pub max_delay_ms: i64,
    /// Counted from when the row was queued (or retried by an admin).
    pub give_up_after_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay_ms: 30_000,
            max_delay_ms: 3_600_000,
            give_up_after_ms: 24 * 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed try: the first delay doubled
    /// per try, capped, then drawn from its upper half (`jitter` in
    /// 0.0..1.0), so rows that failed together do not retry together.
    pub fn delay_ms(&self, attempts: i64, jitter: f64) -> i64 {
        let shift = attempts.clamp(1, 40) - 1;
        let full = self
            .first_delay_ms
            .saturating_mul(1_i64.checked_shl(shift as u32).unwrap_or(i64::MAX))
            .min(self.max_delay_ms)
            .max(1);
        let j = jitter.clamp(0.0, 1.0);
        full / 2 + ((full - full / 2) as f64 * j) as i64
    }

    /// When to try again, or `None` to give up.
    pub fn next_attempt(
        &self,
        attempts: i64,
        queued_at: UnixMillis,
        now: UnixMillis,
        jitter: f64,
    ) -> Option<UnixMillis> {
        let at = now + self.delay_ms(attempts, jitter);
        (at <= queued_at + self.give_up_after_ms).then_some(at)
    }
}

/// A random number in 0.0..1.0 for jitter (0.5 if randomness fails).
pub fn jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}

/// What the email channel needs to know.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// The sender for mail about no programme, and for programmes without
    /// an address of their own, e.g. `Rampart <security@example.com>`.
    pub from: String,
    /// Links in mail: `https://security.example.com`.
    pub public_url: String,
    pub site_name: String,
}

/// How long the claim-your-account link in an acknowledgement works: a
/// researcher may read the mail days later.
pub const CLAIM_LINK_VALID_MS: i64 = 7 * 24 * 3_600_000;
/// How long a link from "Forgot your password?" works (short: whoever holds
/// it takes over the account).
pub const RESET_LINK_VALID_MS: i64 = 3_600_000;
/// How long an address-verification link works.
pub const VERIFY_LINK_VALID_MS: i64 = 7 * 24 * 3_600_000;

/// The email channel.
#[derive(Clone)]
pub struct EmailNotifier {
    pub store: Store,
    pub config: Arc<OutboundConfig>,
    /// Woken after a row is queued, so the worker sends it at once.
    pub wake: Arc<tokio::sync::Notify>,
}

/// The address part of `Name <addr>` or `addr`.
pub fn bare_address(mailbox: &str) -> &str {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(a), Some(b)) if a < b => mailbox[a + 1..b].trim(),
        _ => mailbox.trim(),
    }
}

fn domain_of(address: &str) -> &str {
    bare_address(address)
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d)
}

/// `Shop security <security@shop.test>`: a display name that needs no quoting.
fn mailbox(name: &str, address: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.is_empty() {
        address.to_owned()
    } else {
        format!("\"{clean}\" <{address}>")
    }
}

/// Subjects stay on one line and a sane length.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let mut t: String = flat.chars().take(max).collect();
        t.push('…');
        t
    } else {
        flat
    }
}

/// A subject and body ready to queue, encrypted or not.
struct Sealed {
    subject: String,
    body: String,
    encrypted: bool,
}

/// What a notice becomes in mail about a report.
struct Rendered {
    body: String,
    auto_submitted: &'static str,
}

impl EmailNotifier {
    pub fn new(store: Store, config: OutboundConfig) -> Self {
        EmailNotifier {
            store,
            config: Arc::new(config),
            wake: Arc::default(),
        }
    }

    async fn reply_key(&self, now: UnixMillis) -> Result<ReplyKey, StoreError> {
        let fresh = generate_key_hex().unwrap_or_default();
        let stored = self
            .store
            .mail_secret(REPLY_KEY_NAME, || fresh, now)
            .await?;
        Ok(ReplyKey::from_stored(&stored))
    }

    /// Stores a one-time link (by the SHA-256 of its secret, as the web
    /// layer checks it) and returns its URL `<public_url>/<path>/<token>`.
    async fn one_time_link(
        &self,
        purpose: LinkPurpose,
        user_id: i64,
        path: &str,
        valid_ms: i64,
        now: UnixMillis,
    ) -> Result<String, StoreError> {
        let token = rampart_auth::new_token(rampart_auth::TokenKind::Link)
            .map_err(|e| StoreError::Conflict(format!("no randomness for a link: {e}")))?;
        self.store
            .create_link(
                &rampart_auth::token_digest(&token),
                purpose,
                Some(user_id),
                now,
                valid_ms,
            )
            .await?;
        Ok(format!(
            "{}/{path}/{token}",
            self.config.public_url.trim_end_matches('/')
        ))
    }

    /// Queues the mail "Forgot your password?" sends: a set-password link
    /// valid for an hour. The caller decides whether the account may have
    /// one (it exists, is not disabled) and answers the same either way.
    pub async fn queue_password_reset(
        &self,
        user: &User,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        let link = self
            .one_time_link(
                LinkPurpose::SetPassword,
                user.id,
                "set-password",
                RESET_LINK_VALID_MS,
                now,
            )
            .await?;
        let site = &self.config.site_name;
        let body = format!(
            "Someone (we hope you) asked to set a new password for your {site} account ({}).\n\nChoose it here; the link works once, for one hour:\n\n{link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n",
            user.email
        );
        self.queue_plain(
            user,
            "password_reset",
            &format!("{site}: set your password"),
            &body,
            // Each request is its own mail (two in one millisecond too).
            format!(
                "email:{}:password_reset:{now}:{}",
                user.id,
                crate::reply::random_hex(8).unwrap_or_default()
            ),
            now,
        )
        .await
    }

    /// Queues the mail that proves the owner reads the account's address:
    /// a link that marks it verified.
    pub async fn queue_address_verification(
        &self,
        user: &User,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        let link = self
            .one_time_link(
                LinkPurpose::VerifyEmail,
                user.id,
                "verify-email",
                VERIFY_LINK_VALID_MS,
                now,
            )
            .await?;
        let site = &self.config.site_name;
        let body = format!(
            "Confirm that {} is your address for your {site} account by opening this link (it works once, for 7 days):\n\n{link}\n\nIf you did not sign up, ignore this mail.\n",
            user.email
        );
        self.queue_plain(
            user,
            "verify_email",
            &format!("{site}: confirm your email address"),
            &body,
            // Each request is its own mail (two in one millisecond too).
            format!(
                "email:{}:verify_email:{now}:{}",
                user.id,
                crate::reply::random_hex(8).unwrap_or_default()
            ),
            now,
        )
        .await
    }

    fn report_url(&self, id: i64) -> String {
        format!(
            "{}/reports/{id}",
            self.config.public_url.trim_end_matches('/')
        )
    }

    /// The newest thread entry worth quoting for a notice: the comment or
    /// state change that caused it, never an internal note.
    async fn latest_public_text(
        &self,
        report: &Report,
        kinds: &[&str],
    ) -> Result<Option<String>, StoreError> {
        let events = self.store.report_events(report.id, false).await?;
        Ok(events
            .iter()
            .rev()
            .find(|e| kinds.contains(&e.kind.as_str()) && !e.internal)
            .map(|e| {
                // Team members are "the team" to researchers: their own
                // addresses stay private, as on the report page.
                let who = match (e.author_id, e.author_role) {
                    (None, _) => "Rampart".to_owned(),
                    (_, Some(r)) if r.is_staff() => "The team".to_owned(),
                    _ => e
                        .author_name
                        .clone()
                        .filter(|n| !n.contains('@'))
                        .unwrap_or_else(|| "The researcher".into()),
                };
                if e.body.trim().is_empty() {
                    format!("{who}: {}", e.detail)
                } else {
                    format!("{who} wrote:\n\n{}", e.body.trim())
                }
            }))
    }

    async fn render(
        &self,
        n: &Notice,
        user: &User,
        report: &Report,
        programme: &Programme,
    ) -> Result<Rendered, StoreError> {
        let url = self.report_url(report.id);
        let mut body = String::new();
        let mut auto = "auto-generated";
        match n.kind {
            NoticeKind::Acknowledged => {
                auto = "auto-replied";
                body.push_str(&rampart_programme::Service::acknowledgement(
                    programme,
                    report.id,
                    report.created_at,
                ));
                body.push_str(
                    "\n\nTo add details, reply to this message (keep the subject line) or write in the report's thread on the web.",
                );
                if user.password_hash.is_none() {
                    // A report by mail made an account without a password:
                    // the link lets its owner (who reads this mailbox)
                    // choose one, and so follow the report on the web.
                    let link = self
                        .one_time_link(
                            LinkPurpose::SetPassword,
                            user.id,
                            "set-password",
                            CLAIM_LINK_VALID_MS,
                            n.at,
                        )
                        .await?;
                    body.push_str(&format!(
                        "\n\nYou have no password with us yet: you can follow the report by mail alone. To follow it on the web too, claim your account by choosing a password (the link works once, for 7 days; after that, use \"Forgot your password?\" on the sign-in page with this address):\n\n{link}",
                    ));
                }
            }
            NoticeKind::Comment => {
                body.push_str(&n.message);
                if let Some(t) = self.latest_public_text(report, &["comment"]).await? {
                    body.push_str("\n\n");
                    body.push_str(&t);
                }
            }
            NoticeKind::StateChanged | NoticeKind::RetestRequested | NoticeKind::Duplicate => {
                body.push_str(&n.message);
                if let Some(t) = self
                    .latest_public_text(report, &["state", "duplicate", "disclosure"])
                    .await?
                {
                    body.push_str("\n\n");
                    body.push_str(&t);
                }
            }
            _ => body.push_str(&n.message),
        }
        body.push_str(&format!("\n\nReport #{}: {url}\n", report.id));
        if user.role.is_staff() {
            body.push_str(&format!(
                "\n--\nYou get this because you are on the {} team. Choose immediate mail, a daily digest or none on your account page.\n",
                self.config.site_name
            ));
        }
        Ok(Rendered {
            body,
            auto_submitted: auto,
        })
    }

    /// The subject and body to queue for `user_id`: as given, or, when
    /// that person saved an OpenPGP key, the body encrypted to it (the
    /// real subject inside, as a protected header) under a generic subject
    /// that keeps the `[#ID]` token for threading but not the title. A key
    /// that was stored but no longer works is an error, never a fall-back
    /// to clear text: whoever asked for encryption must not get mail in
    /// clear.
    async fn seal(
        &self,
        user_id: Option<i64>,
        subject: &str,
        body: &str,
        report_id: Option<i64>,
    ) -> Result<Sealed, StoreError> {
        let clear = || Sealed {
            subject: subject.to_owned(),
            body: body.to_owned(),
            encrypted: false,
        };
        let Some(uid) = user_id else {
            return Ok(clear());
        };
        let Some(stored) = self.store.user_pgp_key(uid).await? else {
            return Ok(clear());
        };
        let unusable = |e: crate::pgp::PgpError| {
            StoreError::Conflict(format!(
                "the OpenPGP key saved by user {uid} cannot be used ({e}); nothing was queued \
                 for them: they can save a working key on their account page, or remove it"
            ))
        };
        let key = crate::pgp::RecipientKey::from_armored(&stored.armored).map_err(unusable)?;
        let armored = key
            .encrypt(&crate::pgp::protected_entity(subject, body))
            .map_err(unusable)?;
        let subject = match report_id {
            Some(id) => {
                let staff = self.store.user_by_id(uid).await?.role.is_staff();
                if staff {
                    format!("[#{id}] Update on a report")
                } else {
                    format!("[#{id}] Update on your report")
                }
            }
            None => subject.to_owned(),
        };
        Ok(Sealed {
            subject,
            body: armored,
            encrypted: true,
        })
    }

    /// Queues one email about a report to `to`, threaded with the first
    /// one that recipient got about it.
    #[allow(clippy::too_many_arguments)]
    pub async fn queue_report_mail(
        &self,
        report: &Report,
        programme: &Programme,
        to: &str,
        user_id: Option<i64>,
        kind: &str,
        body: &str,
        auto_submitted: &str,
        dedupe_key: Option<String>,
        answering: Option<&str>,
        now: UnixMillis,
    ) -> Result<Option<i64>, StoreError> {
        let from_address = programme
            .email
            .clone()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| bare_address(&self.config.from).to_owned());
        let from = mailbox(&format!("{} security", programme.name), &from_address);
        let reply_to = self
            .reply_key(now)
            .await?
            .reply_address(&from_address, report.id);
        let message_id = new_message_id(report.id, domain_of(&from_address))
            .map_err(|e| StoreError::Conflict(format!("no randomness for a Message-ID: {e}")))?;
        // The first mail to this person about the report answers their own
        // message when the report came by mail; later ones answer that first
        // mail, so every client shows one conversation per report.
        let root = match self.store.first_thread_message_id(report.id, to).await? {
            Some(first) => Some(first),
            None => answering.map(str::to_owned),
        };
        let subject = one_line(&format!("[#{}] {}", report.id, report.title), 180);
        let sealed = self.seal(user_id, &subject, body, Some(report.id)).await?;
        let headers = MailHeaders {
            from,
            reply_to,
            in_reply_to: root.clone(),
            references: root.into_iter().collect(),
            auto_submitted: Some(auto_submitted.to_owned()),
            pgp_encrypted: sealed.encrypted,
        };
        let row = NewOutbox {
            channel: CHANNEL_EMAIL.into(),
            target: to.to_owned(),
            subject: sealed.subject,
            body: sealed.body,
            headers: serde_json::to_string(&headers).unwrap_or_else(|_| "{}".into()),
            message_id: Some(message_id.clone()),
            report_id: Some(report.id),
            user_id,
            kind: kind.to_owned(),
            dedupe_key,
        };
        let id = self.store.enqueue_outbox(&row, now).await?;
        if id.is_some() {
            // A reply naming this Message-ID threads into the report, even
            // one written before the worker sent it.
            self.store
                .record_sent_message(&message_id, report.id, now)
                .await?;
            self.wake.notify_one();
        }
        Ok(id)
    }

    /// Queues a mail about no report (an invitation, a password reset, an
    /// address verification).
    async fn queue_plain(
        &self,
        user: &User,
        kind: &str,
        subject: &str,
        body: &str,
        dedupe_key: String,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        let (to, user_id) = (user.email.as_str(), user.id);
        let headers = MailHeaders {
            from: self.config.from.clone(),
            auto_submitted: Some("auto-generated".into()),
            ..Default::default()
        };
        let message_id = format!(
            "n{user_id}.{}@{}",
            crate::reply::random_hex(12).unwrap_or_default(),
            domain_of(&self.config.from)
        );
        let row = NewOutbox {
            channel: CHANNEL_EMAIL.into(),
            target: to.to_owned(),
            subject: one_line(subject, 180),
            body: body.to_owned(),
            headers: serde_json::to_string(&headers).unwrap_or_else(|_| "{}".into()),
            message_id: Some(message_id),
            report_id: None,
            user_id: Some(user_id),
            kind: kind.to_owned(),
            dedupe_key: Some(dedupe_key),
        };
        if self.store.enqueue_outbox(&row, now).await?.is_some() {
            self.wake.notify_one();
        }
        Ok(())
    }

    async fn deliver_notice(&self, n: &Notice) -> Result<(), StoreError> {
        let user = self.store.user_by_id(n.user_id).await?;
        if user.disabled {
            return Ok(());
        }
        if user.role.is_staff() {
            match self.store.email_preference(user.id).await? {
                EmailPreference::None => return Ok(()),
                EmailPreference::Daily => {
                    return self
                        .store
                        .add_digest_item(user.id, n.report_id, n.kind.as_str(), &n.message, n.at)
                        .await;
                }
                EmailPreference::Immediate => {}
            }
        }
        // One mail per person, event and moment, however often it is told.
        let key = format!(
            "email:{}:{}:{}:{}",
            user.id,
            n.kind.as_str(),
            n.report_id.unwrap_or(0),
            n.at
        );
        let Some(report_id) = n.report_id else {
            let subject = match n.kind {
                NoticeKind::Invited => format!("{}: {}", self.config.site_name, n.message),
                _ => n.message.clone(),
            };
            let body = format!(
                "{}\n\nSign in to see it: {}/\n",
                n.message,
                self.config.public_url.trim_end_matches('/')
            );
            return self
                .queue_plain(&user, n.kind.as_str(), &subject, &body, key, n.at)
                .await;
        };
        let report = self.store.report(report_id).await?;
        let programme = self.store.programme_by_id(report.programme_id).await?;
        let r = self.render(n, &user, &report, &programme).await?;
        self.queue_report_mail(
            &report,
            &programme,
            &user.email,
            Some(user.id),
            n.kind.as_str(),
            &r.body,
            r.auto_submitted,
            Some(key),
            n.in_reply_to.as_deref(),
            n.at,
        )
        .await?;
        Ok(())
    }

    /// Queues one digest mail per team member with items waiting (run daily
    /// by the worker). Returns how many were queued.
    pub async fn queue_digests(&self, now: UnixMillis) -> Result<usize, StoreError> {
        let mut queued = 0;
        for (user_id, items) in self.store.pending_digests().await? {
            let Some(last) = items.last().map(|i| i.id) else {
                continue;
            };
            let Ok(user) = self.store.user_by_id(user_id).await else {
                continue;
            };
            let mut body = format!(
                "What happened in {} since the last digest ({} notifications):\n\n",
                self.config.site_name,
                items.len()
            );
            for it in &items {
                body.push_str("- ");
                body.push_str(&one_line(&it.message, 300));
                if let Some(r) = it.report_id {
                    body.push_str(&format!("\n  {}", self.report_url(r)));
                }
                body.push('\n');
            }
            body.push_str(
                "\n--\nYou chose a daily digest on your account page; you can choose immediate mail or none there.\n",
            );
            // The digest lists report titles: encrypted like report mail
            // for a member with a key (its subject says nothing secret).
            let subject = format!(
                "{} daily digest: {} notifications",
                self.config.site_name,
                items.len()
            );
            let sealed = match self.seal(Some(user_id), &subject, &body, None).await {
                Ok(s) => s,
                // One member's broken key must not hold back everyone's digest.
                Err(e) => {
                    tracing::warn!(user_id, error = %e, "daily digest not queued");
                    continue;
                }
            };
            let headers = MailHeaders {
                from: self.config.from.clone(),
                auto_submitted: Some("auto-generated".into()),
                pgp_encrypted: sealed.encrypted,
                ..Default::default()
            };
            let mail = NewOutbox {
                channel: CHANNEL_EMAIL.into(),
                target: user.email.clone(),
                subject: sealed.subject,
                body: sealed.body,
                headers: serde_json::to_string(&headers).unwrap_or_else(|_| "{}".into()),
                message_id: Some(format!(
                    "d{user_id}.{}@{}",
                    crate::reply::random_hex(12).unwrap_or_default(),
                    domain_of(&self.config.from)
                )),
                ..Default::default()
            };
            self.store.enqueue_digest(user_id, last, &mail, now).await?;
            queued += 1;
        }
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// Tells the team by mail about a response target a report breached.
    /// The caller announces each breach once (`Store::claim_breach_notice`).
    pub async fn queue_breach(
        &self,
        report: &Report,
        programme: &Programme,
        target: &str,
        now: UnixMillis,
    ) -> Result<usize, StoreError> {
        let mut n = 0;
        for u in self.store.list_users().await? {
            if !matches!(u.role, Role::Admin | Role::Triager) || u.disabled {
                continue;
            }
            let message = format!(
                "Report #{} breached its {} target ({}).",
                report.id,
                target.to_lowercase(),
                programme.name
            );
            match self.store.email_preference(u.id).await? {
                EmailPreference::None => continue,
                EmailPreference::Daily => {
                    self.store
                        .add_digest_item(u.id, Some(report.id), "breach", &message, now)
                        .await?;
                    continue;
                }
                EmailPreference::Immediate => {}
            }
            let body = format!(
                "{message}\n\nIt is {}, titled \"{}\". Answer it to stop the clock.\n\nReport #{}: {}\n",
                report.state.label(),
                report.title,
                report.id,
                self.report_url(report.id)
            );
            if self
                .queue_report_mail(
                    report,
                    programme,
                    &u.email,
                    Some(u.id),
                    "breach",
                    &body,
                    "auto-generated",
                    Some(format!("email:{}:breach:{}:{target}", u.id, report.id)),
                    None,
                    now,
                )
                .await?
                .is_some()
            {
                n += 1;
            }
        }
        Ok(n)
    }
}

impl Notifier for EmailNotifier {
    fn name(&self) -> &'static str {
        "email"
    }

    fn deliver<'a>(
        &'a self,
        notice: &'a Notice,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(self.deliver_notice(notice))
    }
}

/// Whether a state counts as "resolved" for the chat and webhook event.
pub fn is_resolved(s: ReportState) -> bool {
    s == ReportState::Resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_within_the_upper_half() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_ms(1, 1.0), 30_000);
        assert_eq!(p.delay_ms(1, 0.0), 15_000);
        assert_eq!(p.delay_ms(2, 1.0), 60_000);
        assert_eq!(p.delay_ms(3, 1.0), 120_000);
        assert_eq!(p.delay_ms(8, 1.0), 3_600_000);
        assert_eq!(p.delay_ms(1_000, 1.0), 3_600_000);
        assert_eq!(p.delay_ms(-5, 1.0), 30_000);
        for a in 1..50 {
            let d = p.delay_ms(a, 0.37);
            assert!(d >= p.delay_ms(a, 0.0) && d <= p.delay_ms(a, 1.0));
        }
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn rows_are_given_up_a_day_after_they_were_queued() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_attempt(1, 0, 0, 1.0), Some(30_000));
        let late = 24 * 3_600_000 - 10_000;
        assert_eq!(p.next_attempt(30, 0, late, 1.0), None);
        assert!(
            p.next_attempt(30, late, late, 1.0).is_some(),
            "an admin retry starts a new day"
        );
        // Tries over a day of outage: about 30 s, 1, 2, 4 … 32 min, then hourly.
        let (mut now, mut tries) = (0, 0);
        while let Some(t) = p.next_attempt(tries + 1, 0, now, 1.0) {
            now = t;
            tries += 1;
        }
        assert!((25..=35).contains(&tries), "{tries} tries in a day");
    }

    #[test]
    fn addresses_and_subjects() {
        assert_eq!(
            bare_address("Shop <security@shop.test>"),
            "security@shop.test"
        );
        assert_eq!(bare_address(" security@shop.test "), "security@shop.test");
        assert_eq!(domain_of("Shop <security@shop.test>"), "shop.test");
        assert_eq!(domain_of("nobody"), "localhost");
        assert_eq!(
            mailbox("Shop \"evil\"\r\nBcc: x security", "s@shop.test"),
            "\"Shop evil Bcc x security\" <s@shop.test>"
        );
        assert_eq!(mailbox("\"\"", "s@shop.test"), "s@shop.test");
        assert_eq!(one_line("[#1] a\r\nBcc: x", 180), "[#1] a Bcc: x");
        assert_eq!(one_line(&"x".repeat(300), 10).chars().count(), 11);
    }
}
