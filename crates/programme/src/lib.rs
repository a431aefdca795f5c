//! The disclosure programme's rules, shared by every way in (web form, API,
//! mail intake): validated settings and submissions, the report workflow and
//! who hears about each step, bounties against the budget.
//!
//! The web layer and the binary call [`Service`]; it checks, stores through
//! [`rampart_store::Store`] and tells people through the [`notify::Notifier`]s.
//! Authorisation of *who may ask* stays with the caller (the web layer's role
//! and object checks); the service enforces *what the workflow allows*.

pub mod clock;
pub mod input;
pub mod notify;

use input::{CheckedReport, FieldError, ProgrammeInput};
use notify::{InApp, Notice, NoticeKind, Notifier};
use rampart_core::{Mover, NewFinding, ReportState, Role, Severity, UnixMillis, add_business_days};
use rampart_store::{
    Bounty, Invitation, NewReport, Programme, Report, ReportEvent, StateChange, StateChangeError,
    Store, StoreError,
};
use std::sync::Arc;

/// Reply templates a new installation starts with; the team edits them.
pub const DEFAULT_TEMPLATES: [(&str, &str); 4] = [
    (
        "Thanks",
        "Thank you for this report. We have confirmed the issue and are working on a fix; we will keep you posted here.",
    ),
    (
        "Need more information",
        "Thank you for the report. We could not reproduce it yet. Could you send the exact request (URL, parameters, headers) and the account or role you used? A short recording helps too.",
    ),
    (
        "Fixed, please retest",
        "We believe this is fixed now. Could you check again and tell us whether the issue is gone? Thank you for your patience.",
    ),
    (
        "Duplicate",
        "Thank you for the report. Another researcher reported the same issue earlier, so we are closing this one as a duplicate. You can follow the original report for updates.",
    ),
];

/// How long an invitation link stays valid.
pub const INVITATION_VALID_MS: i64 = 14 * 86_400_000;

/// Why the service refused.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Refused(String),
    /// An award would take spending past the programme's budget.
    #[error(
        "this award of {award} would take spending to {would_be}, past the budget of {budget}; confirm to award it anyway"
    )]
    OverBudget {
        award: i64,
        would_be: i64,
        budget: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<StateChangeError> for ServiceError {
    fn from(e: StateChangeError) -> Self {
        match e {
            StateChangeError::Transition(t) => ServiceError::Refused(t.to_string()),
            StateChangeError::Refused(m) => ServiceError::Refused(m),
            StateChangeError::Store(s) => ServiceError::Store(s),
        }
    }
}

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
}

impl Actor {
    fn mover(self) -> Mover {
        if self.role.is_staff() {
            Mover::Team
        } else {
            Mover::Researcher
        }
    }
}

/// The programme service.
#[derive(Clone)]
pub struct Service {
    pub store: Store,
    notifiers: Vec<Arc<dyn Notifier>>,
    /// Every programme's reports and known issues, for duplicate
    /// suggestions; filled from the store on first use, then kept current
    /// by every change made through this service.
    duplicates: Arc<rampart_dedup::DedupIndex>,
    duplicates_loaded: Arc<tokio::sync::OnceCell<()>>,
}

/// A report as the duplicate index sees it.
pub fn report_doc(r: &Report) -> rampart_dedup::ReportDoc {
    rampart_dedup::ReportDoc {
        id: r.id,
        programme: r.programme_id,
        kind: rampart_dedup::DocKind::Report,
        title: r.title.clone(),
        description: format!("{}\n\n{}\n\n{}", r.description, r.steps, r.impact),
        asset: r.asset.clone(),
        cwe: r.cwe.and_then(|c| u32::try_from(c).ok()),
        duplicate_of: r.duplicate_of.map(|id| rampart_dedup::DocRef {
            kind: rampart_dedup::DocKind::Report,
            id,
        }),
    }
}

/// A known issue as the duplicate index sees it.
pub fn known_issue_doc(k: &rampart_store::KnownIssue) -> rampart_dedup::ReportDoc {
    rampart_dedup::ReportDoc {
        id: k.id,
        programme: k.programme_id,
        kind: rampart_dedup::DocKind::KnownIssue,
        title: k.title.clone(),
        description: k.description.clone(),
        asset: k.asset.clone(),
        cwe: k.cwe.and_then(|c| u32::try_from(c).ok()),
        duplicate_of: None,
    }
}

