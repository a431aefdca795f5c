//! The programme and report API under `/api/v1`: programmes, invitations,
//! reports, their threads, state changes, bounties and notifications. Every
//! handler asks the coarse question (role and scope) and then the object
//! question (may this caller see this programme, this report?); objects the
//! caller may not see answer 404, exactly like objects that do not exist.

use crate::AppState;
use crate::api::{Ip, forbidden_scope, known_query, parse_id, parse_json};
use crate::error::{ApiError, AppError, ErrorBody};
use crate::forms::ApiCaller;
use crate::principal::Principal;
use crate::views::iso_time;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use rampart_core::{
    Action, AssetType, BountyTable, ReportState, ResponseTargets, Role, Severity, Turn, Visibility,
};
use rampart_programme::input::{ProgrammeInput, ReportInput};
use rampart_programme::{Actor, ServiceError};
use rampart_store::{Programme, Report, ReportEvent, ReportFilter};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/programs", get(list_programs).post(create_program))
        .route("/programs/{slug}", get(get_program))
        .route("/programs/{slug}/launch", post(launch_program))
        .route("/programs/{slug}/invitations", post(invite))
        .route("/programs/{slug}/reports", post(submit_report))
        .route("/invitations/{token}/accept", post(accept_invitation))
        .route("/invitations/{token}/decline", post(decline_invitation))
        .route("/reports", get(list_reports))
        .route("/reports/{id}", get(get_report))
        .route("/reports/{id}/comments", post(add_comment))
        .route("/reports/{id}/state", post(change_state))
        .route("/reports/{id}/bounty", post(award_bounty))
        .route("/reports/{id}/severity", post(set_severity))
        .route("/reports/{id}/disclosure", post(disclosure))
        .route("/reports/{id}/duplicates", get(duplicates))
        .route("/notifications", get(list_notifications))
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(f) => AppError::BadRequest {
                field: Some(f.field),
                message: f.message,
            },
            ServiceError::Refused(m) => AppError::Conflict(m),
            e @ ServiceError::OverBudget { .. } => AppError::Conflict(e.to_string()),
            ServiceError::Store(s) => s.into(),
        }
    }
}

/// The caller as the store's visibility checks see them. A service token
/// (no account) acts with the admin role, narrowed by its scopes.
pub(crate) fn viewer(who: &Principal) -> (i64, Role) {
    (who.user_id.unwrap_or(0), who.role)
}

/// The programme `slug` if `who` may see it; 404 otherwise.
pub(crate) async fn visible_programme(
    state: &AppState,
    who: Option<&Principal>,
    slug: &str,
) -> Result<Programme, AppError> {
    let p = state.store.programme_by_slug(slug).await?;
    if state.store.can_see_programme(&p, who.map(viewer)).await? {
        Ok(p)
    } else {
        Err(AppError::NotFound)
    }
}

/// Report `id` if `who` may see it; 404 otherwise (never a hint).
pub(crate) async fn visible_report(
    state: &AppState,
    who: &Principal,
    id: i64,
) -> Result<Report, AppError> {
    let r = state.store.report(id).await?;
    let (user_id, role) = viewer(who);
    let ok = match who.user_id {
        None => true,
        Some(_) => state.store.can_see_report(&r, user_id, role).await?,
    };
    if ok { Ok(r) } else { Err(AppError::NotFound) }
}

fn actor(who: &Principal) -> Result<Actor, AppError> {
    match who.user_id {
        Some(user_id) => Ok(Actor {
            user_id,
            role: who.role,
        }),
        None => Err(AppError::Forbidden(
            "this needs a person: use a token created with --user EMAIL, or sign in".into(),
        )),
    }
}

/// Admins and triagers: the security team proper. Engineers are staff but
/// see only their assignments, never budgets or other reports.
pub(crate) fn is_team(who: &Principal) -> bool {
    matches!(who.role, Role::Admin | Role::Triager)
}

fn require(who: &Principal, action: Action) -> Result<(), ApiError> {
    if who.can(action) {
        Ok(())
    } else {
        Err(forbidden_scope(who, action))
    }
}

// ---------------------------------------------------------------- programmes

/// One scope entry.
#[derive(Serialize, ToSchema)]
pub struct ScopeOut {
    #[serde(rename = "type")]
    pub asset_type: AssetType,
    pub identifier: String,
    pub in_scope: bool,
    pub max_severity: Option<Severity>,
    pub note: String,
}

