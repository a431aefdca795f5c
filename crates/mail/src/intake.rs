//! Taking one message in: parse, claim its Message-ID, check the sender,
//! look up what it points at, decide (see `rules`), and apply the decision
//! through the programme service, so that a mailed report gets exactly what
//! a web report gets (acknowledgement, finding, team notifications).

use crate::auth::{AuthResults, Envelope, SenderChecks};
use crate::files::{FileError, FileStore, MAX_FILES, check_file, clean_filename};
use crate::message::{IntakeMessage, ParseError, parse};
use crate::reply::{REPLY_KEY_NAME, ReplyKey, generate_key_hex, parse_reply_address};
use crate::rules::{Decision, Facts, ReportRef, ThreadedBy, decide, subject_report_id};
use rampart_core::{Role, UnixMillis};
use rampart_programme::input::{MAX_MARKDOWN, MAX_TITLE, ReportInput};
use rampart_programme::{Actor, Service, ServiceError};
use rampart_store::{MailIntake, MailOutcomeRecord, Programme, Report, Store, StoreError};
use sha2::{Digest, Sha256};

/// Largest message taken by default: 25 MiB, what most providers send.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

/// Intake settings.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Messages larger than this are refused with an explanation (0: no limit).
    pub max_message_bytes: usize,
    /// Each attachment's limit (the web form's, so both ways in agree).
    pub max_attachment_bytes: usize,
    /// The programme (slug) for mail to an address no programme claims;
    /// without one, a workspace with exactly one programme uses it.
    pub default_programme: Option<String>,
    /// New reports one sender's mail may make per hour (0: no limit); the
    /// web form's `rate_limits.reports_per_hour`, so mail is no way around it.
    pub max_reports_per_hour: u32,
    /// Programme keys: PGP/MIME and inline-PGP mail is decrypted on arrival.
    pub pgp: crate::pgp::Keyring,
    /// Mail refusals back to their senders (for IMAP and HTTP intake, where
    /// no MTA bounces them); `None` for the MTA's pipe, whose MTA does.
    pub refusals: Option<crate::refusal::RefusalMail>,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_attachment_bytes: 20 * 1024 * 1024,
            default_programme: None,
            max_reports_per_hour: 20,
            pgp: crate::pgp::Keyring::default(),
            refusals: None,
        }
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    NewReport {
        report_id: i64,
    },
    Comment {
        report_id: i64,
        event_id: i64,
        by: ThreadedBy,
    },
    /// Automatic mail (auto-reply, bounce, loop): stored, never answered.
    Ignored {
        reason: String,
    },
    /// Not taken; `bounce` is the explanation for the sender.
    Refused {
        reason: String,
        bounce: String,
    },
    /// This Message-ID was taken before; nothing was done.
    Duplicate {
        previous: Box<MailIntake>,
    },
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::NewReport { .. } => "new_report",
            Outcome::Comment { .. } => "comment",
            Outcome::Ignored { .. } => "ignored",
            Outcome::Refused { .. } => "refused",
            Outcome::Duplicate { .. } => "duplicate",
        }
    }

    pub fn report_id(&self) -> Option<i64> {
        match self {
            Outcome::NewReport { report_id } | Outcome::Comment { report_id, .. } => {
                Some(*report_id)
            }
            Outcome::Duplicate { previous } => previous.report_id,
            _ => None,
        }
    }
}

/// The full account of one intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeReport {
    pub intake_id: i64,
    /// The key the message was claimed under.
    pub message_key: String,
    pub outcome: Outcome,
    pub auth: AuthResults,
    pub flags: Vec<String>,
    pub attachments_kept: usize,
    /// Files not kept, each with its reason.
    pub attachments_refused: Vec<String>,
}

/// Why a message could not be taken. [`IntakeError::is_temporary`] tells an
/// MTA whether to try again later (database down) or give up (not mail).
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Files(#[from] FileError),
    #[error("no randomness available for the reply-address key: {0}")]
    Random(String),
    #[error("message {0} is being taken by another delivery at this moment")]
    InProgress(String),
}

