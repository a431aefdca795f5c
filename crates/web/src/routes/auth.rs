//! Signing in and out, the second factor, the first-admin setup link and
//! set-password links.

use super::{audit_raw, hash_password, verify_password};
use crate::error::AppError;
use crate::forms::{PageCtx, looks_like_email, safe_next};
use crate::middleware::PendingMfa;
use crate::views::{
    ForgotPasswordPage, LoginPage, NoticePage, SecondFactorPage, SetupPage, VerifyEmailPage,
};
use crate::{AppState, cookies};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_auth::{
    TokenKind, Totp, check_password_policy, new_token, normalise_recovery_code, token_digest,
};
use rampart_core::Role;
use rampart_store::{LinkPurpose, StoreError, User};
use serde::Deserialize;

const GENERIC_LOGIN_ERROR: &str = "Email or password is incorrect. After several failed attempts, \
     sign-in for the account pauses for a few minutes.";

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    reset: Option<String>,
    signed_up: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    if ctx.principal.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let notice = if q.expired.is_some() || ctx.session_expired {
        Some("Your session has ended. Sign in again to continue.".to_owned())
    } else if q.reset.is_some() {
        Some("Your password is set. Sign in with it now.".to_owned())
    } else if q.signed_up.is_some() {
        Some(
            "Sign in with your address and password to continue. (If the address already had an account, its existing password still applies.)"
                .to_owned(),
        )
    } else {
        None
    };
    let page = LoginPage {
        chrome: ctx.chrome(&state, "login"),
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
        notice,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Starts a new session (never reusing an old identifier) and returns the
/// `Set-Cookie` header for it.
async fn start_session(
    state: &AppState,
    user: &User,
    mfa_pending: bool,
    ctx: &PageCtx,
    headers: &HeaderMap,
) -> Result<axum::http::HeaderValue, AppError> {
    let token = new_token(TokenKind::Session)?;
    let csrf = new_token(TokenKind::Csrf)?;
    // A half-signed-in session lives only long enough to type a code.
    let (idle, absolute) = if mfa_pending {
        (10 * 60_000, 10 * 60_000)
    } else {
        (
            state.config.session_idle_ms,
            state.config.session_absolute_ms,
        )
    };
    state
        .store
        .create_session(
            &token_digest(&token),
            user.id,
            &csrf,
            mfa_pending,
            state.now(),
            idle,
            absolute,
            &ctx.ip.to_string(),
            &user_agent(headers),
        )
        .await?;
    let secure = state.config.secure_cookies;
    Ok(cookies::set(
        cookies::session_name(secure),
        &token,
        secure,
        absolute / 1000,
    ))
}

fn end_current_session_cookie(state: &AppState) -> axum::http::HeaderValue {
    let secure = state.config.secure_cookies;
    cookies::set(cookies::session_name(secure), "", secure, 0)
}

pub async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    login_limit(&state, &ctx)?;
    let now = state.now();
    let next = safe_next(form.next.as_deref());
    let fail = |state: &AppState, ctx: &PageCtx, email: &str| -> Result<Response, AppError> {
        let page = LoginPage {
            chrome: ctx.chrome(state, "login"),
            email: email.to_owned(),
            next: next.clone(),
            error: Some(GENERIC_LOGIN_ERROR.into()),
            notice: None,
        };
        Ok((axum::http::StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response())
    };
    let email = form.email.trim().to_owned();
    let user = match state.store.user_by_email(&email).await {
        Ok(u) if !u.disabled => Some(u),
        Ok(_) | Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(user) = user else {
        // Same work as a real check, so timing does not reveal accounts.
        verify_password(&state, form.password, None).await;
        audit_raw(
            &state,
            None,
            &email,
            "user.login_failed",
            ("user", "-".into()),
            "unknown or disabled account".into(),
            ctx.ip,
        )
        .await?;
        return fail(&state, &ctx, &email);
    };
    if user.locked_until > now {
        audit_raw(
            &state,
            Some(user.id),
            &user.email,
            "user.login_failed",
            ("user", user.id.to_string()),
            "account locked".into(),
            ctx.ip,
        )
        .await?;
        return fail(&state, &ctx, &email);
    }
    if !verify_password(&state, form.password, user.password_hash.clone()).await {
        let f = state.store.record_login_failure(user.id, now).await?;
        let detail = if f.locked_until > 0 {
            format!("wrong password ({} in a row; locked)", f.failed_logins)
        } else {
            format!("wrong password ({} in a row)", f.failed_logins)
        };
        audit_raw(
            &state,
            Some(user.id),
            &user.email,
            "user.login_failed",
            ("user", user.id.to_string()),
            detail,
            ctx.ip,
        )
        .await?;
        return fail(&state, &ctx, &email);
    }
    state.store.reset_login_failures(user.id).await?;
    let cookie = start_session(&state, &user, user.totp_enabled, &ctx, &headers).await?;
    let target = if user.totp_enabled {
        audit_raw(
            &state,
            Some(user.id),
            &user.email,
            "user.login_password_ok",
            ("user", user.id.to_string()),
            "second factor pending".into(),
            ctx.ip,
        )
        .await?;
        format!("/login/2fa?next={}", crate::forms::urlencode(&next))
    } else {
        audit_raw(
            &state,
            Some(user.id),
            &user.email,
            "user.login",
            ("user", user.id.to_string()),
            String::new(),
            ctx.ip,
        )
        .await?;
        next
    };
    let mut resp = Redirect::to(&target).into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn second_factor_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    pending: Option<axum::Extension<PendingMfa>>,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let Some(axum::Extension(pending)) = pending else {
        return Ok(Redirect::to("/login").into_response());
    };
    let page = SecondFactorPage {
        chrome: ctx.chrome(&state, "login"),
        email: pending.email,
        next: safe_next(q.next.as_deref()),
        error: None,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    next: Option<String>,
}

pub async fn second_factor(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    pending: Option<axum::Extension<PendingMfa>>,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some(axum::Extension(pending)) = pending else {
        return Ok(Redirect::to("/login").into_response());
    };
    login_limit(&state, &ctx)?;
    let now = state.now();
    let user = state.store.user_by_id(pending.user_id).await?;
    let next = safe_next(form.next.as_deref());
    let code = form.code.trim();
    let mut accepted = None;
    if let Some(secret) = user.totp_secret.as_deref().filter(|_| user.totp_enabled) {
        let totp = Totp::new(secret, &state.config.site_name, &user.email)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if let Some(step) = totp.verify(code, (now / 1000) as u64) {
            // A code works once: refuse a step at or before the last used.
            if state.store.advance_totp_step(user.id, step as i64).await? {
                accepted = Some("authenticator code");
            }
        }
    }
    if accepted.is_none() && code.len() >= 10 {
        let digest = token_digest(&normalise_recovery_code(code));
        if state.store.use_recovery_code(user.id, &digest, now).await? {
            accepted = Some("recovery code");
        }
    }
    let Some(how) = accepted else {
        let f = state.store.record_login_failure(user.id, now).await?;
        audit_raw(
            &state,
            Some(user.id),
            &user.email,
            "user.login_failed",
            ("user", user.id.to_string()),
            format!("wrong second factor ({} in a row)", f.failed_logins),
            ctx.ip,
        )
        .await?;
        if f.locked_until > now {
            state.store.delete_session(&pending.id_hash).await?;
            let mut resp = Redirect::to("/login").into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, end_current_session_cookie(&state));
            return Ok(resp);
        }
        let page = SecondFactorPage {
            chrome: ctx.chrome(&state, "login"),
            email: user.email,
            next,
            error: Some("That code is not valid. Codes change every 30 seconds and each works once; check your device's clock.".into()),
        };
        return Ok((axum::http::StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    };
    state.store.reset_login_failures(user.id).await?;
    // A new session identifier once fully signed in.
    state.store.delete_session(&pending.id_hash).await?;
    let cookie = start_session(&state, &user, false, &ctx, &headers).await?;
    audit_raw(
        &state,
        Some(user.id),
        &user.email,
        "user.login",
        ("user", user.id.to_string()),
        format!("with {how}"),
        ctx.ip,
    )
    .await?;
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    pending: Option<axum::Extension<PendingMfa>>,
) -> Result<Response, AppError> {
    if let Some(p) = &ctx.principal
        && let Some(id_hash) = p.session_id_hash()
    {
        state.store.delete_session(id_hash).await?;
        super::audit(
            &state,
            p,
            "user.logout",
            ("user", p.user_id.map(|i| i.to_string()).unwrap_or_default()),
            String::new(),
            ctx.ip,
        )
        .await?;
    }
    if let Some(axum::Extension(p)) = pending {
        state.store.delete_session(&p.id_hash).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, end_current_session_cookie(&state));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    email: Option<String>,
    password: String,
    confirm: String,
}

fn password_problem(form: &PasswordForm) -> Option<String> {
    if let Err(e) = check_password_policy(&form.password) {
        return Some(format!("Choose another password: {e}."));
    }
    if form.password != form.confirm {
        return Some("The two passwords differ; type the same one twice.".into());
    }
    None
}

fn setup_page(ctx: &PageCtx, state: &AppState, token: &str) -> SetupPage {
    SetupPage {
        chrome: ctx.chrome(state, ""),
        action: format!("/setup/{token}"),
        heading: "Create the first administrator".into(),
        intro: "This Rampart has no accounts yet. The account you create here administers it: users, programmes and settings.".into(),
        fixed_email: None,
        email: String::new(),
        email_error: None,
        password_error: None,
    }
}

fn set_password_page(
    ctx: &PageCtx,
    state: &AppState,
    token: &str,
    email: String,
    password_error: Option<String>,
) -> SetupPage {
    SetupPage {
        chrome: ctx.chrome(state, ""),
        action: format!("/set-password/{token}"),
        heading: "Choose your password".into(),
        intro: "Choose the password you will sign in with.".into(),
        fixed_email: Some(email),
        email: String::new(),
        email_error: None,
        password_error,
    }
}

/// The login limiter, shared by every form that takes a password or a
/// one-time token: a refusal is a 429 with Retry-After, and counted.
fn login_limit(state: &AppState, ctx: &PageCtx) -> Result<(), AppError> {
    state.limits.check_login(ctx.ip).map_err(|wait| {
        metrics::counter!("rampart_rate_limited_total", "limit" => "login").increment(1);
        AppError::TooManyRequests {
            retry_after_s: wait,
        }
    })
}

/// The 404 page of a one-time link that was used, expired or never existed:
/// what to do instead (`message`) and where to go (`link`).
fn gone_link_page(
    state: &AppState,
    ctx: &PageCtx,
    message: &str,
    link: (&str, &str),
) -> Result<Response, AppError> {
    let page = NoticePage {
        chrome: ctx.chrome(state, ""),
        title: "This link no longer works".into(),
        message: message.into(),
        link: Some((link.0.into(), link.1.into())),
    };
    Ok((axum::http::StatusCode::NOT_FOUND, Html(page.render()?)).into_response())
}

fn link_gone(state: &AppState, ctx: &PageCtx) -> Result<Response, AppError> {
    gone_link_page(
        state,
        ctx,
        "One-time links work once and expire. Ask an administrator for a new one (or run `rampart admin create-user`).",
        ("/login", "Go to sign in"),
    )
}

pub async fn setup_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if state
        .store
        .peek_link(&token_digest(&token), LinkPurpose::SetupAdmin, state.now())
        .await
        .is_err()
        || state.store.count_users().await? > 0
    {
        return link_gone(&state, &ctx);
    }
    Ok(Html(setup_page(&ctx, &state, &token).render()?).into_response())
}

pub async fn setup(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    login_limit(&state, &ctx)?;
    let now = state.now();
    let digest = token_digest(&token);
    if state
        .store
        .peek_link(&digest, LinkPurpose::SetupAdmin, now)
        .await
        .is_err()
        || state.store.count_users().await? > 0
    {
        return link_gone(&state, &ctx);
    }
    let email = form.email.clone().unwrap_or_default().trim().to_owned();
    let email_error = (!looks_like_email(&email))
        .then(|| "Enter an email address such as you@example.com.".to_owned());
    let password_error = password_problem(&form);
    if email_error.is_some() || password_error.is_some() {
        let mut page = setup_page(&ctx, &state, &token);
        page.email = email;
        page.email_error = email_error;
        page.password_error = password_error;
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            Html(page.render()?),
        )
            .into_response());
    }
    if state
        .store
        .take_link(&digest, LinkPurpose::SetupAdmin, now)
        .await
        .is_err()
    {
        return link_gone(&state, &ctx);
    }
    let hash = hash_password(&state, form.password).await?;
    let user = state
        .store
        .create_user(&email, Role::Admin, Some(&hash), now)
        .await?;
    audit_raw(
        &state,
        Some(user.id),
        &user.email,
        "user.create",
        ("user", user.id.to_string()),
        "first administrator, via setup link".into(),
        ctx.ip,
    )
    .await?;
    let cookie = start_session(&state, &user, false, &ctx, &headers).await?;
    let mut resp = Redirect::to("/account").into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

pub async fn set_password_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Ok(link) = state
        .store
        .peek_link(&token_digest(&token), LinkPurpose::SetPassword, state.now())
        .await
    else {
        return link_gone(&state, &ctx);
    };
    let user = state.store.user_by_id(link.user_id.unwrap_or(-1)).await?;
    let page = set_password_page(&ctx, &state, &token, user.email, None);
    Ok(Html(page.render()?).into_response())
}

pub async fn set_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    login_limit(&state, &ctx)?;
    let now = state.now();
    let digest = token_digest(&token);
    let Ok(link) = state
        .store
        .peek_link(&digest, LinkPurpose::SetPassword, now)
        .await
    else {
        return link_gone(&state, &ctx);
    };
    let user = state.store.user_by_id(link.user_id.unwrap_or(-1)).await?;
    if let Some(problem) = password_problem(&form) {
        let page = set_password_page(&ctx, &state, &token, user.email, Some(problem));
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            Html(page.render()?),
        )
            .into_response());
    }
    if state
        .store
        .take_link(&digest, LinkPurpose::SetPassword, now)
        .await
        .is_err()
    {
        return link_gone(&state, &ctx);
    }
    let hash = hash_password(&state, form.password).await?;
    state.store.set_password_hash(user.id, &hash, now).await?;
    // Whoever knew the old password is signed out everywhere.
    state.store.delete_other_sessions(user.id, None).await?;
    audit_raw(
        &state,
        Some(user.id),
        &user.email,
        "user.password_set",
        ("user", user.id.to_string()),
        "via one-time link".into(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/login?reset=1").into_response())
}

// ------------------------------------------------------ forgot your password

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

fn forgot_page(
    state: &AppState,
    ctx: &PageCtx,
    email: String,
    error: Option<String>,
) -> ForgotPasswordPage {
    ForgotPasswordPage {
        chrome: ctx.chrome(state, "login"),
        email,
        error,
    }
}

pub async fn forgot_password_form(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    Ok(Html(forgot_page(&state, &ctx, String::new(), None).render()?).into_response())
}

/// Always the same answer, given before the address is even looked up: the
/// lookup and the mail happen in the background, so neither the page nor
/// its timing tells whether the address has an account.
pub async fn forgot_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<ForgotForm>,
) -> Result<Response, AppError> {
    if let Err(e) = state.limits.check_reset(ctx.ip) {
        metrics::counter!("rampart_rate_limited_total", "limit" => "password_reset").increment(1);
        return Err(e);
    }
    let email = form.email.trim().to_owned();
    if !looks_like_email(&email) {
        let page = forgot_page(
            &state,
            &ctx,
            email,
            Some("Enter an email address such as you@example.com.".into()),
        );
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            Html(page.render()?),
        )
            .into_response());
    }
    let allowed = state.limits.reset_address_allowed(&email.to_lowercase());
    let (bg, ip) = (state.clone(), ctx.ip);
    tokio::spawn(async move {
        if let Err(e) = mail_reset_link(&bg, &email, allowed, ip).await {
            tracing::warn!(error = %e, "Could not queue a password-reset mail");
        }
    });
    let page = NoticePage {
        chrome: ctx.chrome(&state, "login"),
        title: "Check your mail".into(),
        message: "If that address has an account, a link to choose a new password is on its way to it. The link works once, for one hour. Nothing arrived? Check the spam folder, or ask again in a few minutes.".into(),
        link: Some(("/login".into(), "Go to sign in".into())),
    };
    Ok(Html(page.render()?).into_response())
}