/// A programme as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ProgramOut {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub visibility: Visibility,
    /// Markdown.
    pub policy: String,
    /// Rules of engagement, Markdown.
    pub rules: String,
    pub safe_harbour: String,
    pub scope: Vec<ScopeOut>,
    pub bounties: BountyTable,
    pub currency: String,
    pub targets: ResponseTargets,
    pub submissions_paused: bool,
    /// Budget and spending: the team only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launched_at: Option<String>,
}

async fn program_out(state: &AppState, p: Programme, staff: bool) -> Result<ProgramOut, AppError> {
    let spent = if staff {
        Some(state.store.programme_bounty_total(p.id).await?)
    } else {
        None
    };
    Ok(ProgramOut {
        scope: p
            .scope
            .into_iter()
            .map(|s| ScopeOut {
                asset_type: s.asset_type,
                identifier: s.identifier,
                in_scope: s.in_scope,
                max_severity: s.max_severity,
                note: s.note,
            })
            .collect(),
        slug: p.slug,
        name: p.name,
        summary: p.summary,
        visibility: p.visibility,
        policy: p.policy,
        rules: p.rules,
        safe_harbour: p.safe_harbour,
        bounties: p.bounties,
        currency: p.currency,
        targets: p.targets,
        submissions_paused: p.submissions_paused,
        budget: if staff { p.budget } else { None },
        spent,
        email: p.email,
        launched_at: p.launched_at.map(iso_time),
    })
}

/// A programme to create (the issue's contract; `summary`, `rules`,
/// `safe_harbour`, `targets`, `currency` are optional extras).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ProgramIn {
    #[schema(max_length = 120, pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$")]
    name: String,
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    slug: String,
    visibility: Visibility,
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    policy: Option<String>,
    #[schema(max_items = 500)]
    scope: Option<Vec<ScopeIn>>,
    bounties: Option<BountyTable>,
    #[schema(minimum = 0, maximum = 1000000000)]
    budget: Option<i64>,
    /// The programme's security@ address (for mail intake), or empty.
    #[schema(
        max_length = 254,
        pattern = r"^$|^[^@\s\u0085]+@[^@\s\u0085.][^@\s\u0085]*\.[^@\s\u0085]*[^@\s\u0085.]$"
    )]
    email: Option<String>,
    #[schema(max_length = 1000, pattern = r"^[^\u0000]*$")]
    summary: Option<String>,
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    rules: Option<String>,
    /// Empty for Rampart's default statement.
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    safe_harbour: Option<String>,
    targets: Option<ResponseTargets>,
    #[schema(pattern = r"^[A-Z]{3}$")]
    currency: Option<String>,
    pause_on_breach: Option<bool>,
    #[schema(minimum = 1, maximum = 365)]
    needs_info_close_days: Option<i64>,
}

