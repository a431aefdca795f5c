//! Administration: accounts and the audit log.

use super::audit as record_audit;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{PageCtx, Signed, looks_like_email};
use crate::principal::Principal;
use crate::views::{AuditLogPage, AuditRowView, Choice, Pager, UserView, UsersPage, fmt_time};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_core::{Action, Role};
use serde::Deserialize;

fn require_admin(me: &Principal) -> Result<(), AppError> {
    if me.can(Action::ManageUsers) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only administrators can manage users.".into(),
        ))
    }
}

fn role_choices(selected: Role) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().into(),
            label: r.as_str().into(),
            selected: *r == selected,
        })
        .collect()
}

struct UserDraft {
    email: String,
    role: Role,
    email_error: Option<String>,
    created_link: Option<(String, String)>,
    flash: Option<String>,
}

async fn render_users(
    state: &AppState,
    ctx: &PageCtx,
    me: &Principal,
    d: UserDraft,
) -> Result<Response, AppError> {
    let list = state.store.list_users().await?;
    let mut verified = std::collections::HashMap::new();
    for u in list.iter().filter(|u| u.role == Role::Researcher) {
        let p = state.store.researcher_profile(u.id).await?;
        verified.insert(u.id, (p.email_verified, p.handle.unwrap_or_default()));
    }
    let users = list
        .into_iter()
        .map(|u| UserView {
            researcher: verified.get(&u.id).map(|(v, h)| (*v, h.clone())),
            id: u.id,
            is_self: Some(u.id) == me.user_id,
            roles: role_choices(u.role),
            email: u.email,
            role: u.role.to_string(),
            totp: u.totp_enabled,
            disabled: u.disabled,
            created: fmt_time(u.created_at),
        })
        .collect();
    let status = if d.email_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = UsersPage {
        chrome: ctx.chrome(state, "users"),
        users,
        roles: role_choices(d.role),
        email: d.email,
        email_error: d.email_error,
        created_link: d.created_link,
        flash: d.flash,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn users(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let flash = match q.done.as_deref() {
        Some("role") => Some("Role changed.".to_owned()),
        Some("disabled") => Some("Account disabled; its sessions are ended.".to_owned()),
        Some("enabled") => Some("Account enabled.".to_owned()),
        Some("verified") => Some("Address marked as verified.".to_owned()),
        _ => None,
    };
    let d = UserDraft {
        email: String::new(),
        role: Role::Triager,
        email_error: None,
        created_link: None,
        flash,
    };
    render_users(&state, &ctx, &me, d).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    role: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    axum::Form(form): axum::Form<NewUserForm>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let role = form
        .role
        .parse::<Role>()
        .map_err(|e| AppError::bad_request(Some("role"), e.to_string()))?;
    let email = form.email.trim().to_owned();
    let mut d = UserDraft {
        email: email.clone(),
        role,
        email_error: None,
        created_link: None,
        flash: None,
    };
    if !looks_like_email(&email) {
        d.email_error = Some("Enter an email address such as name@example.com.".into());
        return render_users(&state, &ctx, &me, d).await;
    }
    let user = match state
        .store
        .create_user(&email, role, None, state.now())
        .await
    {
        Ok(u) => u,
        Err(rampart_store::StoreError::Conflict(m)) => {
            d.email_error = Some(format!("{m}."));
            return render_users(&state, &ctx, &me, d).await;
        }
        Err(e) => return Err(e.into()),
    };
    state.users_changed();
    record_audit(
        &state,
        &me,
        "user.create",
        ("user", user.id.to_string()),
        format!("{} as {role}", user.email),
        ctx.ip,
    )
    .await?;
    let link = crate::set_password_link(&state, user.id).await?;
    d.email = String::new();
    d.created_link = Some((user.email, link));
    render_users(&state, &ctx, &me, d).await
}

fn not_self(me: &Principal, id: i64) -> Result<(), AppError> {
    // An admin who demotes or disables themselves could lock everyone out.
    if me.user_id == Some(id) {
        Err(AppError::Forbidden(
            "You cannot change your own role or disable yourself; ask another administrator."
                .into(),
        ))
    } else {
        Ok(())
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<RoleForm>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    not_self(&me, id)?;
    let role = form
        .role
        .parse::<Role>()
        .map_err(|e| AppError::bad_request(Some("role"), e.to_string()))?;
    let before = state.store.user_by_id(id).await?;
    state.store.set_role(id, role, state.now()).await?;
    state.users_changed();
    record_audit(
        &state,
        &me,
        "user.role",
        ("user", id.to_string()),
        format!("{} → {role}", before.role),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/admin/users?done=role").into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    not_self(&me, id)?;
    state.store.set_disabled(id, true, state.now()).await?;
    state.users_changed();
    record_audit(
        &state,
        &me,
        "user.disable",
        ("user", id.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/admin/users?done=disabled").into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    state.store.set_disabled(id, false, state.now()).await?;
    state.users_changed();
    record_audit(
        &state,
        &me,
        "user.enable",
        ("user", id.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/admin/users?done=enabled").into_response())
}

pub async fn reset_link(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let user = state.store.user_by_id(id).await?;
    let link = crate::set_password_link(&state, id).await?;
    record_audit(
        &state,
        &me,
        "user.password_link",
        ("user", id.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    let d = UserDraft {
        email: String::new(),
        role: Role::Triager,
        email_error: None,
        created_link: Some((user.email, link)),
        flash: None,
    };
    render_users(&state, &ctx, &me, d).await
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    if !me.can(Action::ReadAuditLog) {
        return Err(AppError::Forbidden(
            "Only administrators can read the audit log.".into(),
        ));
    }
    let page = state
        .store
        .list_audit(q.page.unwrap_or(1).clamp(1, 1_000_000), 100)
        .await?;
    let pages = ((page.total + page.per_page - 1) / page.per_page).max(1);
    let view = AuditLogPage {
        chrome: ctx.chrome(&state, "audit"),
        entries: page
            .items
            .iter()
            .map(|e| AuditRowView {
                at: fmt_time(e.at),
                actor: e.actor.clone(),
                action: e.action.clone(),
                object: format!("{} {}", e.object_type, e.object_id),
                detail: e.detail.clone(),
                ip: e.ip.clone(),
            })
            .collect(),
        pager: Pager {
            page: page.page,
            pages: pages.to_string(),
            total: crate::views::thousands(page.total),
            prev_href: (page.page > 1).then(|| format!("/admin/audit?page={}", page.page - 1)),
            next_href: (page.page < pages).then(|| format!("/admin/audit?page={}", page.page + 1)),
        },
    };
    Ok(Html(view.render()?).into_response())
}

pub use audit_log as audit;

/// Marks a researcher's address verified: until outbound mail exists, an
/// admin who has checked the address (for instance by writing to it) can.
pub async fn verify(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    state.store.user_by_id(id).await?;
    state.store.set_email_verified(id, state.now()).await?;
    record_audit(
        &state,
        &me,
        "user.verify_email",
        ("user", id.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/admin/users?done=verified").into_response())
}
