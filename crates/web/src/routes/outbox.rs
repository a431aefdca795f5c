//! Administration: the outbox (outgoing email, Slack and webhook
//! deliveries), each row's delivery log, and a retry for failed or
//! given-up rows. Read-only otherwise: the worker in `rampart serve` sends.

use super::audit as record_audit;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{PageCtx, Signed};
use crate::principal::Principal;
use crate::views::{Chrome, fmt_time};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_core::Action;
use serde::Deserialize;

fn require_admin(me: &Principal) -> Result<(), AppError> {
    if me.can(Action::ManageUsers) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only administrators can see the outbox.".into(),
        ))
    }
}

const STATES: [&str; 5] = ["queued", "sending", "failed", "dead", "sent"];

pub struct OutboxRowView {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub next: String,
    pub created: String,
    pub last_error: String,
    pub report_id: Option<i64>,
    pub retryable: bool,
}

pub struct CountView {
    pub channel: String,
    pub state: String,
    pub count: i64,
}

pub struct StateLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub chrome: Chrome,
    pub counts: Vec<CountView>,
    pub filters: Vec<StateLink>,
    pub rows: Vec<OutboxRowView>,
    pub flash: Option<String>,
}

pub struct AttemptView {
    pub at: String,
    pub ok: bool,
    pub status: String,
    pub duration_ms: i64,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "outbox_row.html")]
pub struct OutboxRowPage {
    pub chrome: Chrome,
    pub row: OutboxRowView,
    pub headers: String,
    pub body: String,
    pub message_id: String,
    pub attempts: Vec<AttemptView>,
}

fn view(r: &rampart_store::OutboxRow) -> OutboxRowView {
    OutboxRowView {
        id: r.id,
        channel: r.channel.clone(),
        target: r.target.clone(),
        subject: r.subject.clone(),
        state: r.state.clone(),
        attempts: r.attempts,
        next: if matches!(r.state.as_str(), "queued" | "failed") {
            fmt_time(r.next_attempt_at)
        } else {
            String::new()
        },
        created: fmt_time(r.created_at),
        last_error: r.last_error.clone(),
        report_id: r.report_id,
        retryable: matches!(r.state.as_str(), "failed" | "dead"),
    }
}

#[derive(Deserialize, Default)]
pub struct OutboxQuery {
    state: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let filter = q
        .state
        .as_deref()
        .filter(|s| STATES.contains(s))
        .map(str::to_owned);
    let rows = state.store.list_outbox(filter.as_deref(), 200).await?;
    let counts = state
        .store
        .outbox_counts()
        .await?
        .into_iter()
        .map(|c| CountView {
            channel: c.channel,
            state: c.state,
            count: c.count,
        })
        .collect();
    let mut filters = vec![StateLink {
        label: "All".into(),
        href: "/admin/outbox".into(),
        current: filter.is_none(),
    }];
    filters.extend(STATES.iter().map(|s| StateLink {
        label: (*s).to_owned(),
        href: format!("/admin/outbox?state={s}"),
        current: filter.as_deref() == Some(*s),
    }));
    let page = OutboxPage {
        chrome: ctx.chrome(&state, "outbox"),
        counts,
        filters,
        rows: rows.iter().map(view).collect(),
        flash: (q.done.as_deref() == Some("retried"))
            .then(|| "Queued again: the worker sends it within seconds.".to_owned()),
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let row = state.store.outbox_row(id).await?;
    let attempts = state
        .store
        .outbox_attempts(id)
        .await?
        .into_iter()
        .map(|a| AttemptView {
            at: fmt_time(a.at),
            ok: a.ok,
            status: a.status_code.map(|c| c.to_string()).unwrap_or_default(),
            duration_ms: a.duration_ms,
            detail: a.detail,
        })
        .collect();
    let page = OutboxRowPage {
        chrome: ctx.chrome(&state, "outbox"),
        headers: row.headers.clone(),
        body: row.body.clone(),
        message_id: row.message_id.clone().unwrap_or_default(),
        row: view(&row),
        attempts,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    match state.store.retry_outbox(id, state.now()).await {
        Ok(()) => {}
        Err(rampart_store::StoreError::NotFound) => {
            return Err(AppError::bad_request(
                None,
                "Only failed or given-up deliveries can be retried; this one is queued, being sent or sent.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    record_audit(
        &state,
        &me,
        "outbox.retry",
        ("outbox", id.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/admin/outbox?done=retried").into_response())
}

#[derive(Deserialize)]
pub struct PreferenceForm {
    email: String,
}

/// A team member's choice of how notifications reach them by email
/// (on the account page; researchers always get mail about their reports).
pub async fn email_preference(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    axum::Form(f): axum::Form<PreferenceForm>,
) -> Result<Response, AppError> {
    let (Some(uid), Some(_)) = (me.user_id, me.session_id_hash()) else {
        return Err(AppError::Forbidden(
            "Account settings can only be changed in the browser.".into(),
        ));
    };
    if !me.role.is_staff() {
        return Err(AppError::NotFound);
    }
    let pref = rampart_store::EmailPreference::parse(&f.email)
        .ok_or_else(|| AppError::bad_request(Some("email"), "choose immediate, daily or none"))?;
    state
        .store
        .set_email_preference(uid, pref, state.now())
        .await?;
    record_audit(
        &state,
        &me,
        "user.notifications",
        ("user", uid.to_string()),
        pref.as_str().to_owned(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account?done=notifications").into_response())
}