/// One asset in scope or out of it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ScopeIn {
    #[serde(rename = "type")]
    asset_type: AssetType,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$")]
    identifier: String,
    in_scope: bool,
    /// In-scope assets only; ignored for excluded ones.
    max_severity: Option<Severity>,
    #[schema(max_length = 1000, pattern = r"^[^\u0000]*$")]
    note: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/programs", tag = "programmes",
    responses(
        (status = 200, description = "Programmes the caller may see", body = Vec<ProgramOut>),
        (status = 400, description = "An unknown query parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_programs(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
) -> Result<Json<Vec<ProgramOut>>, ApiError> {
    known_query(&uri, &[])?;
    let team = is_team(&who);
    let list = state
        .store
        .programmes_visible_to(Some(viewer(&who)))
        .await?;
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        out.push(program_out(&state, p, team).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/programs", tag = "programmes",
    request_body = ProgramIn,
    responses(
        (status = 201, description = "Created", body = ProgramOut),
        (status = 400, description = "An invalid field, named in `field`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Admins only (scope programs:write)", body = ErrorBody),
        (status = 409, description = "The slug or address is taken", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create_program(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ProgramOut>), ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WritePrograms)?;
    let input: ProgrammeInput = parse_json(body, state.config.max_body_bytes)?;
    if input.email.as_deref().is_some_and(|e| e != e.trim()) {
        return Err(ApiError(AppError::bad_request(
            Some("email"),
            "remove the spaces around the address",
        )));
    }
    let p = state
        .programmes
        .create_programme(&input, state.now())
        .await
        .map_err(AppError::from)?;
    audit(
        &state,
        &who,
        "programme.create",
        &p.slug,
        p.visibility.as_str(),
        ip,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(program_out(&state, p, true).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/programs/{slug}", tag = "programmes",
    params(("slug" = String, Path, description = "Programme slug", pattern = r"^[a-z0-9-]{1,64}$")),
    responses(
        (status = 200, description = "The programme", body = ProgramOut),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such programme, or not visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_program(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(slug): Path<String>,
) -> Result<Json<ProgramOut>, ApiError> {
    known_query(&uri, &[])?;
    let p = visible_programme(&state, Some(&who), &slug).await?;
    Ok(Json(program_out(&state, p, is_team(&who)).await?))
}

#[utoipa::path(post, path = "/api/v1/programs/{slug}/launch", tag = "programmes",
    params(("slug" = String, Path, description = "Programme slug", pattern = r"^[a-z0-9-]{1,64}$")),
    responses(
        (status = 200, description = "Now public; reports and history kept", body = ProgramOut),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Admins only (scope programs:write)", body = ErrorBody),
        (status = 404, description = "No such programme", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn launch_program(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    Path(slug): Path<String>,
) -> Result<Json<ProgramOut>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WritePrograms)?;
    let p = visible_programme(&state, Some(&who), &slug).await?;
    state.store.launch_programme(p.id, state.now()).await?;
    audit(&state, &who, "programme.launch", &p.slug, "public", ip).await?;
    let p = state.store.programme_by_id(p.id).await?;
    Ok(Json(program_out(&state, p, true).await?))
}

/// An invitation to send.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationIn {
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0085]+@[^@\s\u0085.][^@\s\u0085]*\.[^@\s\u0085]*[^@\s\u0085.]$"
    )]
    pub email: String,
}

/// An invitation, with the link to pass on (shown once).
#[derive(Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: i64,
    pub email: String,
    pub expires_at: String,
    /// Where the researcher accepts or declines; send it to them.
    pub accept_url: String,
}

#[utoipa::path(post, path = "/api/v1/programs/{slug}/invitations", tag = "programmes",
    params(("slug" = String, Path, description = "Programme slug", pattern = r"^[a-z0-9-]{1,64}$")),
    request_body = InvitationIn,
    responses(
        (status = 201, description = "Invited", body = InvitationOut),
        (status = 400, description = "Not an email address", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Admins and triagers only", body = ErrorBody),
        (status = 404, description = "No such programme", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn invite(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    Path(slug): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<InvitationOut>), ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::InviteResearchers)?;
    let p = visible_programme(&state, Some(&who), &slug).await?;
    let input: InvitationIn = parse_json(body, state.config.max_body_bytes)?;
    // The API is exact where forms forgive: no padding around the address.
    if input.email != input.email.trim() {
        return Err(ApiError(AppError::bad_request(
            Some("email"),
            "remove the spaces around the address",
        )));
    }
    let (inv, token) = state
        .programmes
        .invite(&p, &input.email, who.user_id, state.now())
        .await
        .map_err(AppError::from)?;
    audit(&state, &who, "programme.invite", &p.slug, &inv.email, ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationOut {
            id: inv.id,
            email: inv.email,
            expires_at: iso_time(inv.expires_at),
            accept_url: format!(
                "{}/invitations/{token}",
                state.config.public_url.trim_end_matches('/')
            ),
        }),
    ))
}

/// What answering an invitation did.
#[derive(Serialize, ToSchema)]
pub struct InvitationAnswer {
    /// `accepted` or `declined`.
    pub answer: String,
    /// The programme's slug.
    pub program: String,
}

async fn answer(
    state: &AppState,
    who: &Principal,
    token: &str,
    accept: bool,
) -> Result<InvitationAnswer, AppError> {
    let actor = actor(who)?;
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let email = who.email.clone().unwrap_or_default();
    let digest = rampart_programme::digest(token);
    let result = state
        .store
        .answer_invitation(&digest, actor.user_id, &email, accept, state.now())
        .await?;
    use rampart_store::InvitationProblem as P;
    match result {
        Ok(inv) => {
            let p = state.store.programme_by_id(inv.programme_id).await?;
            Ok(InvitationAnswer {
                answer: inv.answer.unwrap_or_default(),
                program: p.slug,
            })
        }
        // An invitation for someone else is as invisible as a wrong link.
        Err(P::Unknown | P::OtherAddress) => Err(AppError::NotFound),
        Err(P::Expired) => Err(AppError::Conflict(
            "this invitation has expired; ask the programme for a new one".into(),
        )),
        Err(P::AlreadyAnswered) => Err(AppError::Conflict(
            "this invitation was already answered".into(),
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "programmes",
    params(("token" = String, Path, description = "The token from the invitation link", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "Accepted: the programme is open to you", body = InvitationAnswer),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a researcher's token (or a service token)", body = ErrorBody),
        (status = 404, description = "No such invitation for this account", body = ErrorBody),
        (status = 409, description = "Expired or already answered", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(token): Path<String>,
) -> Result<Json<InvitationAnswer>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    Ok(Json(answer(&state, &who, &token, true).await?))
}

#[utoipa::path(post, path = "/api/v1/invitations/{token}/decline", tag = "programmes",
    params(("token" = String, Path, description = "The token from the invitation link", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "Declined", body = InvitationAnswer),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a researcher's token (or a service token)", body = ErrorBody),
        (status = 404, description = "No such invitation for this account", body = ErrorBody),
        (status = 409, description = "Expired or already answered", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn decline_invitation(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(token): Path<String>,
) -> Result<Json<InvitationAnswer>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    Ok(Json(answer(&state, &who, &token, false).await?))
}

// ------------------------------------------------------------------- reports

/// One entry of a report's thread.
#[derive(Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    /// `ack`, `comment`, `note` (internal), `state`, `severity`, `bounty`,
    /// `assign`, `duplicate`, `tracker`.
    pub kind: String,
    /// The researcher's handle, or the team member (shown to researchers
    /// as "Security team").
    pub author: Option<String>,
    pub from_team: bool,
    pub body: String,
    pub internal: bool,
    pub from_state: Option<ReportState>,
    pub to_state: Option<ReportState>,
    pub detail: String,
    pub created_at: String,
}

/// A report with the thread the caller may see.
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    pub id: i64,
    pub program: String,
    pub title: String,
    pub description: String,
    pub steps: String,
    pub impact: String,
    pub asset: Option<String>,
    /// The asset is not in the programme's scope.
    pub out_of_scope: bool,
    pub cwe: Option<i64>,
    pub cvss_vector: Option<String>,
    /// The researcher's severity (from their vector).
    pub severity: Option<Severity>,
    pub final_severity: Option<Severity>,
    pub final_cvss_vector: Option<String>,
    pub state: ReportState,
    /// Whose move it is.
    pub turn: Turn,
    pub duplicate_of: Option<i64>,
    pub received_via: String,
    pub created_at: String,
    pub updated_at: String,
    /// The team only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracker_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<i64>,
    /// Absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<Vec<EventOut>>,
    /// Awards on this report.
    pub bounties: Vec<BountyOut>,
}

/// An award.
#[derive(Serialize, ToSchema)]
pub struct BountyOut {
    pub id: i64,
    /// `bounty` or `retest`.
    pub kind: String,
    pub amount: i64,
    pub bonus: i64,
    /// `pending` or `paid`.
    pub status: String,
    pub created_at: String,
}

/// Who is reading a thread, for how authors are named.
#[derive(Clone, Copy)]
pub(crate) struct Reader {
    pub staff: bool,
    pub user_id: Option<i64>,
}

pub(crate) fn event_out(e: ReportEvent, reader: Reader) -> EventOut {
    let from_team = e.author_role.is_some_and(Role::is_staff) || e.author_id.is_none();
    let author = match e.author_role {
        Some(r) if r.is_staff() && !reader.staff => Some("Security team".to_owned()),
        None => Some("Rampart".to_owned()),
        // A follower reads the original's thread without learning who its
        // researcher is (they may not have opted in to being named).
        Some(Role::Researcher) if !reader.staff && e.author_id != reader.user_id => {
            Some("Researcher".to_owned())
        }
        _ => e.author_name,
    };
    EventOut {
        id: e.id,
        kind: e.kind,
        author,
        from_team,
        body: e.body,
        internal: e.internal,
        from_state: e.from_state,
        to_state: e.to_state,
        detail: e.detail,
        created_at: iso_time(e.created_at),
    }
}

async fn report_out(
    state: &AppState,
    r: Report,
    who: &Principal,
    with_thread: bool,
) -> Result<ReportOut, AppError> {
    let staff = who.role.is_staff();
    let program = state.store.programme_by_id(r.programme_id).await?.slug;
    let thread = if with_thread {
        let events = state.store.report_events(r.id, staff).await?;
        let reader = Reader {
            staff,
            user_id: who.user_id,
        };
        Some(events.into_iter().map(|e| event_out(e, reader)).collect())
    } else {
        None
    };
    // Awards are the team's and the report's own researcher's business.
    let sees_awards = staff || who.user_id == Some(r.researcher_id);
    let bounties = state
        .store
        .report_bounties(r.id)
        .await?
        .into_iter()
        .filter(|_| sees_awards)
        .map(|b| BountyOut {
            id: b.id,
            kind: b.kind,
            amount: b.amount,
            bonus: b.bonus,
            status: b.status,
            created_at: iso_time(b.created_at),
        })
        .collect();
    Ok(ReportOut {
        id: r.id,
        program,
        title: r.title,
        description: r.description,
        steps: r.steps,
        impact: r.impact,
        asset: r.asset,
        out_of_scope: r.out_of_scope,
        cwe: r.cwe,
        cvss_vector: r.cvss_vector,
        severity: r.researcher_severity,
        final_severity: r.final_severity,
        final_cvss_vector: r.final_cvss_vector,
        state: r.state,
        turn: r.state.turn(),
        duplicate_of: r.duplicate_of,
        received_via: r.received_via,
        created_at: iso_time(r.created_at),
        updated_at: iso_time(r.updated_at),
        assignee_id: if staff { r.assignee_id } else { None },
        tracker_url: if staff { r.tracker_url } else { None },
        finding_id: if staff { r.finding_id } else { None },
        thread,
        bounties,
    })
}

/// A report to submit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReportIn {
    #[schema(max_length = 200, pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$")]
    title: String,
    /// Markdown.
    #[schema(
        max_length = 100000,
        pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$"
    )]
    description: String,
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    steps: Option<String>,
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    impact: Option<String>,
    /// An identifier from the programme's scope, or anything else (flagged
    /// as out of scope).
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    asset: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    cwe: Option<u32>,
    /// A CVSS 3.1 or 4.0 vector; its base score gives the severity. The
    /// pattern shows base vectors in the specification's order; the server
    /// also takes any order and the optional metric groups.
    #[schema(
        max_length = 300,
        pattern = r"^\s*(CVSS:3\.[01]/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH]|CVSS:4\.0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN])?\s*$"
    )]
    cvss_vector: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/programs/{slug}/reports", tag = "reports",
    params(("slug" = String, Path, description = "Programme slug", pattern = r"^[a-z0-9-]{1,64}$")),
    request_body = ReportIn,
    responses(
        (status = 201, description = "Stored and acknowledged in its thread", body = ReportOut),
        (status = 400, description = "An invalid field, named in `field`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks reports:write", body = ErrorBody),
        (status = 404, description = "No such programme, or not open to the caller", body = ErrorBody),
        (status = 409, description = "The programme has paused submissions", body = ErrorBody),
        (status = 429, description = "Too many submissions; wait a moment", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn submit_report(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    Path(slug): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ReportOut>), ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    let actor = actor(&who)?;
    state.limits.check_submission(actor.user_id)?;
    let p = visible_programme(&state, Some(&who), &slug).await?;
    let input: ReportInput = parse_json(body, state.config.max_body_bytes)?;
    let checked = input
        .validate()
        .map_err(ServiceError::from)
        .map_err(AppError::from)?;
    let r = state
        .programmes
        .submit_report(&p, actor.user_id, &checked, "api", state.now())
        .await
        .map_err(AppError::from)?;
    audit(
        &state,
        &who,
        "report.submit",
        &r.id.to_string(),
        &p.slug,
        ip,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(report_out(&state, r, &who, true).await?),
    ))
}

