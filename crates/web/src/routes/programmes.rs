//! Programme pages: the public list and programme page, security.txt, the
//! thanks page, researcher sign-up, invitations, and the admin's programme
//! form. Report pages live in `reports.rs`.

use super::audit;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{PageCtx, Signed, looks_like_email, urlencode};
use crate::markdown;
use crate::programme_api::{viewer, visible_programme};
use crate::views::{Chrome, fmt_time};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_core::securitytxt::SecurityTxt;
use rampart_core::{AssetType, Role, Severity, Visibility};
use rampart_programme::clock::median;
use rampart_programme::input::{ProgrammeInput, ScopeInput};
use rampart_store::{Programme, ReportFilter};
use serde::Deserialize;

/// A programme in the public list.
pub struct ProgrammeCard {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub private: bool,
    pub top_bounty: String,
    pub in_scope: usize,
}

#[derive(Template)]
#[template(path = "programmes.html")]
pub struct ProgrammesPage {
    pub chrome: Chrome,
    pub programmes: Vec<ProgrammeCard>,
    pub is_admin: bool,
}

pub struct ScopeRowView {
    pub kind: &'static str,
    pub identifier: String,
    pub max_severity: String,
    pub max_severity_class: String,
    pub note: String,
}

pub struct BountyRowView {
    pub severity: &'static str,
    pub class: &'static str,
    pub amount: String,
}

pub struct FigureView {
    pub label: &'static str,
    pub value: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "programme.html")]
pub struct ProgrammePage {
    pub chrome: Chrome,
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub private: bool,
    pub paused: bool,
    pub policy_html: String,
    pub rules_html: String,
    pub safe_harbour_html: String,
    pub in_scope: Vec<ScopeRowView>,
    pub out_of_scope: Vec<ScopeRowView>,
    pub bounties: Vec<BountyRowView>,
    pub figures: Vec<FigureView>,
    pub figures_note: String,
    pub can_submit: bool,
    pub signed_in: bool,
    pub is_admin: bool,
    pub is_staff: bool,
    pub flash: Option<String>,
    pub invite_link: Option<String>,
    pub invite_error: Option<String>,
    pub thanks: Vec<(String, i64)>,
    /// (id, title, public): the team sees all, others the public ones.
    pub known_issues: Vec<(i64, String, bool)>,
    /// The address that takes reports by email.
    pub email: Option<String>,
    /// The OpenPGP key's fingerprint, in groups of four, when the programme has one.
    pub pgp_fingerprint: Option<String>,
}

/// `ABCD1234…` → `ABCD 1234 …`, as people compare fingerprints.
fn grouped(fingerprint: &str) -> String {
    fingerprint
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn money(amount: i64, currency: &str) -> String {
    // Thousands separated for reading; amounts are whole units.
    let digits = amount.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out} {currency}", if amount < 0 { "-" } else { "" })
}

fn days(ms: i64) -> String {
    let d = ms as f64 / 86_400_000.0;
    if d < 1.0 {
        format!("{:.0} hours", (ms as f64 / 3_600_000.0).max(1.0))
    } else {
        format!("{d:.1} days")
    }
}

/// Fewest reports before the public page shows response figures: a median
/// of two is an anecdote.
const FIGURES_AFTER: usize = 5;

async fn response_figures(
    state: &AppState,
    p: &Programme,
) -> Result<(Vec<FigureView>, String), AppError> {
    let since = state.now() - 90 * 86_400_000;
    let reports: Vec<_> = state
        .store
        .list_reports(&ReportFilter {
            programme_id: Some(p.id),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|r| r.created_at >= since)
        .collect();
    let collect = |f: &dyn Fn(&rampart_store::Report) -> Option<i64>| -> Vec<i64> {
        reports.iter().filter_map(f).filter(|v| *v >= 0).collect()
    };
    let first = collect(&|r| r.first_response_at.map(|t| t - r.created_at));
    let triage = collect(&|r| r.triaged_at.map(|t| t - r.created_at - r.paused_ms));
    let bounty = collect(&|r| match (r.triaged_at, r.bounty_at) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    });
    let resolve = collect(&|r| match (r.triaged_at, r.resolved_at) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    });
    let t = p.targets;
    let rows = [
        ("Time to first response", first, t.first_response_days),
        ("Time to triage", triage, t.triage_days),
        ("Time to bounty", bounty, t.bounty_days),
        ("Time to resolution", resolve, t.resolution_days),
    ];
    let figures: Vec<FigureView> = rows
        .into_iter()
        .map(|(label, values, target)| FigureView {
            label,
            value: median(values, FIGURES_AFTER).map_or("not enough reports yet".into(), days),
            target: format!(
                "target {target} business day{}",
                if target == 1 { "" } else { "s" }
            ),
        })
        .collect();
    let note = format!(
        "Medians over the last 90 days ({} report{}); shown once at least {FIGURES_AFTER} reports have reached that step.",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" }
    );
    Ok((figures, note))
}

