//! The route table and helpers shared by page handlers.

mod account;
mod admin;
mod auth;
pub(crate) mod findings;
mod ops;
mod outbox;
mod programmes;
mod reports;

use crate::error::AppError;
use crate::forms::PageCtx;
use crate::middleware::{csrf, identify, security_headers, track_metrics};
use crate::principal::Principal;
use crate::{AppState, api};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rampart_store::NewAuditEntry;
use std::net::IpAddr;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// The whole application: pages, API, static files and middleware.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let upload_limit = state.config.max_upload_bytes;
    Router::new()
        .route("/", get(home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route(
            "/login/2fa",
            get(auth::second_factor_form).post(auth::second_factor),
        )
        .route("/logout", post(auth::logout))
        .route("/setup/{token}", get(auth::setup_form).post(auth::setup))
        .route(
            "/set-password/{token}",
            get(auth::set_password_form).post(auth::set_password),
        )
        .route(
            "/forgot-password",
            get(auth::forgot_password_form).post(auth::forgot_password),
        )
        .route(
            "/verify-email/{token}",
            get(auth::verify_email_form).post(auth::verify_email),
        )
        .route("/account", get(account::show))
        .route("/account/2fa", get(account::totp_form))
        .route("/account/profile", post(account::profile))
        .route("/account/verify-email", post(auth::resend_verification))
        .route("/account/notifications", post(outbox::email_preference))
        .route("/account/pgp-key", post(account::pgp_key_save))
        .route("/account/pgp-key/remove", post(account::pgp_key_remove))
        .route("/account/2fa/start", post(account::totp_start))
        .route("/account/2fa/confirm", post(account::totp_confirm))
        .route("/account/2fa/disable", post(account::totp_disable))
        .route("/account/tokens", post(account::token_create))
        .route("/account/tokens/{id}/revoke", post(account::token_revoke))
        .route("/account/sessions/revoke", post(account::session_revoke))
        .route("/findings", get(findings::list))
        .route("/findings/{id}", get(findings::show))
        .route("/findings/{id}/status", post(findings::set_status))
        .route("/findings/{id}/assign", post(findings::assign))
        .route("/findings/{id}/known-issue", post(findings::to_known_issue))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}/role", post(admin::set_role))
        .route("/admin/users/{id}/disable", post(admin::disable))
        .route("/admin/users/{id}/enable", post(admin::enable))
        .route("/admin/users/{id}/reset-link", post(admin::reset_link))
        .route("/admin/users/{id}/verify", post(admin::verify))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/outbox", get(outbox::list))
        .route("/admin/outbox/{id}", get(outbox::show))
        .route("/admin/outbox/{id}/retry", post(outbox::retry))
        .route("/programs", get(programmes::list))
        .route("/programs/{slug}", get(programmes::show))
        .route("/programs/{slug}/pgp-key.asc", get(programmes::pgp_key))
        .route(
            "/programs/{slug}/report",
            get(reports::new_report)
                .post(reports::submit)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/.well-known/security.txt", get(programmes::security_txt))
        .route(
            "/security.txt",
            get(|| async { Redirect::permanent("/.well-known/security.txt") }),
        )
        .route(
            "/signup",
            get(programmes::signup_form).post(programmes::signup),
        )
        .route(
            "/invitations/{token}",
            get(programmes::invitation).post(programmes::answer_invitation),
        )
        .route("/admin/programs/new", get(programmes::new_form))
        .route("/admin/programs", post(programmes::create))
        .route(
            "/admin/programs/{slug}/edit",
            get(programmes::edit_form).post(programmes::update),
        )
        .route("/admin/programs/{slug}/launch", post(programmes::launch))
        .route("/admin/programs/{slug}/invite", post(programmes::invite))
        .route("/reports", get(reports::list))
        .route("/reports/{id}", get(reports::show))
        .route(
            "/reports/{id}/comment",
            post(reports::comment).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/reports/{id}/files/{file}", get(reports::download))
        .route("/reports/{id}/disclosure", post(reports::disclosure))
        .route("/reports/{id}/assign", post(reports::assign))
        .route("/reports/{id}/known-issue", post(reports::to_known_issue))
        .route(
            "/admin/programs/{slug}/known-issues",
            post(programmes::add_known_issue),
        )
        .route(
            "/admin/programs/{slug}/known-issues/{kid}/delete",
            post(programmes::delete_known_issue),
        )
        .route("/reports/{id}/tracker", post(reports::tracker))
        .route(
            "/reports/{id}/bounties/{bounty}/paid",
            post(reports::mark_paid),
        )
        .route(
            "/admin/templates",
            get(programmes::templates).post(programmes::save_template),
        )
        .route(
            "/admin/programs/{slug}/bounties.csv",
            get(programmes::bounties_csv),
        )
        .route(
            "/programs/{slug}/disclosed/{id}/osv.json",
            get(programmes::osv),
        )
        .route(
            "/programs/{slug}/disclosed/{id}/csaf.json",
            get(programmes::csaf),
        )
        .route(
            "/programs/{slug}/disclosed",
            get(programmes::disclosed_list),
        )
        .route(
            "/programs/{slug}/disclosed/{id}",
            get(programmes::disclosed_one),
        )
        .route("/reports/{id}/state", post(reports::change_state))
        .route("/reports/{id}/bounty", post(reports::award))
        .route("/reports/{id}/severity", post(reports::set_severity))
        .route("/notifications", get(reports::notifications))
        .route("/notifications/read", post(reports::mark_read))
        .route("/static/cvss.js", get(ops::cvss_js))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/static/app.css", get(ops::css))
        .route("/static/app.js", get(ops::js))
        .route("/static/icon.svg", get(ops::icon))
        .route("/favicon.ico", get(ops::icon))
        .nest("/api/v1", api::router(&state))
        .fallback(not_found)
        .route_layer(from_fn(track_metrics))
        .layer(from_fn_with_state(state.clone(), csrf))
        .layer(from_fn_with_state(state.clone(), identify))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                AppError::Internal("a request handler panicked".into()).into_response()
            },
        ))
        .layer(TraceLayer::new_for_http())
        .layer(from_fn_with_state(state.clone(), security_headers))
        .with_state(state)
}