/// Filters of the report list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// Only this programme (slug).
    #[param(pattern = r"^[a-z0-9-]{1,64}$")]
    pub program: Option<String>,
    /// Only this state.
    #[param(value_type = Option<ReportState>)]
    pub state: Option<String>,
    /// Only open reports (`true`).
    pub open: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/reports", tag = "reports",
    params(ReportsQuery),
    responses(
        (status = 200, description = "Reports the caller may see, newest first (researchers: their own and those they follow)", body = Vec<ReportOut>),
        (status = 400, description = "A filter value is invalid", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks reports:read", body = ErrorBody),
        (status = 404, description = "The programme filter names a programme the caller cannot see", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_reports(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
) -> Result<Json<Vec<ReportOut>>, ApiError> {
    known_query(&uri, &["program", "state", "open"])?;
    require(&who, Action::ReadReports)?;
    let Query(q) = Query::<ReportsQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError(AppError::bad_request(None, e.body_text())))?;
    let mut filter = ReportFilter {
        open_only: q.open.unwrap_or(false),
        ..Default::default()
    };
    if let Some(s) = q.state.as_deref() {
        filter.state = Some(s.parse().map_err(|e: rampart_core::UnknownReportState| {
            AppError::bad_request(Some("state"), e.to_string())
        })?);
    }
    if let Some(slug) = q.program.as_deref() {
        filter.programme_id = Some(visible_programme(&state, Some(&who), slug).await?.id);
    }
    match (who.role, who.user_id) {
        (Role::Researcher, Some(u)) => filter.visible_to_researcher = Some(u),
        (Role::Engineer, Some(u)) => filter.assignee_id = Some(u),
        _ => {}
    }
    let reports = state.store.list_reports(&filter).await?;
    let mut out = Vec::with_capacity(reports.len());
    for r in reports {
        out.push(report_out(&state, r, &who, false).await?);
    }
    Ok(Json(out))
}

const ID_PARAM: &str = "Report id";

#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    responses(
        (status = 200, description = "The report with the thread the caller may see (no internal notes for researchers)", body = ReportOut),
        (status = 400, description = "The id is not a positive integer", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks reports:read", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_report(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Json<ReportOut>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::ReadReports)?;
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    Ok(Json(report_out(&state, r, &who, true).await?))
}

/// A comment to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// Markdown.
    #[schema(
        max_length = 100000,
        pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$"
    )]
    pub body: String,
    /// A team note the researcher never sees (team only).
    #[serde(default)]
    pub internal: bool,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/comments", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    request_body = CommentIn,
    responses(
        (status = 201, description = "Added to the thread", body = EventOut),
        (status = 400, description = "An invalid field", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks reports:write", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Not allowed for this caller (internal note by a researcher, a follower writing)", body = ErrorBody),
        (status = 429, description = "Too many comments; wait a moment", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn add_comment(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<EventOut>), ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    let input: CommentIn = parse_json(body, state.config.max_body_bytes)?;
    let actor = actor(&who)?;
    state.limits.check_comment(actor.user_id)?;
    let e = state
        .programmes
        .comment(&r, actor, &input.body, input.internal, state.now())
        .await
        .map_err(AppError::from)?;
    let reader = Reader {
        staff: who.role.is_staff(),
        user_id: who.user_id,
    };
    Ok((StatusCode::CREATED, Json(event_out(e, reader))))
}

/// A state change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateIn {
    pub state: ReportState,
    /// Why, shown to the researcher.
    #[serde(default)]
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    pub reason: Option<String>,
    /// For `duplicate`: the original report's id.
    #[serde(default, deserialize_with = "rampart_core::whole::option_i64")]
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub duplicate_of: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/state", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    request_body = StateIn,
    responses(
        (status = 200, description = "Moved; the thread records who, when and why", body = ReportOut),
        (status = 400, description = "An invalid field (e.g. duplicate_of missing)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks reports:write", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "The workflow does not allow this move; the message says why", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn change_state(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReportOut>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    let input: StateIn = parse_json(body, state.config.max_body_bytes)?;
    let actor = actor(&who)?;
    let from = r.state;
    let updated = state
        .programmes
        .change_state(
            &r,
            actor,
            input.state,
            input.reason.as_deref().unwrap_or(""),
            input.duplicate_of,
            state.now(),
        )
        .await
        .map_err(AppError::from)?;
    audit(
        &state,
        &who,
        "report.state",
        &r.id.to_string(),
        &format!("{} → {}", from.as_str(), input.state.as_str()),
        ip,
    )
    .await?;
    Ok(Json(report_out(&state, updated, &who, true).await?))
}

/// A bounty to award.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BountyIn {
    #[serde(deserialize_with = "rampart_core::whole::i64")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub amount: i64,
    #[serde(default, deserialize_with = "rampart_core::whole::i64")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub bonus: i64,
    /// `bounty` (default) or `retest`.
    #[serde(default)]
    #[schema(pattern = r"^(bounty|retest)$")]
    pub kind: Option<String>,
    /// Award even though it takes spending past the budget.
    #[serde(default)]
    pub confirm_over_budget: bool,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/bounty", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    request_body = BountyIn,
    responses(
        (status = 201, description = "Awarded (payout pending)", body = BountyOut),
        (status = 400, description = "An invalid amount", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The team only (scope reports:write)", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Not eligible yet, or past the budget without confirm_over_budget", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn award_bounty(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BountyOut>), ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    if !who.role.is_staff() {
        return Err(ApiError(AppError::Forbidden(
            "only the team awards bounties".into(),
        )));
    }
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    let input: BountyIn = parse_json(body, state.config.max_body_bytes)?;
    let p = state.store.programme_by_id(r.programme_id).await?;
    let actor = actor(&who)?;
    let b = state
        .programmes
        .award_bounty(
            &p,
            &r,
            actor,
            input.kind.as_deref().unwrap_or("bounty"),
            input.amount,
            input.bonus,
            input.confirm_over_budget,
            state.now(),
        )
        .await
        .map_err(AppError::from)?;
    audit(
        &state,
        &who,
        "report.bounty",
        &r.id.to_string(),
        &format!("{} + {} {}", b.amount, b.bonus, p.currency),
        ip,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(BountyOut {
            id: b.id,
            kind: b.kind,
            amount: b.amount,
            bonus: b.bonus,
            status: b.status,
            created_at: iso_time(b.created_at),
        }),
    ))
}

/// The team's severity.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityIn {
    /// A CVSS 3.1 or 4.0 vector; when given, it sets the severity.
    #[serde(default)]
    #[schema(
        max_length = 300,
        pattern = r"^\s*(CVSS:3\.[01]/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH]|CVSS:4\.0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN])?\s*$"
    )]
    pub cvss_vector: Option<String>,
    /// The severity, when no vector is given.
    #[serde(default)]
    pub severity: Option<Severity>,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/severity", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    request_body = SeverityIn,
    responses(
        (status = 200, description = "Set; the researcher's own estimate is kept beside it", body = ReportOut),
        (status = 400, description = "An invalid vector, naming the metric", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The team only (scope reports:write)", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn set_severity(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReportOut>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    if !who.role.is_staff() {
        return Err(ApiError(AppError::Forbidden(
            "only the team sets the final severity".into(),
        )));
    }
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    let input: SeverityIn = parse_json(body, state.config.max_body_bytes)?;
    let actor = actor(&who)?;
    let (vector, severity) = match input.cvss_vector.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => {
            let c = rampart_cvss::Cvss::parse(v)
                .map_err(|e| AppError::bad_request(Some("cvss_vector"), e.to_string()))?;
            (Some(c.normalized()), Some(c.rating().finding_severity()))
        }
        _ => (None, input.severity),
    };
    state
        .store
        .set_report_severity(
            r.id,
            severity,
            vector.as_deref(),
            actor.user_id,
            state.now(),
        )
        .await?;
    let r = state.store.report(r.id).await?;
    Ok(Json(report_out(&state, r, &who, true).await?))
}