fn scope_rows(p: &Programme, in_scope: bool) -> Vec<ScopeRowView> {
    p.scope
        .iter()
        .filter(|s| s.in_scope == in_scope)
        .map(|s| ScopeRowView {
            kind: s.asset_type.label(),
            identifier: s.identifier.clone(),
            max_severity: s.max_severity.map_or("—".into(), |v| v.label().to_owned()),
            max_severity_class: s
                .max_severity
                .map_or(String::new(), |v| v.as_str().to_owned()),
            note: s.note.clone(),
        })
        .collect()
}

pub async fn list(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let who = ctx.principal.as_ref();
    let list = state.store.programmes_visible_to(who.map(viewer)).await?;
    let programmes = list
        .into_iter()
        .map(|p| ProgrammeCard {
            top_bounty: if p.bounties.pays() {
                format!("up to {}", money(p.bounties.critical, &p.currency))
            } else {
                "Disclosure programme".into()
            },
            in_scope: p.scope.iter().filter(|s| s.in_scope).count(),
            private: p.visibility == Visibility::Private,
            slug: p.slug,
            name: p.name,
            summary: p.summary,
        })
        .collect();
    let page = ProgrammesPage {
        chrome: ctx.chrome(&state, "programmes"),
        programmes,
        is_admin: who.is_some_and(|p| p.role == Role::Admin),
    };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn render_programme(
    state: &AppState,
    ctx: &PageCtx,
    p: Programme,
    flash: Option<String>,
    invite_link: Option<String>,
    invite_error: Option<String>,
) -> Result<Response, AppError> {
    let who = ctx.principal.as_ref();
    let (figures, figures_note) = response_figures(state, &p).await?;
    let bounties = if p.bounties.pays() {
        [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ]
        .into_iter()
        .map(|s| BountyRowView {
            severity: s.label(),
            class: s.as_str(),
            amount: money(p.bounties.amount_for(s), &p.currency),
        })
        .collect()
    } else {
        Vec::new()
    };
    let thanks = state
        .store
        .programme_thanks(p.id)
        .await?
        .into_iter()
        .map(|t| (t.handle, t.valid_reports))
        .collect();
    let staff = who.is_some_and(|w| w.role.is_staff());
    let known_issues = state
        .store
        .known_issues(Some(p.id))
        .await?
        .into_iter()
        .filter(|k| staff || k.public != 0)
        .map(|k| (k.id, k.title, k.public != 0))
        .collect();
    let email = p.email.clone();
    let pgp_fingerprint = state
        .config
        .mail
        .pgp
        .for_programme(&p.slug)
        .map(|k| grouped(k.fingerprint()));
    let page = ProgrammePage {
        email,
        pgp_fingerprint,
        known_issues,
        chrome: ctx.chrome(state, "programmes"),
        in_scope: scope_rows(&p, true),
        out_of_scope: scope_rows(&p, false),
        bounties,
        figures,
        figures_note,
        can_submit: !p.submissions_paused && who.is_none_or(|w| w.role == Role::Researcher),
        signed_in: who.is_some(),
        is_admin: who.is_some_and(|w| w.role == Role::Admin),
        is_staff: who.is_some_and(|w| w.role.is_staff()),
        policy_html: markdown::render(&p.policy),
        rules_html: markdown::render(&p.rules),
        safe_harbour_html: markdown::render(&p.safe_harbour),
        private: p.visibility == Visibility::Private,
        paused: p.submissions_paused,
        slug: p.slug,
        name: p.name,
        summary: p.summary,
        flash,
        invite_link,
        invite_error,
        thanks,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let p = visible_programme(&state, ctx.principal.as_ref(), &slug).await?;
    render_programme(&state, &ctx, p, None, None, None).await
}

/// `/programs/SLUG/pgp-key.asc`: the programme's public OpenPGP key, for
/// researchers to encrypt reports to (named in security.txt `Encryption:`).
pub async fn pgp_key(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let p = visible_programme(&state, ctx.principal.as_ref(), &slug).await?;
    let key = state
        .config
        .mail
        .pgp
        .for_programme(&p.slug)
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pgp-keys".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-pgp-key.asc\"", p.slug),
            ),
        ],
        key.public_armored().to_owned(),
    )
        .into_response())
}