async fn home(ctx: PageCtx) -> Response {
    match &ctx.principal {
        Some(p) if p.role.is_staff() => Redirect::to("/findings").into_response(),
        Some(_) => Redirect::to("/reports").into_response(),
        // A visitor is most likely a researcher looking for where to report.
        None => Redirect::to("/programs").into_response(),
    }
}

async fn not_found(State(_): State<AppState>, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        crate::error::ApiError(AppError::NotFound).into_response()
    } else {
        AppError::NotFound.into_response()
    }
}

/// Appends to the audit log on behalf of a principal.
pub(crate) async fn audit(
    state: &AppState,
    who: &Principal,
    action: &str,
    object: (&str, String),
    detail: String,
    ip: IpAddr,
) -> Result<(), AppError> {
    audit_raw(
        state,
        who.user_id,
        &who.actor_label(),
        action,
        object,
        detail,
        ip,
    )
    .await
}

pub(crate) async fn audit_raw(
    state: &AppState,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    object: (&str, String),
    detail: String,
    ip: IpAddr,
) -> Result<(), AppError> {
    state
        .store
        .append_audit(
            &NewAuditEntry {
                actor_id,
                actor: actor.to_owned(),
                action: action.to_owned(),
                object_type: object.0.to_owned(),
                object_id: object.1,
                detail,
                ip: ip.to_string(),
            },
            state.now(),
        )
        .await?;
    Ok(())
}

/// Runs argon2 off the async runtime: hashing takes tens of milliseconds of
/// CPU, which would otherwise stall every other request on the thread.
pub(crate) async fn hash_password(state: &AppState, password: String) -> Result<String, AppError> {
    let hasher = state.hasher.clone();
    tokio::task::spawn_blocking(move || hasher.hash(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::from)
}

pub(crate) async fn verify_password(
    state: &AppState,
    password: String,
    hash: Option<String>,
) -> bool {
    let hasher = state.hasher.clone();
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => hasher.verify(&password, &h),
        None => {
            hasher.verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}