/// `2026-12-02` for messages.
fn day(ms: UnixMillis) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl Service {
    /// A service with the in-app notification list as its only channel.
    pub fn new(store: Store) -> Self {
        let in_app: Arc<dyn Notifier> = Arc::new(InApp {
            store: store.clone(),
        });
        Service {
            store,
            notifiers: vec![in_app],
            duplicates: Arc::new(
                rampart_dedup::DedupIndex::in_memory().expect("an in-memory index always opens"),
            ),
            duplicates_loaded: Arc::default(),
        }
    }

    /// Loads the duplicate index from the store the first time.
    async fn duplicate_index(&self) -> Result<(), ServiceError> {
        self.duplicates_loaded
            .get_or_try_init(|| async {
                let mut docs: Vec<_> = Vec::new();
                for p in self.store.list_programmes(false).await? {
                    let reports = self
                        .store
                        .list_reports(&rampart_store::ReportFilter {
                            programme_id: Some(p.id),
                            ..Default::default()
                        })
                        .await?;
                    docs.extend(reports.iter().map(report_doc));
                }
                docs.extend(
                    self.store
                        .known_issues(None)
                        .await?
                        .iter()
                        .map(known_issue_doc),
                );
                let index = self.duplicates.clone();
                tokio::task::spawn_blocking(move || index.rebuild(&docs))
                    .await
                    .map_err(|e| ServiceError::Refused(format!("index rebuild stopped: {e}")))?
                    .map_err(dedup_error)?;
                Ok::<(), ServiceError>(())
            })
            .await?;
        Ok(())
    }

    /// Puts (or replaces) a document in the duplicate index. A failure is
    /// logged, not returned: the report itself is stored, and the index is
    /// rebuilt from the store on the next start.
    async fn index(&self, doc: rampart_dedup::ReportDoc) {
        if self.duplicates_loaded.get().is_none() {
            return; // the first suggestion loads everything from the store
        }
        let index = self.duplicates.clone();
        let result = tokio::task::spawn_blocking(move || index.upsert(&doc)).await;
        if let Ok(Err(e)) = result {
            tracing::warn!(error = %e, "Could not update the duplicate index");
        }
    }

    /// Likely duplicates of `report` among its programme's reports and
    /// known issues, best first.
    pub async fn duplicate_candidates(
        &self,
        report: &Report,
        limit: usize,
    ) -> Result<Vec<rampart_dedup::Candidate>, ServiceError> {
        self.duplicate_index().await?;
        let index = self.duplicates.clone();
        let doc = report_doc(report);
        let limit = limit.clamp(1, 50);
        let found = tokio::task::spawn_blocking(move || index.suggest(&doc, limit + 1))
            .await
            .map_err(|e| ServiceError::Refused(format!("suggestions stopped: {e}")))?
            .map_err(dedup_error)?;
        Ok(found
            .into_iter()
            .filter(|c| !(c.kind == rampart_dedup::DocKind::Report && c.report_id == report.id))
            .take(limit)
            .collect())
    }

    /// Registers a known issue of a programme (from a finding, a report or
    /// by hand); new reports that match it are suggested as its duplicates.
    pub async fn add_known_issue(
        &self,
        k: &rampart_store::NewKnownIssue,
        now: UnixMillis,
    ) -> Result<rampart_store::KnownIssue, ServiceError> {
        let title = k.title.trim();
        if title.is_empty() || title.chars().count() > input::MAX_TITLE || title.contains('\0') {
            return Err(FieldError::new("title", "is required (at most 200 characters)").into());
        }
        if k.description.contains('\0') || k.description.chars().count() > input::MAX_MARKDOWN {
            return Err(FieldError::new("description", "is too long or contains NUL").into());
        }
        let stored = self.store.add_known_issue(k, now).await?;
        self.index(known_issue_doc(&stored)).await;
        Ok(stored)
    }

    pub async fn remove_known_issue(&self, id: i64) -> Result<(), ServiceError> {
        self.store.delete_known_issue(id).await?;
        if self.duplicates_loaded.get().is_some() {
            let index = self.duplicates.clone();
            let _ = tokio::task::spawn_blocking(move || {
                index.remove(rampart_dedup::DocKind::KnownIssue, id)
            })
            .await;
        }
        Ok(())
    }

    /// Adds a channel (email, Slack, webhooks).
    pub fn with_notifier(mut self, n: Arc<dyn Notifier>) -> Self {
        self.notifiers.push(n);
        self
    }

    async fn tell(&self, notice: Notice) {
        for n in &self.notifiers {
            // A channel failing must not undo the change it reports; the
            // change is stored and the in-app list is the record.
            if let Err(e) = n.deliver(&notice).await {
                tracing_warn(n.name(), &e);
            }
        }
    }

    async fn tell_team(&self, report_id: i64, kind: NoticeKind, message: &str, at: UnixMillis) {
        let Ok(users) = self.store.list_users().await else {
            return;
        };
        for u in users
            .iter()
            .filter(|u| matches!(u.role, Role::Admin | Role::Triager) && !u.disabled)
        {
            self.tell(Notice {
                user_id: u.id,
                report_id: Some(report_id),
                kind,
                message: message.to_owned(),
                at,
                in_reply_to: None,
            })
            .await;
        }
    }

    async fn tell_own_researcher(
        &self,
        report: &Report,
        kind: NoticeKind,
        message: &str,
        at: UnixMillis,
    ) {
        self.tell(Notice {
            user_id: report.researcher_id,
            report_id: Some(report.id),
            kind,
            message: message.to_owned(),
            at,
            in_reply_to: None,
        })
        .await;
    }

    /// Tells the researcher and everyone following the report.
    async fn tell_researchers(
        &self,
        report: &Report,
        kind: NoticeKind,
        message: &str,
        at: UnixMillis,
    ) {
        let mut people = vec![report.researcher_id];
        if let Ok(more) = self.store.report_participants(report.id).await {
            people.extend(more);
        }
        for user_id in people {
            self.tell(Notice {
                user_id,
                report_id: Some(report.id),
                kind,
                message: message.to_owned(),
                at,
                in_reply_to: None,
            })
            .await;
        }
    }

    pub async fn create_programme(
        &self,
        input: &ProgrammeInput,
        now: UnixMillis,
    ) -> Result<Programme, ServiceError> {
        let settings = input.validate()?;
        Ok(self.store.create_programme(&settings, now).await?)
    }

    pub async fn update_programme(
        &self,
        id: i64,
        input: &ProgrammeInput,
        now: UnixMillis,
    ) -> Result<Programme, ServiceError> {
        let settings = input.validate()?;
        Ok(self.store.update_programme(id, &settings, now).await?)
    }

    /// Invites an address to a programme. Returns the invitation and the
    /// secret token of its accept link (shown once; only its digest is kept).
    pub async fn invite(
        &self,
        programme: &Programme,
        email: &str,
        invited_by: Option<i64>,
        now: UnixMillis,
    ) -> Result<(Invitation, String), ServiceError> {
        let email = email.trim();
        if !input::looks_like_email(email) {
            return Err(FieldError::new("email", "is not an email address").into());
        }
        let token = rampart_auth_token()?;
        let digest = digest(&token);
        let inv = self
            .store
            .create_invitation(
                programme.id,
                email,
                &digest,
                invited_by,
                now,
                now + INVITATION_VALID_MS,
            )
            .await?;
        // Someone who already has an account hears about it in the app too,
        // if the address is proven theirs: otherwise whoever registered the
        // address first would learn the private programme's name.
        if let Ok(user) = self.store.user_by_email(email).await
            && self
                .store
                .researcher_profile(user.id)
                .await
                .is_ok_and(|p| p.email_verified)
        {
            self.tell(Notice {
                user_id: user.id,
                report_id: None,
                kind: NoticeKind::Invited,
                message: format!(
                    "You are invited to the private programme {}",
                    programme.name
                ),
                at: now,
                in_reply_to: None,
            })
            .await;
        }
        Ok((inv, token))
    }

    /// The acknowledgement a researcher gets the moment a report is stored.
    pub fn acknowledgement(programme: &Programme, report_id: i64, now: UnixMillis) -> String {
        let t = programme.targets;
        format!(
            "Thank you for your report #{report_id} to {name}. It has reached the team, and you will \
             hear from us here. We aim to give a first response within {first} (by {first_day}) and \
             to triage it within {triage} (by {triage_day}). You can add details at any time in \
             this thread.",
            name = programme.name,
            first = plural(t.first_response_days, "business day"),
            first_day = day(add_business_days(now, t.first_response_days)),
            triage = plural(t.triage_days, "business day"),
            triage_day = day(add_business_days(now, t.triage_days)),
        )
    }

    /// Stores a report, acknowledges it in its thread, makes it a finding
    /// in the platform's list and tells the team. Reports on assets outside
    /// the scope are taken but flagged to both sides.
    pub async fn submit_report(
        &self,
        programme: &Programme,
        researcher_id: i64,
        report: &CheckedReport,
        received_via: &str,
        now: UnixMillis,
    ) -> Result<Report, ServiceError> {
        self.submit_report_answering(programme, researcher_id, report, received_via, None, now)
            .await
    }

    /// [`Service::submit_report`] for a report that came as a message:
    /// `answering` is its Message-ID, which the acknowledgement answers.
    pub async fn submit_report_answering(
        &self,
        programme: &Programme,
        researcher_id: i64,
        report: &CheckedReport,
        received_via: &str,
        answering: Option<&str>,
        now: UnixMillis,
    ) -> Result<Report, ServiceError> {
        if programme.submissions_paused {
            return Err(ServiceError::Refused(format!(
                "{} is not taking new reports at the moment; please try again later",
                programme.name
            )));
        }
        let out_of_scope = match &report.asset {
            Some(a) => {
                let matches: Vec<_> = programme.scope.iter().filter(|s| s.covers(a)).collect();
                // Out of scope when listed as excluded, or when the programme
                // lists its scope and the asset is not in it.
                matches.iter().any(|s| !s.in_scope)
                    || (!programme.scope.is_empty() && !matches.iter().any(|s| s.in_scope))
            }
            None => false,
        };
        // The acknowledgement names the report's number, which the insert
        // assigns: the store asks for the text once it knows the id.
        let new = NewReport {
            programme_id: programme.id,
            researcher_id,
            title: report.title.clone(),
            description: report.description.clone(),
            steps: report.steps.clone(),
            impact: report.impact.clone(),
            asset: report.asset.clone(),
            out_of_scope,
            cwe: report.cwe.map(i64::from),
            cvss_vector: report.cvss_vector.clone(),
            researcher_severity: report.severity,
            received_via: received_via.to_owned(),
        };
        let stored = self
            .store
            .create_report(&new, |id| Self::acknowledgement(programme, id, now), now)
            .await?;
        // The platform's finding list shows programme reports beside
        // scanner findings; the fingerprint makes this idempotent.
        let finding = NewFinding::builder(
            "report",
            &format!("#{} {}", stored.id, stored.title),
            stored.researcher_severity.unwrap_or(Severity::Medium),
        )
        .asset(stored.asset.as_deref().unwrap_or(&programme.slug))
        .location(&format!("/reports/{}", stored.id))
        .fingerprint(&format!("report:{}", stored.id));
        let finding = match stored.cwe.and_then(|c| u32::try_from(c).ok()) {
            Some(c) => finding.cwe(c),
            None => finding,
        };
        let finding = match &stored.cvss_vector {
            Some(v) => finding.cvss_vector(v),
            None => finding,
        };
        let summary = self.store.ingest_findings(&[finding.build()], now).await?;
        if let Some(&fid) = summary.ids.first() {
            self.store.link_report_finding(stored.id, fid).await?;
        }
        self.index(report_doc(&stored)).await;
        let mut flag = String::new();
        if out_of_scope {
            flag = " (asset not in scope)".into();
        }
        self.tell_team(
            stored.id,
            NoticeKind::ReportReceived,
            &format!(
                "New report #{} to {}: {}{flag}",
                stored.id, programme.name, stored.title
            ),
            now,
        )
        .await;
        self.tell(Notice {
            user_id: researcher_id,
            report_id: Some(stored.id),
            kind: NoticeKind::Acknowledged,
            message: format!("Report #{} received by {}", stored.id, programme.name),
            at: now,
            in_reply_to: answering.map(str::to_owned),
        })
        .await;
        Ok(self.store.report(stored.id).await?)
    }

    /// Adds a comment or (team only) an internal note.
    pub async fn comment(
        &self,
        report: &Report,
        actor: Actor,
        body: &str,
        internal: bool,
        now: UnixMillis,
    ) -> Result<ReportEvent, ServiceError> {
        if body.contains('\0') || body.chars().count() > input::MAX_MARKDOWN {
            return Err(
                FieldError::new("body", "must be under 100000 characters, without NUL").into(),
            );
        }
        let body = body.trim();
        if body.is_empty() {
            return Err(FieldError::new("body", "is required").into());
        }
        if internal && !actor.role.is_staff() {
            return Err(ServiceError::Refused(
                "only the team writes internal notes".into(),
            ));
        }
        if !actor.role.is_staff() && actor.user_id != report.researcher_id {
            // Followers of a duplicate read the original; they do not write in it.
            return Err(ServiceError::Refused(
                "you follow this report read-only; comment on your own report instead".into(),
            ));
        }
        let event = self
            .store
            .add_report_comment(report.id, actor.user_id, actor.role, body, internal, now)
            .await?;
        if !internal {
            if actor.role.is_staff() {
                self.tell_researchers(
                    report,
                    NoticeKind::Comment,
                    &format!("The team replied on report #{}", report.id),
                    now,
                )
                .await;
            } else {
                self.tell_team(
                    report.id,
                    NoticeKind::Comment,
                    &format!("The researcher replied on report #{}", report.id),
                    now,
                )
                .await;
            }
        }
        Ok(event)
    }

    /// Moves a report along the workflow.
    pub async fn change_state(
        &self,
        report: &Report,
        actor: Actor,
        to: ReportState,
        reason: &str,
        duplicate_of: Option<i64>,
        now: UnixMillis,
    ) -> Result<Report, ServiceError> {
        if reason.contains('\0') || reason.chars().count() > input::MAX_MARKDOWN {
            return Err(FieldError::new("reason", "is too long or contains NUL").into());
        }
        if actor.mover() == Mover::Researcher && actor.user_id != report.researcher_id {
            return Err(ServiceError::Refused(
                "only the report's own researcher answers its retest".into(),
            ));
        }
        let updated = self
            .store
            .change_report_state(
                report.id,
                &StateChange {
                    to,
                    mover: actor.mover(),
                    author_id: Some(actor.user_id),
                    reason: reason.trim(),
                    duplicate_of,
                },
                now,
            )
            .await?;
        if to == ReportState::Duplicate {
            // Suggestions now lead to the original instead of this copy.
            self.index(report_doc(&updated)).await;
        }
        // The report's finding follows it, so the findings list tells the
        // same story as the programme.
        if let Some(fid) = updated.finding_id {
            use rampart_core::FindingStatus as F;
            let status = match to {
                ReportState::New | ReportState::NeedsMoreInfo => F::Open,
                ReportState::Triaged => F::Triaged,
                ReportState::Retesting => F::Resolved,
                ReportState::Resolved => F::Verified,
                ReportState::Duplicate => F::Duplicate,
                ReportState::WontFix => F::RiskAccepted,
                ReportState::Informative
                | ReportState::NotApplicable
                | ReportState::OutOfScope
                | ReportState::NotReproducible
                | ReportState::Spam => F::FalsePositive,
            };
            if let Err(e) = self.store.set_finding_status(fid, status, now).await {
                tracing::warn!(report = updated.id, error = %e, "Could not update the report's finding");
            }
        }
        let (kind, message) = match to {
            ReportState::Retesting => (
                NoticeKind::RetestRequested,
                format!(
                    "Please retest report #{}: the team believes it is fixed",
                    report.id
                ),
            ),
            ReportState::Duplicate => (
                NoticeKind::Duplicate,
                format!(
                    "Report #{} is a duplicate of #{}; you can follow the original",
                    report.id,
                    duplicate_of.unwrap_or_default()
                ),
            ),
            _ => (
                NoticeKind::StateChanged,
                format!("Report #{} is now {}", report.id, to.label()),
            ),
        };
        if actor.role.is_staff() {
            self.tell_researchers(&updated, kind, &message, now).await;
        } else {
            self.tell_team(report.id, kind, &message, now).await;
        }
        Ok(updated)
    }

    /// The award the bounty table suggests for a report (final severity, or
    /// the researcher's estimate until the team sets one).
    pub fn suggested_bounty(programme: &Programme, report: &Report) -> i64 {
        report
            .final_severity
            .or(report.researcher_severity)
            .map_or(0, |s| programme.bounties.amount_for(s))
    }

    /// Awards a bounty (`kind` = `bounty` or `retest`). Past the budget it
    /// refuses unless `over_budget_confirmed`.
    #[allow(clippy::too_many_arguments)]
    pub async fn award_bounty(
        &self,
        programme: &Programme,
        report: &Report,
        actor: Actor,
        kind: &str,
        amount: i64,
        bonus: i64,
        over_budget_confirmed: bool,
        now: UnixMillis,
    ) -> Result<Bounty, ServiceError> {
        if !actor.role.is_staff() {
            return Err(ServiceError::Refused(
                "only the team awards bounties".into(),
            ));
        }
        if !matches!(kind, "bounty" | "retest") {
            return Err(FieldError::new("kind", "use bounty or retest").into());
        }
        for (field, v) in [("amount", amount), ("bonus", bonus)] {
            if !(0..=100_000_000).contains(&v) {
                return Err(FieldError::new(field, "must be from 0 to 100000000").into());
            }
        }
        if amount + bonus == 0 {
            return Err(ServiceError::Refused(
                "an award of nothing: give an amount or a bonus above zero".into(),
            ));
        }
        if !report.state.is_valid_issue() {
            return Err(ServiceError::Refused(format!(
                "report #{} is {}; bounties go to triaged, retesting or resolved reports",
                report.id,
                report.state.label()
            )));
        }
        // Going past the budget is an admin's decision.
        let budget = programme
            .budget
            .filter(|_| !(over_budget_confirmed && actor.role == Role::Admin));
        let bounty = match self
            .store
            .award_bounty_within(report.id, kind, amount, bonus, actor.user_id, budget, now)
            .await?
        {
            Ok(b) => b,
            Err(over) => {
                return Err(ServiceError::OverBudget {
                    award: amount + bonus,
                    would_be: over.would_be,
                    budget: over.budget,
                });
            }
        };
        // Only the report's own researcher hears of its award: followers
        // (duplicates' reporters) have no business knowing the amount.
        self.tell_own_researcher(
            report,
            NoticeKind::BountyAwarded,
            &format!(
                "You were awarded {} {} for report #{}",
                amount + bonus,
                programme.currency,
                report.id
            ),
            now,
        )
        .await;
        Ok(bounty)
    }

    /// Asks for, or agrees to, disclosure. The first side asks; when the
    /// other side acts, the report is published on the programme's
    /// disclosed-reports page with the write-up the team chose (`summary`,
    /// its redactions included). Returns whether it is now disclosed.
    pub async fn disclosure(
        &self,
        report: &Report,
        actor: Actor,
        summary: Option<&str>,
        title: Option<&str>,
        now: UnixMillis,
    ) -> Result<bool, ServiceError> {
        use ReportState as S;
        let staff = actor.role.is_staff();
        if !staff && actor.user_id != report.researcher_id {
            return Err(ServiceError::Refused(
                "only the report's own researcher can ask to disclose it".into(),
            ));
        }
        if report.state.is_open() || matches!(report.state, S::Spam | S::Duplicate) {
            return Err(ServiceError::Refused(format!(
                "report #{} is {}; reports are disclosed once closed (resolved, informative, won't fix…)",
                report.id,
                report.state.label()
            )));
        }
        if let Some(s) = summary
            && (s.contains('\0') || s.chars().count() > input::MAX_MARKDOWN)
        {
            return Err(FieldError::new("summary", "is too long or contains NUL").into());
        }
        let summary = summary.map(str::trim).filter(|s| !s.is_empty());
        if let Some(t) = title
            && (t.contains('\0') || t.chars().count() > input::MAX_TITLE)
        {
            return Err(FieldError::new("title", "is too long or contains NUL").into());
        }
        let title = title.map(str::trim).filter(|s| !s.is_empty());
        if (summary.is_some() || title.is_some()) && !staff {
            return Err(ServiceError::Refused(
                "the team writes the public write-up; add your notes as a comment".into(),
            ));
        }
        let other_side_asked = match report.disclosure.as_str() {
            "requested_by_team" => !staff,
            "requested_by_researcher" => staff,
            "disclosed" => {
                return Err(ServiceError::Refused(
                    "this report is already disclosed".into(),
                ));
            }
            _ => false,
        };
        if other_side_asked {
            if staff && summary.is_none() {
                return Err(ServiceError::Refused(
                    "write the public write-up (summary; redact what must stay private) before disclosing".into(),
                ));
            }
            self.store
                .disclose_report(report.id, actor.user_id, summary, title, now)
                .await?;
            let msg = format!("Report #{} is now publicly disclosed", report.id);
            self.tell_researchers(report, NoticeKind::StateChanged, &msg, now)
                .await;
            self.tell_team(report.id, NoticeKind::StateChanged, &msg, now)
                .await;
            return Ok(true);
        }
        if staff && summary.is_none() {
            return Err(ServiceError::Refused(
                "propose the public write-up (summary) the researcher is asked to agree to".into(),
            ));
        }
        self.store
            .request_disclosure(report.id, actor.user_id, staff, summary, title, now)
            .await?;
        if staff {
            self.tell_researchers(
                report,
                NoticeKind::StateChanged,
                &format!("The team asks to disclose report #{}", report.id),
                now,
            )
            .await;
        } else {
            self.tell_team(
                report.id,
                NoticeKind::StateChanged,
                &format!("The researcher asks to disclose report #{}", report.id),
                now,
            )
            .await;
        }
        Ok(false)
    }

    /// For programmes that asked for it, pauses new submissions while any
    /// open report breaches a response target, and resumes them once none
    /// does. Returns the programmes whose state changed, as `(slug, paused)`.
    pub async fn enforce_response_targets(
        &self,
        now: UnixMillis,
    ) -> Result<Vec<(String, bool)>, ServiceError> {
        let mut changed = Vec::new();
        for p in self.store.list_programmes(false).await? {
            if !p.pause_on_breach {
                continue;
            }
            let open = self
                .store
                .list_reports(&rampart_store::ReportFilter {
                    programme_id: Some(p.id),
                    open_only: true,
                    ..Default::default()
                })
                .await?;
            let breached = open.iter().any(|r| {
                clock::clocks(r, &p.targets, now)
                    .iter()
                    .any(|c| matches!(c.state, clock::ClockState::Breached { .. }))
            });
            if breached != p.submissions_paused {
                self.store
                    .set_submissions_paused(p.id, breached, now)
                    .await?;
                changed.push((p.slug.clone(), breached));
            }
        }
        Ok(changed)
    }

    /// The team's reply templates; the four every programme needs are
    /// created the first time they are asked for.
    pub async fn reply_templates(
        &self,
        now: UnixMillis,
    ) -> Result<Vec<rampart_store::ReplyTemplate>, ServiceError> {
        let list = self.store.reply_templates().await?;
        if !list.is_empty() {
            return Ok(list);
        }
        for (name, body) in DEFAULT_TEMPLATES {
            self.store.save_reply_template(name, body, now).await?;
        }
        Ok(self.store.reply_templates().await?)
    }

    /// Closes needs-more-info reports whose researcher stayed silent past
    /// the programme's limit. Returns how many were closed.
    pub async fn close_silent_reports(&self, now: UnixMillis) -> Result<usize, ServiceError> {
        let stale = self.store.stale_needs_info_reports(now).await?;
        let mut closed = 0;
        for r in stale {
            let change = StateChange {
                to: ReportState::NotApplicable,
                mover: Mover::System,
                author_id: None,
                reason: "Closed automatically: we asked for more information and heard nothing back. Reply here and we will reopen it.",
                duplicate_of: None,
            };
            if self
                .store
                .change_report_state(r.id, &change, now)
                .await
                .is_ok()
            {
                closed += 1;
                self.tell_researchers(
                    &r,
                    NoticeKind::StateChanged,
                    &format!("Report #{} was closed after a silence", r.id),
                    now,
                )
                .await;
            }
        }
        Ok(closed)
    }
}

fn dedup_error(e: rampart_dedup::DedupError) -> ServiceError {
    ServiceError::Refused(format!("duplicate suggestions are unavailable: {e}"))
}

fn tracing_warn(channel: &str, e: &StoreError) {
    tracing::warn!(channel, error = %e, "Notification channel failed");
}

fn rampart_auth_token() -> Result<String, ServiceError> {
    rampart_auth::new_token(rampart_auth::TokenKind::Link)
        .map_err(|e| ServiceError::Refused(format!("no randomness available: {e}")))
}

/// The stored form of a link token: its SHA-256.
pub fn digest(token: &str) -> String {
    rampart_auth::token_digest(token)
}