impl IntakeError {
    /// Worth delivering again later (the database or disk was the problem),
    /// as opposed to a message that will never be taken as it is.
    pub fn is_temporary(&self) -> bool {
        !matches!(
            self,
            IntakeError::Parse(_)
                | IntakeError::Service(ServiceError::Invalid(_))
                | IntakeError::Store(StoreError::InvalidText(_))
                | IntakeError::Service(ServiceError::Store(StoreError::InvalidText(_)))
        )
    }
}

/// The intake pipeline.
pub struct Intake {
    pub service: Service,
    pub files: FileStore,
    /// `None`: sender checks are not evaluated (recorded as `none`).
    pub checks: Option<SenderChecks>,
    pub config: IntakeConfig,
}

fn store_of(s: &Service) -> &Store {
    &s.store
}

/// `security+anything@shop.test` → `security@shop.test`.
fn without_tag(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    let (base, _) = local.split_once('+')?;
    Some(format!("{base}@{domain}"))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max).collect()
    }
}

impl Intake {
    fn store(&self) -> &Store {
        store_of(&self.service)
    }

    /// The server's reply-address key (made on first use).
    pub async fn reply_key(&self, now: UnixMillis) -> Result<ReplyKey, IntakeError> {
        let fresh = generate_key_hex().map_err(|e| IntakeError::Random(e.to_string()))?;
        let stored = self
            .store()
            .mail_secret(REPLY_KEY_NAME, || fresh, now)
            .await?;
        Ok(ReplyKey::from_stored(&stored))
    }

    /// The reply address of a report, for outgoing mail.
    pub async fn reply_address(
        &self,
        programme_address: &str,
        report_id: i64,
        now: UnixMillis,
    ) -> Result<Option<String>, IntakeError> {
        Ok(self
            .reply_key(now)
            .await?
            .reply_address(programme_address, report_id))
    }

    async fn report_ref(&self, report: &Report) -> Result<ReportRef, IntakeError> {
        let researcher = self.store().user_by_id(report.researcher_id).await?;
        Ok(ReportRef {
            id: report.id,
            researcher_email: researcher.email.to_lowercase(),
        })
    }