/// `/.well-known/security.txt` (RFC 9116), built from the public
/// programmes: the first one is the preferred contact.
pub async fn security_txt(State(state): State<AppState>) -> Result<Response, AppError> {
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    let public = state.store.list_programmes(true).await?;
    let mut contacts = Vec::new();
    let mut policy = Vec::new();
    let mut acknowledgments = Vec::new();
    let mut encryption: Vec<String> = state
        .config
        .security_txt
        .encryption
        .iter()
        .cloned()
        .collect();
    for p in &public {
        contacts.push(format!("{base}/programs/{}/report", p.slug));
        if let Some(e) = &p.email {
            contacts.push(format!("mailto:{e}"));
        }
        policy.push(format!("{base}/programs/{}", p.slug));
        acknowledgments.push(format!("{base}/programs/{}#thanks", p.slug));
        if state.config.mail.pgp.for_programme(&p.slug).is_some() {
            encryption.push(format!("{base}/programs/{}/pgp-key.asc", p.slug));
        }
    }
    if contacts.is_empty() {
        // Still a valid file: people can reach the sign-in page's owner.
        contacts.push(format!("{base}/programs"));
    }
    let conf = &state.config.security_txt;
    let file = SecurityTxt {
        contacts,
        // Regenerated on every request, so it never lapses while Rampart
        // runs; a short horizon keeps a cached copy from living on after a
        // change.
        expires: state.now() + i64::from(conf.expires_days) * 86_400_000,
        encryption,
        acknowledgments,
        preferred_languages: conf.preferred_languages.clone(),
        canonical: vec![format!("{base}/.well-known/security.txt")],
        policy,
        hiring: conf.hiring.iter().cloned().collect(),
    };
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        file.render(),
    )
        .into_response())
}

// ---------------------------------------------------------------- sign-up

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub chrome: Chrome,
    pub email: String,
    pub handle: String,
    pub thanks: bool,
    pub next: String,
    pub errors: Vec<(&'static str, String)>,
}

impl SignupPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub handle: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub thanks: Option<String>,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

pub async fn signup_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Result<Response, AppError> {
    if ctx.principal.is_some() {
        return Ok(Redirect::to("/reports").into_response());
    }
    let page = SignupPage {
        chrome: ctx.chrome(&state, "signup"),
        email: String::new(),
        handle: String::new(),
        thanks: true,
        next: crate::forms::safe_next(q.next.as_deref()),
        errors: Vec::new(),
    };
    Ok(Html(page.render()?).into_response())
}

