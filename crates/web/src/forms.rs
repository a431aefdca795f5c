//! Request extractors and small helpers shared by the page handlers.

use crate::AppState;
use crate::error::{ApiError, AppError};
use crate::middleware::{ClientIp, CsrfToken, SessionExpired};
use crate::principal::Principal;
use crate::views::{Chrome, NavUser};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, Ipv4Addr};

/// A signed-in caller of a web page. Without one, the browser is sent to
/// the login page and brought back afterwards.
pub struct Signed(pub Principal);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Response> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            // Pages that change things are for people in browsers. A bearer
            // token may read pages (monitoring, benchmarks) but never post
            // to them: its scopes are enforced by the API, not by the
            // forms, and a page post with a token skips the CSRF check.
            let reads = matches!(
                parts.method,
                axum::http::Method::GET | axum::http::Method::HEAD
            );
            if !reads && matches!(p.via, crate::principal::Via::Token { .. }) {
                return Err(AppError::Forbidden(
                    "Forms need a signed-in browser session; with a token, use the API under /api/v1."
                        .into(),
                )
                .into_response());
            }
            return Ok(Signed(p.clone()));
        }
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let expired = parts.extensions.get::<SessionExpired>().is_some();
        let mut target = format!("/login?next={}", urlencode(next));
        if expired {
            target.push_str("&expired=1");
        }
        Err(Redirect::to(&target).into_response())
    }
}

/// An authenticated API caller (bearer token or browser session).
pub struct ApiCaller(pub Principal);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(ApiCaller)
            .ok_or(ApiError(AppError::Unauthorized))
    }
}

/// What every page needs for its frame: who is signed in, the CSRF token
/// for its forms, and the client address for the audit log.
pub struct PageCtx {
    pub principal: Option<Principal>,
    pub csrf: String,
    pub ip: IpAddr,
    pub session_expired: bool,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(PageCtx {
            principal: parts.extensions.get::<Principal>().cloned(),
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|c| c.0.clone())
                .unwrap_or_default(),
            ip: client_ip(parts),
            session_expired: parts.extensions.get::<SessionExpired>().is_some(),
        })
    }
}

pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ClientIp>()
        .map(|c| c.0)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

impl PageCtx {
    pub fn chrome(&self, state: &AppState, active: &'static str) -> Chrome {
        Chrome {
            site_name: state.config.site_name.clone(),
            csrf: self.csrf.clone(),
            active,
            user: self.principal.as_ref().map(|p| NavUser {
                label: p.label.clone(),
                role: p.role.as_str().to_owned(),
                is_admin: p.role == rampart_core::Role::Admin,
                is_staff: p.role.is_staff(),
            }),
        }
    }
}

/// Only same-site relative paths are accepted as a post-login destination,
/// so a crafted link cannot bounce a fresh session to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains(['\r', '\n'])
                && !n.starts_with("/logout") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Minimal syntactic email check: one `@`, something on each side, a dot in
/// the domain, no spaces. Deliverability is proven by sending mail, not here.
pub fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
                && !domain.contains('@')
                && s.len() <= 254
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_local() {
        assert_eq!(safe_next(Some("/findings?page=2")), "/findings?page=2");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn emails() {
        assert!(looks_like_email("a@example.com"));
        assert!(!looks_like_email("a@localhost"));
        assert!(!looks_like_email("a b@example.com"));
        assert!(!looks_like_email("@example.com"));
    }
}