/// A likely duplicate: an earlier report or a known issue of the programme.
#[derive(Serialize, ToSchema)]
pub struct DuplicateOut {
    /// The report's id, or the known issue's when `kind` is `known_issue`.
    pub report_id: i64,
    /// `report` or `known_issue`.
    pub kind: String,
    /// 0 to 1; higher is more likely.
    pub score: f32,
    /// Why, strongest first, in words.
    pub reasons: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/{id}/duplicates", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    responses(
        (status = 200, description = "Ranked candidates, best first (the team only)", body = Vec<DuplicateOut>),
        (status = 400, description = "The id is not a positive integer", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The team only", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn duplicates(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Json<Vec<DuplicateOut>>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::ReadReports)?;
    // Suggestions name other reports: the team's view only (not
    // researchers, not engineers, who see only their assignments).
    if !is_team(&who) {
        return Err(ApiError(AppError::Forbidden(
            "duplicate suggestions are for the team".into(),
        )));
    }
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    let found = state
        .programmes
        .duplicate_candidates(&r, 10)
        .await
        .map_err(AppError::from)?;
    Ok(Json(
        found
            .into_iter()
            .map(|c| DuplicateOut {
                report_id: c.report_id,
                kind: match c.kind {
                    rampart_dedup::DocKind::Report => "report".into(),
                    rampart_dedup::DocKind::KnownIssue => "known_issue".into(),
                },
                score: c.score,
                reasons: c.reasons.iter().map(ToString::to_string).collect(),
            })
            .collect(),
    ))
}

/// A disclosure request or agreement.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureIn {
    /// The title as published (team only; the report's title when absent).
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\u0000]*$")]
    pub title: Option<String>,
    /// The public write-up, with the team's redactions (team only; required
    /// when the team asks or agrees).
    #[serde(default)]
    #[schema(max_length = 100000, pattern = r"^[^\u0000]*$")]
    pub summary: Option<String>,
}