fn valid_handle(h: &str) -> bool {
    (3..=32).contains(&h.len())
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::Form(form): axum::Form<SignupForm>,
) -> Result<Response, AppError> {
    state.limits.check_signup(ctx.ip)?;
    let mut errors = Vec::new();
    let email = form.email.trim().to_owned();
    let handle = form.handle.trim().to_owned();
    if !looks_like_email(&email) {
        errors.push((
            "email",
            "Enter an email address such as name@example.com.".to_owned(),
        ));
    }
    if !valid_handle(&handle) {
        errors.push((
            "handle",
            "Use 3 to 32 letters, digits, - or _. It is shown on reports and the thanks page."
                .to_owned(),
        ));
    }
    if let Err(e) = rampart_auth::check_password_policy(&form.password) {
        errors.push(("password", e.to_string()));
    }
    let next = crate::forms::safe_next(form.next.as_deref());
    let again = |errors: Vec<(&'static str, String)>| SignupPage {
        chrome: ctx.chrome(&state, "signup"),
        email: email.clone(),
        handle: handle.clone(),
        thanks: form.thanks.is_some(),
        next: next.clone(),
        errors,
    };
    if errors.is_empty() && state.store.handle_taken(&handle).await? {
        errors.push(("handle", "This handle is taken; choose another.".to_owned()));
    }
    if !errors.is_empty() {
        return Ok(Html(again(errors).render()?).into_response());
    }
    let hash = state.hasher.hash(&form.password)?;
    let target = format!("/login?next={}&signed_up=1", urlencode(&next));
    let now = state.now();
    let user = match state
        .store
        .create_user(&email, Role::Researcher, Some(&hash), now)
        .await
    {
        Ok(u) => u,
        Err(rampart_store::StoreError::Conflict(_)) => {
            // The same answer as for a new account: anything else would
            // tell anyone which addresses have accounts. The owner signs in
            // with the password they already have.
            return Ok(Redirect::to(&target).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(rampart_store::StoreError::Conflict(m)) = state
        .store
        .set_researcher_profile(user.id, &handle, form.thanks.is_some(), now)
        .await
    {
        // The account exists without a handle; the researcher picks another
        // one on their account page. Telling them now is kinder.
        return Ok(Html(again(vec![("handle", format!("{m}."))]).render()?).into_response());
    }
    super::audit_raw(
        &state,
        Some(user.id),
        &email,
        "user.signup",
        ("user", user.id.to_string()),
        "researcher".into(),
        ctx.ip,
    )
    .await?;
    // The account works at once; the mail proves the address (programmes
    // may require a verified address before inviting anyone).
    if let Err(e) = state.mailer.queue_address_verification(&user, now).await {
        tracing::warn!(error = %e, user = user.id, "Could not queue the address-verification mail");
    }
    Ok(Redirect::to(&target).into_response())
}

// ------------------------------------------------------------ invitations

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    pub chrome: Chrome,
    pub token: String,
    pub programme: String,
    pub expires: String,
    pub problem: Option<String>,
}

/// Invitation tokens are 64 hex digits; anything else is no invitation (and
/// never reaches a redirect header).
fn invitation_token(token: &str) -> Result<&str, AppError> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn invitation(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    invitation_token(&token)?;
    let Some(who) = ctx.principal.as_ref() else {
        let next = format!("/invitations/{token}");
        return Ok(Redirect::to(&format!("/signup?next={}", urlencode(&next))).into_response());
    };
    let inv = state
        .store
        .invitation_by_token_hash(&rampart_programme::digest(&token))
        .await
        .map_err(|_| AppError::NotFound)?;
    // An invitation for another address is as invisible as a wrong link.
    if Some(inv.email.as_str()) != who.email.as_deref() {
        return Err(AppError::NotFound);
    }
    let p = state.store.programme_by_id(inv.programme_id).await?;
    let problem = if inv.answered_at.is_some() {
        Some(format!(
            "You already {} this invitation.",
            inv.answer.as_deref().unwrap_or("answered")
        ))
    } else if inv.expires_at <= state.now() {
        Some("This invitation has expired; ask the programme for a new one.".into())
    } else {
        None
    };
    let page = InvitationPage {
        chrome: ctx.chrome(&state, "programmes"),
        token,
        programme: p.name,
        expires: fmt_time(inv.expires_at),
        problem,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct AnswerForm {
    pub answer: String,
}

pub async fn answer_invitation(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<AnswerForm>,
) -> Result<Response, AppError> {
    invitation_token(&token)?;
    let accept = form.answer == "accept";
    let user_id = who.user_id.ok_or(AppError::NotFound)?;
    let result = state
        .store
        .answer_invitation(
            &rampart_programme::digest(&token),
            user_id,
            who.email.as_deref().unwrap_or_default(),
            accept,
            state.now(),
        )
        .await?;
    match result {
        Ok(inv) => {
            let p = state.store.programme_by_id(inv.programme_id).await?;
            audit(
                &state,
                &who,
                if accept {
                    "invitation.accept"
                } else {
                    "invitation.decline"
                },
                ("programme", p.slug.clone()),
                String::new(),
                ctx.ip,
            )
            .await?;
            if accept {
                Ok(Redirect::to(&format!("/programs/{}", p.slug)).into_response())
            } else {
                Ok(Redirect::to("/programs").into_response())
            }
        }
        Err(_) => Ok(Redirect::to(&format!("/invitations/{token}")).into_response()),
    }
}

// ---------------------------------------------------------- admin: programmes

#[derive(Template)]
#[template(path = "programme_form.html")]
pub struct ProgrammeFormPage {
    pub chrome: Chrome,
    pub editing: Option<String>,
    pub f: ProgrammeFormValues,
    pub errors: Vec<(String, String)>,
    pub asset_types: Vec<(&'static str, &'static str)>,
    pub severities: Vec<(&'static str, &'static str)>,
}

impl ProgrammeFormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field || f.starts_with(&format!("{field}.")))
            .map(|(_, m)| m.as_str())
    }
}

/// The admin's programme form. Scope comes as one entry per line, so the
/// form works without script: `type identifier [max-severity] [| note]`,
/// with a leading `-` for out-of-scope entries.
#[derive(Deserialize, Default, Clone)]
pub struct ProgrammeFormValues {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub visibility: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub policy: String,
    #[serde(default)]
    pub rules: String,
    #[serde(default)]
    pub safe_harbour: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub bounty_critical: String,
    #[serde(default)]
    pub bounty_high: String,
    #[serde(default)]
    pub bounty_medium: String,
    #[serde(default)]
    pub bounty_low: String,
    #[serde(default)]
    pub budget: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub email: String,
}

fn parse_amount(field: &str, v: &str) -> Result<i64, (String, String)> {
    let v = v.trim().replace([',', '_', ' '], "");
    if v.is_empty() {
        return Ok(0);
    }
    v.parse::<i64>().map_err(|_| {
        (
            field.to_owned(),
            "Enter a whole amount, such as 500.".to_owned(),
        )
    })
}

fn parse_scope(text: &str) -> Result<Vec<ScopeInput>, (String, String)> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (main, note) = match line.split_once('|') {
            Some((a, b)) => (a.trim(), Some(b.trim().to_owned())),
            None => (line, None),
        };
        let (in_scope, main) = match main.strip_prefix('-') {
            Some(rest) => (false, rest.trim()),
            None => (true, main),
        };
        let mut words = main.split_whitespace();
        let (Some(kind), Some(identifier)) = (words.next(), words.next()) else {
            return Err((
                "scope".into(),
                format!(
                    "Line {}: write the type and the asset, e.g. `wildcard_domain *.example.com critical`.",
                    n + 1
                ),
            ));
        };
        out.push(ScopeInput {
            asset_type: kind.to_owned(),
            identifier: identifier.to_owned(),
            in_scope,
            max_severity: words.next().map(str::to_owned),
            note,
        });
    }
    Ok(out)
}