    async fn report_ref_by_id(&self, id: i64) -> Result<Option<ReportRef>, IntakeError> {
        match self.store().report(id).await {
            Ok(r) => Ok(Some(self.report_ref(&r).await?)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn programme_for(&self, address: &str) -> Result<Option<Programme>, IntakeError> {
        match self.store().programme_by_email(address).await {
            Ok(p) => Ok(Some(p)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn default_programme(&self) -> Result<Option<Programme>, IntakeError> {
        if let Some(slug) = &self.config.default_programme {
            return match self.store().programme_by_slug(slug).await {
                Ok(p) => Ok(Some(p)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        let all = self.store().list_programmes(false).await?;
        Ok(if all.len() == 1 {
            all.into_iter().next()
        } else {
            None
        })
    }

    async fn facts(&self, m: &IntakeMessage, now: UnixMillis) -> Result<Facts, IntakeError> {
        let recent = self
            .store()
            .mail_reports_from_since(&m.from.address, now - 3_600_000)
            .await?;
        let mut f = Facts {
            max_bytes: self.config.max_message_bytes,
            max_reports_per_hour: self.config.max_reports_per_hour,
            sender_reports_last_hour: u32::try_from(recent).unwrap_or(u32::MAX),
            ..Default::default()
        };
        let key = self.reply_key(now).await?;
        for rcpt in m.recipients() {
            // Only a programme's own address with a `+r…` tag is a reply
            // address; `john+r2-d2@gmail.com` in Cc is just John.
            if let Some(ra) = parse_reply_address(rcpt)
                && f.reply_address_report.is_none()
                && self.programme_for(&ra.base).await?.is_some()
            {
                if key.verify(ra.report_id, &ra.token) {
                    f.reply_address_report = self.report_ref_by_id(ra.report_id).await?;
                }
                if f.reply_address_report.is_none() {
                    f.bad_reply_token = true;
                }
            }
            if f.recipient_programme.is_none() {
                let mut found = self.programme_for(rcpt).await?;
                if found.is_none()
                    && let Some(base) = without_tag(rcpt)
                {
                    found = self.programme_for(&base).await?;
                }
                f.recipient_programme = found.map(|p| p.id);
            }
        }
        if let Some(id) = subject_report_id(&m.subject) {
            f.subject_report = self.report_ref_by_id(id).await?;
        }
        if let Some(id) = self
            .store()
            .report_for_sent_messages(&m.thread_references())
            .await?
        {
            f.referenced_report = self.report_ref_by_id(id).await?;
        }
        f.default_programme = self.default_programme().await?.map(|p| p.id);
        let sender_base = parse_reply_address(&m.from.address)
            .map(|ra| ra.base)
            .unwrap_or_else(|| m.from.address.clone());
        f.sender_is_rampart = self.programme_for(&sender_base).await?.is_some();
        Ok(f)
    }

    /// Takes one raw message. Errors mean nothing was stored (the claim is
    /// released), so the MTA may deliver it again.
    pub async fn take(
        &self,
        raw: &[u8],
        env: &Envelope,
        now: UnixMillis,
    ) -> Result<IntakeReport, IntakeError> {
        self.take_sized(raw, raw.len(), env, now).await
    }

    /// Like [`Intake::take`] for a message of `total_size` bytes of which
    /// only the first `raw.len()` were read (a reader stops at the size
    /// limit: the headers decide, the rest is never held in memory).
    pub async fn take_sized(
        &self,
        raw: &[u8],
        total_size: usize,
        env: &Envelope,
        now: UnixMillis,
    ) -> Result<IntakeReport, IntakeError> {
        // Encrypted mail is read as its plaintext (the original attached);
        // mail over the limit is refused on its headers, never decrypted.
        let limit = self.config.max_message_bytes;
        let whole = total_size <= raw.len() && (limit == 0 || raw.len() <= limit);
        let (plain, pgp_flag) = if whole {
            match self.config.pgp.decrypt_message(raw, limit) {
                Ok(None) => (None, None),
                Ok(Some(d)) => (Some(d.raw), Some("pgp_decrypted")),
                Err(e) => {
                    tracing::info!(error = %e, "Encrypted mail could not be decrypted");
                    (
                        crate::pgp::undecryptable(raw, &e),
                        Some("pgp_undecryptable"),
                    )
                }
            }
        } else {
            (None, None)
        };
        let mut m = parse(plain.as_deref().unwrap_or(raw))?;
        m.size = total_size.max(raw.len());
        m.encryption = pgp_flag;
        let message_key = m
            .message_id
            .clone()
            .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(raw))));
        let Some(intake_id) = self.store().claim_mail(&message_key, now).await? else {
            let previous = self.store().mail_intake_by_message_id(&message_key).await?;
            if previous.outcome == "processing" {
                // Another delivery of it is being applied right now; if that
                // one fails and releases its claim, this copy must not have
                // been dropped as a duplicate: let the MTA come back.
                return Err(IntakeError::InProgress(message_key));
            }
            return Ok(IntakeReport {
                intake_id: previous.id,
                message_key,
                outcome: Outcome::Duplicate {
                    previous: Box::new(previous),
                },
                auth: AuthResults::default(),
                flags: Vec::new(),
                attachments_kept: 0,
                attachments_refused: Vec::new(),
            });
        };
        match self.apply(&m, raw, env, intake_id, &message_key, now).await {
            Ok(r) => {
                // Only after the intake committed: a refusal is answered
                // once, and a failure to queue it never makes the message
                // come back (the log says why).
                if let (Outcome::Refused { bounce, .. }, Some(mailer)) =
                    (&r.outcome, &self.config.refusals)
                    && let Err(e) = mailer
                        .send(&m, env.mail_from.as_deref(), intake_id, bounce, now)
                        .await
                {
                    tracing::warn!(intake_id, error = %e, "could not queue the refusal mail");
                }
                Ok(r)
            }
            Err(e) => {
                if let Err(release) = self.store().release_mail(intake_id).await {
                    tracing::warn!(error = %release, "could not release a failed mail claim");
                }
                Err(e)
            }
        }
    }

    async fn apply(
        &self,
        m: &IntakeMessage,
        raw: &[u8],
        env: &Envelope,
        intake_id: i64,
        message_key: &str,
        now: UnixMillis,
    ) -> Result<IntakeReport, IntakeError> {
        // `raw` is what was sent: DKIM signed those bytes, not a plaintext.
        let auth = match &self.checks {
            Some(c) => c.check(raw, env).await,
            None => AuthResults::default(),
        };
        let mut facts = self.facts(m, now).await?;
        facts.sender_failed_checks = auth.sender_failed();
        let decision = decide(m, &facts);

        let mut flags: Vec<String> = Vec::new();
        if auth.sender_failed() {
            flags.push("sender_checks_failed".into());
        }
        if m.body_was_html {
            flags.push("html_converted".into());
        }
        if let Some(f) = m.encryption {
            flags.push(f.into());
        }
        let mut kept = 0;
        let mut refused_files = Vec::new();
        let (outcome, detail, event_id) = match decision {
            Decision::Ignore(j) => {
                let reason = j.describe();
                (
                    Outcome::Ignored {
                        reason: reason.clone(),
                    },
                    reason,
                    None,
                )
            }
            Decision::Refuse { reason, bounce } => (
                Outcome::Refused {
                    reason: reason.clone(),
                    bounce,
                },
                reason,
                None,
            ),
            Decision::NewReport {
                programme_id,
                flags: rule_flags,
            } => {
                flags.extend(rule_flags.iter().map(|s| (*s).to_owned()));
                let programme = self.store().programme_by_id(programme_id).await?;
                let researcher = self.sender_account(m, now).await?;
                let (staged, refused) = self.stage_files(m, researcher, now).await?;
                kept = staged.len();
                refused_files = refused;
                let input = ReportInput {
                    title: if m.subject.trim().is_empty() {
                        "(no subject)".into()
                    } else {
                        truncate(m.subject.trim(), MAX_TITLE)
                    },
                    description: self.body_text(m, &refused_files, None),
                    ..Default::default()
                };
                let checked = input.validate().map_err(ServiceError::from)?;
                match self
                    .service
                    .submit_report_answering(
                        &programme,
                        researcher,
                        &checked,
                        "email",
                        m.message_id_as_sent.as_deref(),
                        now,
                    )
                    .await
                {
                    Ok(report) => {
                        self.store()
                            .attach_staged(researcher, &staged, report.id, None, false)
                            .await?;
                        (
                            Outcome::NewReport {
                                report_id: report.id,
                            },
                            format!("new report #{} in {}", report.id, programme.slug),
                            None,
                        )
                    }
                    Err(ServiceError::Refused(why)) => {
                        let bounce = format!(
                            "Thank you for writing to us. Your message could not be taken: {why}.\n\n\
                             Nothing from it has been stored. This is an automatic answer."
                        );
                        (
                            Outcome::Refused {
                                reason: why.clone(),
                                bounce,
                            },
                            why,
                            None,
                        )
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Decision::Comment {
                report_id,
                by,
                from_researcher,
            } => {
                let report = self.store().report(report_id).await?;
                let researcher = report.researcher_id;
                let (staged, refused) = self.stage_files(m, researcher, now).await?;
                kept = staged.len();
                refused_files = refused;
                if !from_researcher {
                    flags.push("other_sender_via_reply_address".into());
                }
                let via = (!from_researcher).then_some(&m.from);
                let body = self.body_text(m, &refused_files, via);
                let event = self
                    .service
                    .comment(
                        &report,
                        Actor {
                            user_id: researcher,
                            role: Role::Researcher,
                        },
                        &body,
                        false,
                        now,
                    )
                    .await?;
                self.store()
                    .attach_staged(researcher, &staged, report.id, Some(event.id), false)
                    .await?;
                (
                    Outcome::Comment {
                        report_id,
                        event_id: event.id,
                        by,
                    },
                    format!("comment on report #{report_id} ({})", by.as_str()),
                    Some(event.id),
                )
            }
        };
        if !refused_files.is_empty() {
            flags.push("attachment_refused".into());
        }
        flags.dedup();
        // The team sees in the thread how the mail came and what its sender
        // checks said: always on a new report, on a comment when it matters.
        if let Some(report_id) = outcome.report_id()
            && (matches!(outcome, Outcome::NewReport { .. }) || !flags.is_empty())
        {
            let note = team_note(m, message_key, &auth, &flags);
            self.store().add_mail_note(report_id, &note, now).await?;
        }
        self.store()
            .finish_mail(
                intake_id,
                &MailOutcomeRecord {
                    outcome: outcome.as_str().to_owned(),
                    sender: m.from.address.clone(),
                    subject: m.subject.clone(),
                    size: i64::try_from(m.size).unwrap_or(i64::MAX),
                    report_id: outcome.report_id(),
                    event_id,
                    spf: auth.spf.as_str().to_owned(),
                    dkim: auth.dkim.as_str().to_owned(),
                    dmarc: auth.dmarc.as_str().to_owned(),
                    flags: flags.clone(),
                    detail,
                },
            )
            .await?;
        Ok(IntakeReport {
            intake_id,
            message_key: message_key.to_owned(),
            outcome,
            auth,
            flags,
            attachments_kept: kept,
            attachments_refused: refused_files,
        })
    }

    /// The sender's account: an existing one, or a new unregistered
    /// researcher (no password; they claim it through a reset link).
    async fn sender_account(&self, m: &IntakeMessage, now: UnixMillis) -> Result<i64, IntakeError> {
        match self.store().user_by_email(&m.from.address).await {
            Ok(u) => Ok(u.id),
            Err(StoreError::NotFound) => {
                match self
                    .store()
                    .create_user(&m.from.address, Role::Researcher, None, now)
                    .await
                {
                    Ok(u) => Ok(u.id),
                    // Created by a concurrent intake a moment ago.
                    Err(StoreError::Conflict(_)) => {
                        Ok(self.store().user_by_email(&m.from.address).await?.id)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn stage_files(
        &self,
        m: &IntakeMessage,
        uploader: i64,
        now: UnixMillis,
    ) -> Result<(Vec<i64>, Vec<String>), IntakeError> {
        let mut staged = Vec::new();
        let mut refused = Vec::new();
        for (i, a) in m.attachments.iter().enumerate() {
            let name = clean_filename(&a.filename);
            if i >= MAX_FILES {
                refused.push(format!("{name}: at most {MAX_FILES} files per message"));
                continue;
            }
            match check_file(&name, a.bytes.len(), self.config.max_attachment_bytes) {
                Ok(content_type) => {
                    let sha = self.files.put(&a.bytes).await?;
                    let size = i64::try_from(a.bytes.len()).unwrap_or(i64::MAX);
                    let att = self
                        .store()
                        .stage_attachment(uploader, &name, content_type, size, &sha, now)
                        .await?;
                    staged.push(att.id);
                }
                Err(why) => refused.push(why),
            }
        }
        Ok((staged, refused))
    }

    /// The text that goes into the thread: the body, a note naming a
    /// sender other than the researcher, and files that were not kept.
    fn body_text(
        &self,
        m: &IntakeMessage,
        refused: &[String],
        other_sender: Option<&crate::message::Mailbox>,
    ) -> String {
        let mut out = String::new();
        if let Some(s) = other_sender {
            let who = match &s.name {
                Some(n) => format!("{n} <{}>", s.address),
                None => s.address.clone(),
            };
            out.push_str(&format!(
                "_Sent by {who} to this report's reply address._\n\n"
            ));
        }
        let body = m.body.trim();
        if body.is_empty() {
            out.push_str(if m.attachments.is_empty() {
                "(the message had no text)"
            } else {
                "(the message had only attachments)"
            });
        } else {
            out.push_str(body);
        }
        if !refused.is_empty() {
            out.push_str("\n\nAttachments not kept:\n");
            for r in refused {
                out.push_str(&format!("- {r}\n"));
            }
        }
        // Leave room for the notes above inside the service's limit.
        truncate(&out, MAX_MARKDOWN - 100)
    }
}

/// The internal note describing one message, in the thread's Markdown.
fn team_note(m: &IntakeMessage, message_key: &str, auth: &AuthResults, flags: &[String]) -> String {
    let who = match &m.from.name {
        Some(n) => format!("{n} <{}>", m.from.address),
        None => m.from.address.clone(),
    };
    let mut out = format!(
        "Received by email from `{who}` (Message-ID `{message_key}`).\n\n\
         Sender checks: SPF {}, DKIM {}, DMARC {}.",
        auth.spf.as_str(),
        auth.dkim.as_str(),
        auth.dmarc.as_str()
    );
    if auth.sender_failed() {
        out.push_str(
            "\n\n**The sender checks failed: the From address may be forged.** The message was \
             taken, but it was not threaded into an existing report on its From address.",
        );
    }
    if !flags.is_empty() {
        out.push_str(&format!("\n\nFlags: {}.", flags.join(", ")));
    }
    out
}
