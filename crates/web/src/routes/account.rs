//! The signed-in person's own account: two-factor, API tokens, sessions.

use super::audit;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{PageCtx, Signed};
use crate::views::{
    AccountPage, RecoveryCodesPage, ScopeChoice, SessionView, TokenView, TotpEnrolPage, fmt_time,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_auth::{
    TokenKind, Totp, new_recovery_code, new_token, normalise_recovery_code, token_digest,
};
use rampart_core::{Scope, ScopeSet};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    done: Option<String>,
}

fn flash_for(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "2fa-off" => "Two-factor authentication is off.",
            "token-revoked" => "The token is revoked.",
            "session-ended" => "That session is signed out.",
            "welcome" => "Welcome. Set up two-factor authentication to protect this account.",
            "profile" => "Your public profile is saved.",
            "notifications" => "Your email notification choice is saved.",
            "pgp-key" => "Your OpenPGP key is saved: mail to you is now encrypted to it.",
            "pgp-key-removed" => "Your OpenPGP key is removed: mail to you is no longer encrypted.",
            _ => return None,
        }
        .to_owned(),
    )
}

struct TokenDraft {
    name: String,
    scopes: Vec<String>,
    error: Option<String>,
    created: Option<String>,
}

async fn render_account(
    state: &AppState,
    ctx: &PageCtx,
    me: &crate::Principal,
    draft: TokenDraft,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let uid = me.user_id.ok_or(AppError::NotFound)?;
    let user = state.store.user_by_id(uid).await?;
    let now = state.now();
    let current = me.session_id_hash().unwrap_or("");
    let sessions = state
        .store
        .list_sessions(uid, now)
        .await?
        .into_iter()
        .filter(|s| s.mfa_pending == 0)
        .map(|s| SessionView {
            current: s.id_hash == current,
            id_hash: s.id_hash,
            created: fmt_time(s.created_at),
            last_seen: fmt_time(s.last_seen_at),
            ip: s.ip,
            user_agent: s.user_agent.chars().take(80).collect(),
        })
        .collect();
    let tokens = state
        .store
        .list_api_tokens(Some(uid))
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            scopes: t.scopes.to_string(),
            created: fmt_time(t.created_at),
            last_used: t
                .last_used_at
                .map(fmt_time)
                .unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let scope_choices = Scope::ALL
        .iter()
        .map(|s| ScopeChoice {
            name: s.as_str(),
            checked: draft.scopes.iter().any(|c| c == s.as_str()),
        })
        .collect();
    let researcher = if user.role == rampart_core::Role::Researcher {
        let p = state.store.researcher_profile(uid).await?;
        Some((
            p.handle.unwrap_or_default(),
            p.show_in_thanks,
            p.email_verified,
        ))
    } else {
        None
    };
    let email_pref = if user.role.is_staff() {
        Some(state.store.email_preference(uid).await?.as_str().to_owned())
    } else {
        None
    };
    let pgp_key = state
        .store
        .user_pgp_key(uid)
        .await?
        .map(|k| (grouped(&k.fingerprint), fmt_time(k.updated_at)));
    let page = AccountPage {
        researcher,
        email_pref,
        pgp_key,
        chrome: ctx.chrome(state, "account"),
        email: user.email,
        role: user.role.to_string(),
        totp_enabled: user.totp_enabled,
        recovery_left: state.store.unused_recovery_codes(uid).await?,
        sessions,
        tokens,
        scope_choices,
        token_name: draft.name,
        token_error: draft.error,
        new_token: draft.created,
        flash,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let draft = TokenDraft {
        name: String::new(),
        scopes: vec!["findings:read".into()],
        error: None,
        created: None,
    };
    render_account(&state, &ctx, &me, draft, flash_for(q.done.as_deref())).await
}

fn require_session(me: &crate::Principal) -> Result<i64, AppError> {
    // Account changes are for people in browsers, not for API tokens.
    match (me.user_id, me.session_id_hash()) {
        (Some(uid), Some(_)) => Ok(uid),
        _ => Err(AppError::Forbidden(
            "Account settings can only be changed in the browser.".into(),
        )),
    }
}

pub async fn totp_start(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    let user = state.store.user_by_id(uid).await?;
    if user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    let secret = Totp::generate_secret().map_err(|e| AppError::Internal(e.to_string()))?;
    state
        .store
        .set_pending_totp(uid, &secret, state.now())
        .await?;
    audit(
        &state,
        &me,
        "user.2fa_enrol_started",
        ("user", uid.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account/2fa").into_response())
}

async fn enrol_page(
    state: &AppState,
    ctx: &PageCtx,
    uid: i64,
    error: Option<String>,
) -> Result<Response, AppError> {
    let user = state.store.user_by_id(uid).await?;
    let Some(secret) = user.totp_secret.filter(|_| !user.totp_enabled) else {
        return Ok(Redirect::to("/account").into_response());
    };
    let totp = Totp::new(&secret, &state.config.site_name, &user.email)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = TotpEnrolPage {
        chrome: ctx.chrome(state, "account"),
        secret,
        uri: totp.otpauth_uri(),
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn totp_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    enrol_page(&state, &ctx, uid, None).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    axum::Form(form): axum::Form<CodeForm>,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    let user = state.store.user_by_id(uid).await?;
    let Some(secret) = user.totp_secret.as_deref().filter(|_| !user.totp_enabled) else {
        return Ok(Redirect::to("/account").into_response());
    };
    let totp = Totp::new(secret, &state.config.site_name, &user.email)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(step) = totp.verify(&form.code, (state.now() / 1000) as u64) else {
        return enrol_page(
            &state,
            &ctx,
            uid,
            Some("That code does not match. Enter the current code from the app (it changes every 30 seconds).".into()),
        )
        .await;
    };
    let mut codes = Vec::new();
    let mut hashes = Vec::new();
    for _ in 0..10 {
        let c = new_recovery_code()?;
        hashes.push(token_digest(&normalise_recovery_code(&c)));
        codes.push(c);
    }
    state
        .store
        .enable_totp(uid, step as i64, &hashes, state.now())
        .await?;
    audit(
        &state,
        &me,
        "user.2fa_enabled",
        ("user", uid.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    let page = RecoveryCodesPage {
        chrome: ctx.chrome(&state, "account"),
        codes,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn totp_disable(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    state.store.disable_totp(uid, state.now()).await?;
    audit(
        &state,
        &me,
        "user.2fa_disabled",
        ("user", uid.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account?done=2fa-off").into_response())
}

/// The token form sends `scope` once per ticked box, which a plain
/// struct-based form extractor cannot collect, so the pairs are read raw.
pub async fn token_create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    let mut name = String::new();
    let mut scopes = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "name" => name = v.trim().to_owned(),
            "scope" => scopes.push(v.into_owned()),
            _ => {}
        }
    }
    let error = if name.is_empty() || name.chars().count() > 80 {
        Some(
            "Give the token a name of 1 to 80 characters, such as the job that will use it."
                .to_owned(),
        )
    } else if scopes.is_empty() {
        Some("Tick at least one scope.".to_owned())
    } else {
        None
    };
    let parsed = ScopeSet::parse(&scopes.join(" "));
    let (error, parsed) = match (error, parsed) {
        (None, Ok(p)) => (None, Some(p)),
        (None, Err(e)) => (Some(e.to_string()), None),
        (e, _) => (e, None),
    };
    let Some(scope_set) = parsed else {
        let draft = TokenDraft {
            name,
            scopes,
            error,
            created: None,
        };
        return render_account(&state, &ctx, &me, draft, None).await;
    };
    let token = new_token(TokenKind::Api)?;
    let t = state
        .store
        .create_api_token(
            Some(uid),
            &name,
            &token_digest(&token),
            &scope_set,
            state.now(),
        )
        .await?;
    audit(
        &state,
        &me,
        "token.create",
        ("token", t.id.to_string()),
        format!("{name} [{scope_set}]"),
        ctx.ip,
    )
    .await?;
    let draft = TokenDraft {
        name: String::new(),
        scopes: vec!["findings:read".into()],
        error: None,
        created: Some(token),
    };
    render_account(&state, &ctx, &me, draft, None).await
}

pub async fn token_revoke(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    state
        .store
        .revoke_api_token(id, Some(uid), state.now())
        .await?;
    audit(
        &state,
        &me,
        "token.revoke",
        ("token", id.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account?done=token-revoked").into_response())
}

#[derive(Deserialize)]
pub struct SessionForm {
    session: String,
}

pub async fn session_revoke(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    axum::Form(form): axum::Form<SessionForm>,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    state
        .store
        .revoke_session_of_user(uid, &form.session)
        .await?;
    audit(
        &state,
        &me,
        "session.revoke",
        ("user", uid.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account?done=session-ended").into_response())
}

#[derive(serde::Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    thanks: Option<String>,
}

/// A researcher's public handle and whether programmes may thank them by name.
pub async fn profile(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    axum::Form(f): axum::Form<ProfileForm>,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    if me.role != rampart_core::Role::Researcher {
        return Err(AppError::NotFound);
    }
    let handle = f.handle.trim();
    let valid = (3..=32).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(AppError::bad_request(
            Some("handle"),
            "use 3 to 32 letters, digits, - or _",
        ));
    }
    match state
        .store
        .set_researcher_profile(uid, handle, f.thanks.is_some(), state.now())
        .await
    {
        Ok(()) => {}
        Err(rampart_store::StoreError::Conflict(m)) => {
            return Err(AppError::Conflict(format!("{m}.")));
        }
        Err(e) => return Err(e.into()),
    }
    audit(
        &state,
        &me,
        "user.profile",
        ("user", uid.to_string()),
        String::new(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account?done=profile").into_response())
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

/// Keys with many signatures are large; anything bigger than this is not a
/// key someone pasted.
const MAX_PGP_KEY_BYTES: usize = 256 * 1024;

#[derive(serde::Deserialize)]
pub struct PgpKeyForm {
    #[serde(default)]
    key: String,
}

/// Saves the OpenPGP public key mail to this person is encrypted to
/// (report mail and digests; see docs/mail.md). Checked before it is
/// stored: it must parse as a public key that can encrypt.
pub async fn pgp_key_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    axum::Form(f): axum::Form<PgpKeyForm>,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    if f.key.len() > MAX_PGP_KEY_BYTES {
        return Err(AppError::bad_request(
            Some("key"),
            "that is larger than any public key (256 KiB); export only your own key with `gpg --export --armor YOUR-ADDRESS`",
        ));
    }
    let key = rampart_mail::pgp::RecipientKey::from_armored(&f.key)
        .map_err(|e| AppError::bad_request(Some("key"), e.to_string()))?;
    state
        .store
        .set_user_pgp_key(uid, f.key.trim(), key.fingerprint(), state.now())
        .await?;
    audit(
        &state,
        &me,
        "user.pgp_key_saved",
        ("user", uid.to_string()),
        key.fingerprint().to_owned(),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to("/account?done=pgp-key").into_response())
}

pub async fn pgp_key_remove(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
) -> Result<Response, AppError> {
    let uid = require_session(&me)?;
    if state.store.remove_user_pgp_key(uid).await? {
        audit(
            &state,
            &me,
            "user.pgp_key_removed",
            ("user", uid.to_string()),
            String::new(),
            ctx.ip,
        )
        .await?;
    }
    Ok(Redirect::to("/account?done=pgp-key-removed").into_response())
}
