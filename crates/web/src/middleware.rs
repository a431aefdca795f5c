//! Middleware every request passes through: security headers, identifying
//! the caller, rate limits and CSRF checks. See the crate docs for the order.

use crate::error::{ApiError, AppError};
use crate::principal::{Principal, Via};
use crate::{AppState, cookies};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use rampart_auth::{TokenKind, constant_time_eq, new_token, token_digest};
use rampart_store::StoreError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

/// The Content-Security-Policy of every response: nothing but Rampart's own
/// files, no inline script or style, no framing, forms only to itself.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The client's address, after trusted proxies are accounted for.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// The CSRF token forms on this page must carry: the session's when signed
/// in, otherwise the pre-login cookie's.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// A session that gave its password but not yet its second factor.
#[derive(Debug, Clone)]
pub struct PendingMfa {
    pub id_hash: String,
    pub user_id: i64,
    pub email: String,
}

/// Set when the request carried a session cookie that is no longer valid,
/// so pages can say "your session expired" instead of a bare login form.
#[derive(Debug, Clone, Copy)]
pub struct SessionExpired;

/// Adds the security headers to every response that does not set its own.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(header::CACHE_CONTROL, "no-store");
    if state.config.hsts {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    resp
}

/// Works out the client address from the socket and, for trusted proxies
/// only, `X-Forwarded-For` (read right to left, skipping trusted hops).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .copied()
        .or_else(|| forwarded.first().copied())
        .unwrap_or(peer)
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn error_response(path: &str, e: AppError) -> Response {
    if is_api(path) {
        ApiError(e).into_response()
    } else {
        e.into_response()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

enum Identity {
    Principal(Principal),
    Pending(PendingMfa),
    Anonymous { expired: bool },
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Identity, AppError> {
    let now = state.now();
    if headers.contains_key(header::AUTHORIZATION) {
        let Some(token) = bearer(headers) else {
            return Ok(Identity::Anonymous { expired: false });
        };
        return match state.store.api_token_by_hash(&token_digest(token)).await {
            Ok(t) => {
                // Last use is kept to the minute: a busy CI token must not
                // turn every read into a write (and a round trip).
                if t.token.last_used_at.is_none_or(|at| now - at > 60_000) {
                    let _ = state.store.touch_api_token(t.token.id, now).await;
                }
                Ok(Identity::Principal(Principal {
                    user_id: t.token.user_id,
                    label: t
                        .owner_email
                        .clone()
                        .unwrap_or_else(|| format!("token:{}", t.token.name)),
                    email: t.owner_email,
                    role: t.role,
                    scopes: t.token.scopes,
                    via: Via::Token {
                        id: t.token.id,
                        name: t.token.name,
                    },
                }))
            }
            Err(StoreError::NotFound) => Ok(Identity::Anonymous { expired: false }),
            Err(e) => Err(e.into()),
        };
    }
    let secure = state.config.secure_cookies;
    let Some(cookie) = cookies::get(headers, cookies::session_name(secure)) else {
        return Ok(Identity::Anonymous { expired: false });
    };
    let id_hash = token_digest(cookie);
    match state.store.session_with_user(&id_hash, now).await {
        Ok(s) => {
            // Sliding expiry, written at most once a minute per session.
            if now - s.session.last_seen_at > 60_000 {
                state
                    .store
                    .touch_session(&id_hash, now, state.config.session_idle_ms)
                    .await?;
            }
            if s.session.mfa_pending != 0 {
                return Ok(Identity::Pending(PendingMfa {
                    id_hash,
                    user_id: s.user.id,
                    email: s.user.email,
                }));
            }
            Ok(Identity::Principal(Principal {
                user_id: Some(s.user.id),
                label: s.user.email.clone(),
                email: Some(s.user.email),
                role: s.user.role,
                scopes: rampart_core::ScopeSet::all(),
                via: Via::Session {
                    id_hash,
                    csrf: s.session.csrf_token,
                },
            }))
        }
        Err(StoreError::NotFound) => Ok(Identity::Anonymous { expired: true }),
        Err(e) => Err(e.into()),
    }
}

/// Identifies the caller (session cookie or bearer token), applies the rate
/// limit for anonymous callers, and makes the CSRF token available.
pub async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(peer, req.headers(), &state.config.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    let path = req.uri().path().to_owned();

    let identity = match resolve(&state, req.headers()).await {
        Ok(i) => i,
        Err(e) => return error_response(&path, e),
    };
    let secure = state.config.secure_cookies;
    let mut new_csrf_cookie = None;
    let mut clear_session_cookie = false;
    match identity {
        Identity::Principal(p) => {
            if let Some(csrf) = p.session_csrf() {
                req.extensions_mut().insert(CsrfToken(csrf.to_owned()));
            }
            req.extensions_mut().insert(p);
        }
        Identity::Pending(p) => {
            req.extensions_mut().insert(p);
            attach_anonymous_csrf(&mut req, secure, &mut new_csrf_cookie);
        }
        Identity::Anonymous { expired } => {
            // Static files and health checks are exempt: monitoring and page
            // assets must not eat the budget meant to slow guessing.
            let exempt =
                path.starts_with("/static/") || path == "/healthz" || path == "/favicon.ico";
            if !exempt && let Err(wait) = state.limits.check_anonymous(ip) {
                metrics::counter!("rampart_rate_limited_total", "limit" => "anonymous")
                    .increment(1);
                return error_response(
                    &path,
                    AppError::TooManyRequests {
                        retry_after_s: wait,
                    },
                );
            }
            if expired {
                req.extensions_mut().insert(SessionExpired);
                clear_session_cookie = true;
            }
            // Pages get a pre-login CSRF token; machine endpoints need none.
            if !exempt && !is_api(&path) && path != "/metrics" {
                attach_anonymous_csrf(&mut req, secure, &mut new_csrf_cookie);
            }
        }
    }
    let mut resp = next.run(req).await;
    if let Some(token) = new_csrf_cookie {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::csrf_name(secure), &token, secure, 12 * 3600),
        );
    }
    if clear_session_cookie && !resp.headers().contains_key(header::SET_COOKIE) {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::session_name(secure), "", secure, 0),
        );
    }
    resp
}

