//! Health, metrics and static files.

use crate::AppState;
use crate::error::AppError;
use crate::forms::PageCtx;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rampart_core::Action;

/// `200 {"status":"ok"}` when the database answers, `503` otherwise; for
/// load balancers and monitoring, so it needs no authentication.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => {
            Json(serde_json::json!({"status": "ok", "database": state.store.backend().name()}))
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "Health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// Prometheus text format. Readable from the machine itself (a local
/// scraper or sidecar) or by an admin; counts are not public information.
pub async fn metrics(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let allowed = ctx.ip.is_loopback()
        || ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.can(Action::ReadAuditLog));
    if !allowed {
        return Err(AppError::NotFound);
    }
    let Some(handle) = &state.metrics else {
        return Err(AppError::NotFound);
    };
    for c in state.store.finding_status_counts().await? {
        metrics::gauge!("rampart_findings", "status" => c.status).set(c.count as f64);
    }
    metrics::gauge!("rampart_users").set(state.store.count_users().await? as f64);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
const CVSS_JS: &str = include_str!("../../static/cvss.js");
const ICON: &str = include_str!("../../static/icon.svg");

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        JS,
    )
        .into_response()
}

/// The CVSS calculator on the report form (Rampart's own script).
pub async fn cvss_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CVSS_JS,
    )
        .into_response()
}

/// Rampart's icon, also answered at `/favicon.ico` (browsers ask there first).
pub async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}