/// Where disclosure stands.
#[derive(Serialize, ToSchema)]
pub struct DisclosureOut {
    /// `requested_by_team`, `requested_by_researcher` or `disclosed`.
    pub disclosure: String,
    /// The public page, once disclosed.
    pub url: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/disclosure", tag = "reports",
    params(("id" = i64, Path, description = ID_PARAM, minimum = 1, maximum = 9007199254740991_i64)),
    request_body = DisclosureIn,
    responses(
        (status = 200, description = "Requested, or (when the other side had asked) disclosed", body = DisclosureOut),
        (status = 400, description = "The team must give the write-up", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks reports:write", body = ErrorBody),
        (status = 404, description = "No such report, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Not closed yet, already disclosed, or not the caller's report", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn disclosure(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DisclosureOut>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::WriteReports)?;
    let r = visible_report(&state, &who, parse_id(&id)?).await?;
    let input: DisclosureIn = parse_json(body, state.config.max_body_bytes)?;
    let done = state
        .programmes
        .disclosure(
            &r,
            actor(&who)?,
            input.summary.as_deref(),
            input.title.as_deref(),
            state.now(),
        )
        .await
        .map_err(AppError::from)?;
    audit(
        &state,
        &who,
        if done {
            "report.disclose"
        } else {
            "report.disclosure_request"
        },
        &r.id.to_string(),
        "",
        ip,
    )
    .await?;
    let r = state.store.report(r.id).await?;
    let slug = state.store.programme_by_id(r.programme_id).await?.slug;
    Ok(Json(DisclosureOut {
        url: done.then(|| {
            format!(
                "{}/programs/{slug}/disclosed/{}",
                state.config.public_url.trim_end_matches('/'),
                r.id
            )
        }),
        disclosure: r.disclosure,
    }))
}

/// An in-app notification.
#[derive(Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: i64,
    pub report_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub created_at: String,
    pub read: bool,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "account",
    responses(
        (status = 200, description = "The caller's latest notifications, newest first", body = Vec<NotificationOut>),
        (status = 400, description = "An unknown query parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A service token: notifications belong to people", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_notifications(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
) -> Result<Json<Vec<NotificationOut>>, ApiError> {
    known_query(&uri, &[])?;
    require(&who, Action::ReadReports)?;
    let actor = actor(&who)?;
    let list = state.store.notifications(actor.user_id, 100).await?;
    Ok(Json(
        list.into_iter()
            .map(|n| NotificationOut {
                id: n.id,
                report_id: n.report_id,
                kind: n.kind,
                message: n.message,
                created_at: iso_time(n.created_at),
                read: n.read_at.is_some(),
            })
            .collect(),
    ))
}

async fn audit(
    state: &AppState,
    who: &Principal,
    action: &str,
    object_id: &str,
    detail: &str,
    ip: IpAddr,
) -> Result<(), AppError> {
    let object_type = action.split('.').next().unwrap_or("programme");
    crate::routes::audit(
        state,
        who,
        action,
        (object_type, object_id.to_owned()),
        detail.to_owned(),
        ip,
    )
    .await
}