impl ProgrammeFormValues {
    fn to_input(&self) -> Result<ProgrammeInput, (String, String)> {
        let bounties = rampart_core::BountyTable {
            critical: parse_amount("bounties.critical", &self.bounty_critical)?,
            high: parse_amount("bounties.high", &self.bounty_high)?,
            medium: parse_amount("bounties.medium", &self.bounty_medium)?,
            low: parse_amount("bounties.low", &self.bounty_low)?,
        };
        let budget = match self.budget.trim() {
            "" => None,
            b => Some(parse_amount("budget", b)?),
        };
        Ok(ProgrammeInput {
            name: self.name.clone(),
            slug: self.slug.clone(),
            visibility: if self.visibility.is_empty() {
                "private".into()
            } else {
                self.visibility.clone()
            },
            policy: Some(self.policy.clone()),
            summary: Some(self.summary.clone()),
            rules: Some(self.rules.clone()),
            safe_harbour: Some(self.safe_harbour.clone()),
            scope: Some(parse_scope(&self.scope)?),
            bounties: Some(bounties),
            budget,
            email: Some(self.email.clone()),
            currency: Some(self.currency.clone()),
            ..Default::default()
        })
    }

    fn from_programme(p: &Programme) -> Self {
        let scope = p
            .scope
            .iter()
            .map(|s| {
                let mut line = format!(
                    "{}{} {}",
                    if s.in_scope { "" } else { "- " },
                    s.asset_type.as_str(),
                    s.identifier
                );
                if let Some(m) = s.max_severity {
                    line.push(' ');
                    line.push_str(m.as_str());
                }
                if !s.note.is_empty() {
                    line.push_str(" | ");
                    line.push_str(&s.note);
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n");
        let amount = |a: i64| if a == 0 { String::new() } else { a.to_string() };
        ProgrammeFormValues {
            name: p.name.clone(),
            slug: p.slug.clone(),
            visibility: p.visibility.as_str().into(),
            summary: p.summary.clone(),
            policy: p.policy.clone(),
            rules: p.rules.clone(),
            safe_harbour: p.safe_harbour.clone(),
            scope,
            bounty_critical: amount(p.bounties.critical),
            bounty_high: amount(p.bounties.high),
            bounty_medium: amount(p.bounties.medium),
            bounty_low: amount(p.bounties.low),
            budget: p.budget.map(|b| b.to_string()).unwrap_or_default(),
            currency: p.currency.clone(),
            email: p.email.clone().unwrap_or_default(),
        }
    }
}

fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    editing: Option<String>,
    f: ProgrammeFormValues,
    errors: Vec<(String, String)>,
) -> Result<Response, AppError> {
    let page = ProgrammeFormPage {
        chrome: ctx.chrome(state, "programmes"),
        editing,
        f,
        errors,
        asset_types: AssetType::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        severities: Severity::ALL[..4]
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

fn require_admin(who: &crate::Principal) -> Result<(), AppError> {
    if who.role == Role::Admin && who.can(rampart_core::Action::WritePrograms) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
) -> Result<Response, AppError> {
    require_admin(&who)?;
    let f = ProgrammeFormValues {
        visibility: "private".into(),
        currency: "USD".into(),
        safe_harbour: rampart_core::DEFAULT_SAFE_HARBOUR.into(),
        scope: "wildcard_domain *.example.com critical | Production\n- domain blog.example.com | Hosted by a third party".into(),
        ..Default::default()
    };
    form_page(&state, &ctx, None, f, Vec::new())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    axum::Form(f): axum::Form<ProgrammeFormValues>,
) -> Result<Response, AppError> {
    require_admin(&who)?;
    let input = match f.to_input() {
        Ok(i) => i,
        Err(e) => return form_page(&state, &ctx, None, f, vec![e]),
    };
    match state.programmes.create_programme(&input, state.now()).await {
        Ok(p) => {
            audit(
                &state,
                &who,
                "programme.create",
                ("programme", p.slug.clone()),
                p.visibility.as_str().into(),
                ctx.ip,
            )
            .await?;
            Ok(Redirect::to(&format!("/programs/{}", p.slug)).into_response())
        }
        Err(rampart_programme::ServiceError::Invalid(e)) => {
            form_page(&state, &ctx, None, f, vec![(e.field, e.message)])
        }
        Err(rampart_programme::ServiceError::Store(rampart_store::StoreError::Conflict(m))) => {
            form_page(
                &state,
                &ctx,
                None,
                f,
                vec![("slug".into(), format!("{m}."))],
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&who)?;
    let p = state.store.programme_by_slug(&slug).await?;
    form_page(
        &state,
        &ctx,
        Some(p.slug.clone()),
        ProgrammeFormValues::from_programme(&p),
        Vec::new(),
    )
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
    axum::Form(f): axum::Form<ProgrammeFormValues>,
) -> Result<Response, AppError> {
    require_admin(&who)?;
    let p = state.store.programme_by_slug(&slug).await?;
    let input = match f.to_input() {
        Ok(i) => i,
        Err(e) => return form_page(&state, &ctx, Some(slug), f, vec![e]),
    };
    match state
        .programmes
        .update_programme(p.id, &input, state.now())
        .await
    {
        Ok(updated) => {
            audit(
                &state,
                &who,
                "programme.update",
                ("programme", updated.slug.clone()),
                String::new(),
                ctx.ip,
            )
            .await?;
            Ok(Redirect::to(&format!("/programs/{}", updated.slug)).into_response())
        }
        Err(rampart_programme::ServiceError::Invalid(e)) => {
            form_page(&state, &ctx, Some(slug), f, vec![(e.field, e.message)])
        }
        Err(rampart_programme::ServiceError::Store(rampart_store::StoreError::Conflict(m))) => {
            form_page(
                &state,
                &ctx,
                Some(slug),
                f,
                vec![("slug".into(), format!("{m}."))],
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn launch(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&who)?;
    let p = state.store.programme_by_slug(&slug).await?;
    state.store.launch_programme(p.id, state.now()).await?;
    audit(
        &state,
        &who,
        "programme.launch",
        ("programme", p.slug.clone()),
        "public".into(),
        ctx.ip,
    )
    .await?;
    let p = state.store.programme_by_id(p.id).await?;
    render_programme(
        &state,
        &ctx,
        p,
        Some("The programme is public now. Its reports and history are unchanged.".into()),
        None,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    pub email: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<InviteForm>,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::InviteResearchers) {
        return Err(AppError::NotFound);
    }
    let p = state.store.programme_by_slug(&slug).await?;
    match state
        .programmes
        .invite(&p, &form.email, who.user_id, state.now())
        .await
    {
        Ok((inv, token)) => {
            audit(
                &state,
                &who,
                "programme.invite",
                ("programme", p.slug.clone()),
                inv.email.clone(),
                ctx.ip,
            )
            .await?;
            let link = format!(
                "{}/invitations/{token}",
                state.config.public_url.trim_end_matches('/')
            );
            render_programme(
                &state,
                &ctx,
                p,
                Some(format!(
                    "Invitation for {} created; it is valid for 14 days.",
                    inv.email
                )),
                Some(link),
                None,
            )
            .await
        }
        Err(rampart_programme::ServiceError::Invalid(_)) => {
            render_programme(
                &state,
                &ctx,
                p,
                None,
                None,
                Some("Enter the researcher's email address, such as name@example.com.".into()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------- disclosed reports

pub struct DisclosedView {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub severity_label: String,
    pub cvss_vector: String,
    pub cwe: String,
    pub asset: String,
    pub credit: String,
    pub submitted: String,
    pub resolved: String,
    pub disclosed: String,
    pub summary_html: String,
}

fn disclosed_view(d: rampart_store::Disclosed) -> DisclosedView {
    let sev = d
        .severity
        .as_deref()
        .and_then(|s| s.parse::<Severity>().ok());
    DisclosedView {
        id: d.report_id,
        title: d.title,
        severity: sev.map_or("none".into(), |s| s.as_str().into()),
        severity_label: sev.map_or("Unrated".into(), |s| s.label().into()),
        cvss_vector: d.cvss_vector.unwrap_or_default(),
        cwe: d
            .cwe
            .and_then(|c| u32::try_from(c).ok())
            .map(|c| match rampart_cwe::catalog().get(c) {
                Some(w) => format!("CWE-{c}: {}", w.name),
                None => format!("CWE-{c}"),
            })
            .unwrap_or_default(),
        asset: d.asset.unwrap_or_default(),
        credit: d.credit.unwrap_or_default(),
        submitted: fmt_time(d.created_at),
        resolved: d.resolved_at.map(fmt_time).unwrap_or_default(),
        disclosed: fmt_time(d.disclosed_at),
        summary_html: markdown::render(&d.summary),
    }
}

#[derive(Template)]
#[template(path = "disclosed.html")]
pub struct DisclosedPage {
    pub chrome: Chrome,
    pub slug: String,
    pub programme: String,
    pub items: Vec<DisclosedView>,
    pub one: bool,
}

pub async fn disclosed_list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let p = visible_programme(&state, ctx.principal.as_ref(), &slug).await?;
    let items = state
        .store
        .disclosed_reports(p.id)
        .await?
        .into_iter()
        .map(disclosed_view)
        .collect();
    let page = DisclosedPage {
        chrome: ctx.chrome(&state, "programmes"),
        slug: p.slug,
        programme: p.name,
        items,
        one: false,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn disclosed_one(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let p = visible_programme(&state, ctx.principal.as_ref(), &slug).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let items: Vec<DisclosedView> = state
        .store
        .disclosed_reports(p.id)
        .await?
        .into_iter()
        .filter(|d| d.report_id == id)
        .map(disclosed_view)
        .collect();
    if items.is_empty() {
        return Err(AppError::NotFound);
    }
    let page = DisclosedPage {
        chrome: ctx.chrome(&state, "programmes"),
        slug: p.slug,
        programme: p.name,
        items,
        one: true,
    };
    Ok(Html(page.render()?).into_response())
}

// ------------------------------------------------------- reply templates

#[derive(Template)]
#[template(path = "templates.html")]
pub struct TemplatesPage {
    pub chrome: Chrome,
    pub items: Vec<rampart_store::ReplyTemplate>,
    pub flash: Option<String>,
}

fn require_team(who: &crate::Principal) -> Result<(), AppError> {
    if matches!(who.role, Role::Admin | Role::Triager)
        && who.can(rampart_core::Action::WriteReports)
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn templates(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
) -> Result<Response, AppError> {
    require_team(&who)?;
    let items = state.programmes.reply_templates(state.now()).await?;
    let page = TemplatesPage {
        chrome: ctx.chrome(&state, "reports"),
        items,
        flash: None,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub delete: Option<String>,
    #[serde(default)]
    pub id: Option<i64>,
}

pub async fn save_template(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    axum::Form(f): axum::Form<TemplateForm>,
) -> Result<Response, AppError> {
    require_team(&who)?;
    let flash = if let (Some(_), Some(id)) = (&f.delete, f.id) {
        state.store.delete_reply_template(id).await?;
        "Template deleted."
    } else {
        let name = f.name.trim();
        if name.is_empty() || name.len() > 80 || f.body.trim().is_empty() || f.body.contains('\0') {
            let items = state.programmes.reply_templates(state.now()).await?;
            let page = TemplatesPage {
                chrome: ctx.chrome(&state, "reports"),
                items,
                flash: Some("A template needs a name (up to 80 characters) and a text.".into()),
            };
            return Ok(Html(page.render()?).into_response());
        }
        state
            .store
            .save_reply_template(name, f.body.trim(), state.now())
            .await?;
        "Template saved."
    };
    audit(
        &state,
        &who,
        "template.save",
        ("template", f.name.clone()),
        String::new(),
        ctx.ip,
    )
    .await?;
    let items = state.programmes.reply_templates(state.now()).await?;
    let page = TemplatesPage {
        chrome: ctx.chrome(&state, "reports"),
        items,
        flash: Some(flash.into()),
    };
    Ok(Html(page.render()?).into_response())
}

// ---------------------------------------------------------- finance export

/// One CSV cell: quoted, and defused if a spreadsheet would read it as a
/// formula (a researcher chooses their handle and the report's title).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Every award of a programme as CSV, for finance.
pub async fn bounties_csv(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_team(&who)?;
    let p = state.store.programme_by_slug(&slug).await?;
    let mut out = String::from(
        "award_id,report_id,report_title,researcher,kind,amount,bonus,total,currency,status,awarded_at,paid_at,reference\r\n",
    );
    for b in state.store.programme_bounties(p.id).await? {
        let r = state.store.report(b.report_id).await?;
        let handle = state
            .store
            .researcher_profile(r.researcher_id)
            .await?
            .handle
            .unwrap_or_default();
        let row = [
            b.id.to_string(),
            b.report_id.to_string(),
            csv_cell(&r.title),
            csv_cell(&handle),
            b.kind.clone(),
            b.amount.to_string(),
            b.bonus.to_string(),
            (b.amount + b.bonus).to_string(),
            p.currency.clone(),
            b.status.clone(),
            crate::views::iso_time(b.created_at),
            b.paid_at.map(crate::views::iso_time).unwrap_or_default(),
            csv_cell(&b.reference),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    let name = format!("attachment; filename=\"{}-bounties.csv\"", p.slug);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        out,
    )
        .into_response())
}

// ------------------------------------------------------------- advisories

async fn advisory_for(
    state: &AppState,
    ctx: &PageCtx,
    slug: &str,
    id: &str,
) -> Result<rampart_advisory::Advisory, AppError> {
    let p = visible_programme(state, ctx.principal.as_ref(), slug).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let d = state
        .store
        .disclosed_reports(p.id)
        .await?
        .into_iter()
        .find(|d| d.report_id == id)
        .ok_or(AppError::NotFound)?;
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    let page = format!("{base}/programs/{}/disclosed/{id}", p.slug);
    let mut affected = Vec::new();
    if let Some(a) = &d.asset {
        let mut item = rampart_advisory::Affected::product(a.clone());
        // A hosted asset is fixed in place once the report is resolved.
        item.resolved = d.resolved_at.is_some();
        affected.push(item);
    }
    Ok(rampart_advisory::Advisory {
        id: format!("RAMPART-{}-{id}", p.slug),
        programme: rampart_advisory::Programme {
            name: p.name.clone(),
            slug: p.slug.clone(),
            publisher: state.config.site_name.clone(),
            namespace: base.clone(),
        },
        title: d.title.clone(),
        summary: d.title.clone(),
        details: d.summary.clone(),
        published: d.disclosed_at,
        modified: d.disclosed_at,
        cwe: d.cwe.and_then(|c| u32::try_from(c).ok()),
        cvss_vector: d.cvss_vector.clone(),
        affected,
        references: vec![rampart_advisory::Reference::new(
            rampart_advisory::ReferenceKind::Advisory,
            page,
        )],
        credits: d
            .credit
            .iter()
            .map(|h| rampart_advisory::Credit {
                name: h.clone(),
                kind: rampart_advisory::CreditKind::Finder,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

fn json_download(value: serde_json::Value, filename: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        serde_json::to_string_pretty(&value).unwrap_or_default(),
    )
        .into_response()
}

/// The disclosed report as an OSV advisory. Rampart is not a registered OSV
/// database, so ids carry the `x_` prefix OSV reserves for such databases.
pub async fn osv(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let mut a = advisory_for(&state, &ctx, &slug, &id).await?;
    a.id = format!("x_{}", a.id);
    let name = format!("{}.json", a.id);
    Ok(json_download(rampart_advisory::to_osv(&a), name))
}

/// The disclosed report as a CSAF 2.0 security advisory.
pub async fn csaf(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let a = advisory_for(&state, &ctx, &slug, &id).await?;
    let name = rampart_advisory::csaf_filename(&a.id);
    Ok(json_download(rampart_advisory::to_csaf(&a), name))
}

// ------------------------------------------------------------ known issues

#[derive(Deserialize)]
pub struct KnownIssueForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub public: Option<String>,
}

pub async fn add_known_issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
    axum::Form(f): axum::Form<KnownIssueForm>,
) -> Result<Response, AppError> {
    require_team(&who)?;
    let p = state.store.programme_by_slug(&slug).await?;
    match state
        .programmes
        .add_known_issue(
            &rampart_store::NewKnownIssue {
                programme_id: p.id,
                title: f.title.trim().to_owned(),
                description: f.description.trim().to_owned(),
                public: f.public.is_some(),
                ..Default::default()
            },
            state.now(),
        )
        .await
    {
        Ok(k) => {
            audit(
                &state,
                &who,
                "programme.known_issue",
                ("programme", p.slug.clone()),
                k.title.clone(),
                ctx.ip,
            )
            .await?;
            render_programme(
                &state,
                &ctx,
                p,
                Some("Known issue added.".into()),
                None,
                None,
            )
            .await
        }
        Err(rampart_programme::ServiceError::Invalid(e)) => {
            render_programme(
                &state,
                &ctx,
                p,
                None,
                None,
                Some(format!("Known issue: the {} {}.", e.field, e.message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_known_issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    require_team(&who)?;
    let p = state.store.programme_by_slug(&slug).await?;
    let kid: i64 = kid.parse().map_err(|_| AppError::NotFound)?;
    let k = state.store.known_issue(kid).await?;
    if k.programme_id != p.id {
        return Err(AppError::NotFound);
    }
    state.programmes.remove_known_issue(kid).await?;
    audit(
        &state,
        &who,
        "programme.known_issue_removed",
        ("programme", p.slug.clone()),
        k.title,
        ctx.ip,
    )
    .await?;
    render_programme(
        &state,
        &ctx,
        p,
        Some("Known issue removed.".into()),
        None,
        None,
    )
    .await
}