fn attach_anonymous_csrf(req: &mut Request, secure: bool, new_cookie: &mut Option<String>) {
    match cookies::get(req.headers(), cookies::csrf_name(secure)) {
        Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let v = v.to_owned();
            req.extensions_mut().insert(CsrfToken(v));
        }
        _ => {
            // First visit: issue a token. This request itself cannot pass a
            // state-changing check with it, because the form never had it.
            if let Ok(t) = new_token(TokenKind::Csrf) {
                req.extensions_mut().insert(FreshCsrf);
                req.extensions_mut().insert(CsrfToken(t.clone()));
                *new_cookie = Some(t);
            }
        }
    }
}

/// Marks a CSRF token issued during this request (not yet known to the client).
#[derive(Debug, Clone, Copy)]
struct FreshCsrf;

/// Refuses state-changing requests that rely on cookies but do not carry
/// the CSRF token, and any that the browser says came from another site.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    // A bearer token is never sent automatically by a browser, so a request
    // authenticated by one cannot be forged cross-site.
    if req.headers().contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    // An API call that carries no session is not riding on ambient
    // credentials, so there is nothing to forge; the handler answers 401.
    if is_api(&path) && req.extensions().get::<Principal>().is_none() {
        return next.run(req).await;
    }
    let forbidden = |why: &str| {
        metrics::counter!("rampart_csrf_rejected_total").increment(1);
        error_response(
            &path,
            AppError::Forbidden(format!("{why} Go back, reload the page and try again.")),
        )
    };
    if req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return forbidden("This request came from another site.");
    }
    let expected = match (
        req.extensions().get::<CsrfToken>(),
        req.extensions().get::<FreshCsrf>(),
    ) {
        (Some(t), None) => t.0.clone(),
        _ => return forbidden("The form's security token is missing (are cookies enabled?)."),
    };
    if let Some(h) = req.headers().get("x-csrf-token") {
        if constant_time_eq(h.as_bytes(), expected.as_bytes()) {
            return next.run(req).await;
        }
        return forbidden("The form's security token does not match.");
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        // Forms with files: the token is a field like any other. The body
        // is read once here (up to the upload limit) and handed on whole.
        let (parts, body) = req.into_parts();
        // Only the forms that take files may send large bodies; anywhere
        // else a multipart body gets the ordinary limit before the token
        // is even looked at.
        let takes_files = {
            let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
            matches!(
                segs.as_slice(),
                ["programs", _, "report"] | ["reports", _, "comment"]
            )
        };
        let limit = if takes_files {
            state.config.max_upload_bytes
        } else {
            state.config.max_body_bytes
        };
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return error_response(&path, AppError::PayloadTooLarge { limit });
        };
        return match multipart_field(&content_type, bytes.clone(), "csrf").await {
            Some(p) if constant_time_eq(p.as_bytes(), expected.as_bytes()) => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            Some(_) => {
                forbidden("The form's security token does not match; the page may be out of date.")
            }
            None => forbidden("The form's security token is missing."),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return forbidden("The form's security token is missing.");
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                &path,
                AppError::PayloadTooLarge {
                    limit: state.config.max_body_bytes,
                },
            );
        }
    };
    let provided = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    match provided {
        Some(p) if constant_time_eq(p.as_bytes(), expected.as_bytes()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Some(_) => {
            forbidden("The form's security token does not match; the page may be out of date.")
        }
        None => forbidden("The form's security token is missing."),
    }
}

/// The text of the first field called `name` in a multipart body, if any.
async fn multipart_field(
    content_type: &str,
    bytes: axum::body::Bytes,
    name: &str,
) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// Counts requests and their latency per route, for `/metrics`.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("rampart_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("rampart_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_only_believed_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(Some(stranger), &h, &trusted), stranger);
        assert_eq!(client_ip(Some(proxy), &h, &[]), proxy);
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