async fn mail_reset_link(
    state: &AppState,
    email: &str,
    allowed: bool,
    ip: std::net::IpAddr,
) -> Result<(), AppError> {
    let user = match state.store.user_by_email(email).await {
        Ok(u) => Some(u),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let (actor_id, object, detail) = match &user {
        None => (None, "-".to_owned(), "no such account; nothing sent"),
        Some(u) if u.disabled => (
            Some(u.id),
            u.id.to_string(),
            "account disabled; nothing sent",
        ),
        Some(u) if !allowed => (
            Some(u.id),
            u.id.to_string(),
            "over the per-address limit; nothing sent",
        ),
        Some(u) => {
            state.mailer.queue_password_reset(u, state.now()).await?;
            (Some(u.id), u.id.to_string(), "set-password link mailed")
        }
    };
    audit_raw(
        state,
        actor_id,
        email,
        "user.password_reset_requested",
        ("user", object),
        detail.into(),
        ip,
    )
    .await
}

// ------------------------------------------------------ address verification

fn verify_link_gone(state: &AppState, ctx: &PageCtx) -> Result<Response, AppError> {
    gone_link_page(
        state,
        ctx,
        "Verification links work once and expire after 7 days. Sign in and ask for a new one on your account page, or ask an administrator to verify your address.",
        ("/account", "Go to your account"),
    )
}

pub async fn verify_email_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Ok(link) = state
        .store
        .peek_link(&token_digest(&token), LinkPurpose::VerifyEmail, state.now())
        .await
    else {
        return verify_link_gone(&state, &ctx);
    };
    let user = state.store.user_by_id(link.user_id.unwrap_or(-1)).await?;
    let page = VerifyEmailPage {
        chrome: ctx.chrome(&state, ""),
        action: format!("/verify-email/{token}"),
        email: user.email,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn verify_email(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    // Guessing tokens is hopeless (256 bits), but cheap attempts stay cheap.
    login_limit(&state, &ctx)?;
    let now = state.now();
    let Ok(link) = state
        .store
        .take_link(&token_digest(&token), LinkPurpose::VerifyEmail, now)
        .await
    else {
        return verify_link_gone(&state, &ctx);
    };
    let user = state.store.user_by_id(link.user_id.unwrap_or(-1)).await?;
    state.store.set_email_verified(user.id, now).await?;
    audit_raw(
        &state,
        Some(user.id),
        &user.email,
        "user.email_verified",
        ("user", user.id.to_string()),
        "via mailed link".into(),
        ctx.ip,
    )
    .await?;
    let page = NoticePage {
        chrome: ctx.chrome(&state, ""),
        title: "Your address is confirmed".into(),
        message: format!("Thank you: {} is confirmed as your address.", user.email),
        link: Some(("/login".into(), "Go to sign in".into())),
    };
    Ok(Html(page.render()?).into_response())
}

/// "Mail me a new link" on the account page: a fresh verification mail,
/// within the per-address reset budget (both fill the same mailbox).
pub async fn resend_verification(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let Some(p) = ctx.principal.as_ref() else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    let uid = p
        .user_id
        .ok_or_else(|| AppError::Forbidden("A service token has no address to confirm.".into()))?;
    let user = state.store.user_by_id(uid).await?;
    let verified = state.store.researcher_profile(uid).await?.email_verified;
    let flash = if verified {
        "Your address is already confirmed."
    } else if !state
        .limits
        .reset_address_allowed(&user.email.to_lowercase())
    {
        "A link went out a short while ago; try again in an hour."
    } else {
        state
            .mailer
            .queue_address_verification(&user, state.now())
            .await?;
        super::audit(
            &state,
            p,
            "user.verification_mailed",
            ("user", uid.to_string()),
            "asked again from the account page".into(),
            ctx.ip,
        )
        .await?;
        "A new confirmation link is on its way to your address."
    };
    let page = NoticePage {
        chrome: ctx.chrome(&state, "account"),
        title: "Confirm your email address".into(),
        message: flash.into(),
        link: Some(("/account".into(), "Back to your account".into())),
    };
    Ok(Html(page.render()?).into_response())
}
