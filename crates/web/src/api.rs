//! The JSON API under `/api/v1`. Every handler here is listed in the OpenAPI
//! document ([`crate::openapi`]), and a test checks the two agree.

use crate::AppState;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::forms::{ApiCaller, client_ip};
use crate::routes::findings::{FindingsQuery, change_assignee, change_status, visible_finding};
use crate::views::iso_time;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::routing::{get, post};
use rampart_core::{Action, FindingStatus, NewFinding, Role, Severity};
use rampart_store::{Finding, IngestSummary};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::ToSchema;

pub fn router(state: &AppState) -> Router<AppState> {
    let upload_limit = DefaultBodyLimit::max(state.config.max_upload_bytes);
    Router::new()
        .route(
            "/findings",
            get(list_findings).post(ingest_findings).layer(upload_limit),
        )
        .route("/findings/sarif", post(ingest_sarif).layer(upload_limit))
        .route("/findings/{id}", get(get_finding))
        .route("/findings/{id}/status", post(set_status))
        .route("/findings/{id}/assignee", post(set_assignee))
        .route("/me", get(me))
        .merge(crate::programme_api::router())
        .merge(crate::mail_api::router())
        .route("/openapi.json", get(openapi_json))
}

/// The caller's address, for the audit log.
pub struct Ip(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for Ip {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Ip(client_ip(parts)))
    }
}

/// The request body, or the error that explains why it could not be read
/// (too large: 413; anything else: 400).
pub(crate) fn read_body(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => ApiError(AppError::PayloadTooLarge { limit }),
        other => ApiError(AppError::bad_request(None, other.body_text())),
    })
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = read_body(body, limit)?;
    // Every JSON body this API takes is an object; serde would otherwise
    // also accept a struct written as an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError(AppError::bad_request(
            None,
            "the body must be a JSON object",
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = (path != ".").then_some(path);
        ApiError(AppError::BadRequest {
            message: format!("invalid JSON: {inner}"),
            field,
        })
    })
}

/// Refuses query parameters an endpoint does not know: a misspelt filter
/// (`?severty=high`) silently ignored would return the wrong findings.
pub(crate) fn known_query(uri: &Uri, allowed: &[&str]) -> Result<(), ApiError> {
    let Some(q) = uri.query() else {
        return Ok(());
    };
    for (k, _) in form_urlencoded::parse(q.as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            let hint = if allowed.is_empty() {
                "this endpoint takes no query parameters".to_owned()
            } else {
                format!("known parameters: {}", allowed.join(", "))
            };
            return Err(ApiError(AppError::bad_request(
                Some(&k),
                format!("unknown query parameter; {hint}"),
            )));
        }
    }
    Ok(())
}

pub(crate) fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        ApiError(AppError::bad_request(
            Some("id"),
            "must be a positive integer",
        ))
    })
}

/// A finding as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct FindingOut {
    pub id: i64,
    pub source: String,
    pub title: String,
    pub severity: Severity,
    pub status: FindingStatus,
    pub cvss_vector: Option<String>,
    pub cwe: Option<i64>,
    pub asset: Option<String>,
    pub location: Option<String>,
    pub rule_id: Option<String>,
    pub description: Option<String>,
    pub fingerprint: String,
    pub assignee_id: Option<i64>,
    pub assignee_email: Option<String>,
    /// RFC 3339 time of the first sighting.
    pub first_seen: String,
    /// RFC 3339 time of the latest sighting.
    pub last_seen: String,
    /// How many times the finding was reported.
    pub occurrences: i64,
}

impl From<Finding> for FindingOut {
    fn from(f: Finding) -> Self {
        FindingOut {
            id: f.id,
            source: f.source,
            title: f.title,
            severity: f.severity,
            status: f.status,
            cvss_vector: f.cvss_vector,
            cwe: f.cwe,
            asset: f.asset,
            location: f.location,
            rule_id: f.rule_id,
            description: f.description,
            fingerprint: f.fingerprint,
            assignee_id: f.assignee_id,
            assignee_email: f.assignee_email,
            first_seen: iso_time(f.first_seen),
            last_seen: iso_time(f.last_seen),
            occurrences: f.occurrences,
        }
    }
}

/// One page of findings.
#[derive(Serialize, ToSchema)]
pub struct FindingList {
    pub items: Vec<FindingOut>,
    /// Findings matching the filters, on all pages, counted up to 10,000.
    pub total: i64,
    /// False when more than 10,000 match: `total` is then a lower bound.
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

/// A finding to record.
#[derive(Deserialize, ToSchema)]
pub struct FindingIn {
    /// Where it comes from: `secrets`, `detection`, `audit`, `inspector`,
    /// `sarif`, `manual` or another lowercase name (a-z, 0-9, - and _).
    #[schema(pattern = r"^[a-z0-9_-]{1,32}$")]
    pub source: String,
    /// Up to 300 characters, not blank.
    #[schema(max_length = 300, pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$")]
    pub title: String,
    pub severity: Severity,
    /// A CVSS 3.0, 3.1 or 4.0 vector string.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^CVSS:(3\.0|3\.1|4\.0)/[!-~]*$")]
    pub cvss_vector: Option<String>,
    /// CWE number, without the `CWE-` prefix.
    #[serde(default, deserialize_with = "whole_number::option_u32")]
    #[schema(minimum = 1, maximum = 100000)]
    pub cwe: Option<u32>,
    #[serde(default)]
    #[schema(max_length = 65536, pattern = r"^[^\u0000]*$")]
    pub asset: Option<String>,
    #[serde(default)]
    #[schema(max_length = 65536, pattern = r"^[^\u0000]*$")]
    pub location: Option<String>,
    #[serde(default)]
    #[schema(max_length = 65536, pattern = r"^[^\u0000]*$")]
    pub rule_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 65536, pattern = r"^[^\u0000]*$")]
    pub description: Option<String>,
    /// Stable identity; the same fingerprint again counts as the same
    /// finding seen again. Derived from source, rule, asset and location
    /// when omitted.
    #[serde(default)]
    #[schema(pattern = r"^[!-~]{1,128}$")]
    pub fingerprint: Option<String>,
}

/// JSON Schema calls `79.0` an integer, so the API accepts whole-number
/// floats wherever it takes an integer.
mod whole_number {
    use serde::{Deserialize, Deserializer, de::Error};

    fn whole(v: serde_json::Number) -> Option<i64> {
        v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0)
                .map(|f| f as i64)
        })
    }

    pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match Option::<serde_json::Number>::deserialize(d)? {
            None => Ok(None),
            Some(n) => whole(n)
                .and_then(|v| u32::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected a whole number from 0 to 4294967295")),
        }
    }

    pub fn option_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<serde_json::Number>::deserialize(d)? {
            None => Ok(None),
            Some(n) => whole(n)
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected a whole number")),
        }
    }
}

/// A batch of findings.
#[derive(Deserialize, ToSchema)]
pub struct FindingBatch {
    #[schema(max_items = 50000)]
    pub findings: Vec<FindingIn>,
}

/// What an upload did.
#[derive(Serialize, ToSchema)]
pub struct IngestResult {
    /// Findings seen for the first time.
    pub created: u64,
    /// Known findings whose last-seen time and count went up.
    pub updated: u64,
    /// The finding id of each item, in the order sent.
    pub ids: Vec<i64>,
}

impl From<IngestSummary> for IngestResult {
    fn from(s: IngestSummary) -> Self {
        IngestResult {
            created: s.created,
            updated: s.updated,
            ids: s.ids,
        }
    }
}

/// Most findings one JSON batch may hold.
const MAX_BATCH: usize = 50_000;

#[utoipa::path(get, path = "/api/v1/findings", tag = "findings",
    params(FindingsQuery),
    responses(
        (status = 200, description = "Findings matching the filters, newest sighting first", body = FindingList),
        (status = 400, description = "A filter value is invalid", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks findings:read", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_findings(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
) -> Result<Json<FindingList>, ApiError> {
    if !who.can(Action::ReadFindings) {
        return Err(forbidden_scope(&who, Action::ReadFindings));
    }
    known_query(
        &uri,
        &[
            "source", "severity", "status", "asset", "assignee", "q", "sort", "page", "per_page",
        ],
    )?;
    let Query(q) = Query::<FindingsQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError(AppError::bad_request(None, e.body_text())))?;
    let filter = q.to_filter(&who, true)?;
    let page = state
        .store
        .list_findings(&filter, q.page.unwrap_or(1), q.per_page.unwrap_or(50))
        .await?;
    Ok(Json(FindingList {
        total: page.total,
        total_exact: page.total_exact,
        page: page.page,
        per_page: page.per_page,
        items: page.items.into_iter().map(FindingOut::from).collect(),
    }))
}

pub(crate) fn forbidden_scope(who: &crate::Principal, action: Action) -> ApiError {
    let scope = action.scope();
    if who.role.allows(action) {
        ApiError(AppError::Forbidden(format!(
            "this token lacks the {scope} scope; create one with it"
        )))
    } else {
        ApiError(AppError::Forbidden(format!(
            "the {} role cannot use this endpoint",
            who.role
        )))
    }
}

fn validate_batch(items: Vec<FindingIn>) -> Result<Vec<NewFinding>, ApiError> {
    if items.len() > MAX_BATCH {
        return Err(ApiError(AppError::bad_request(
            Some("findings"),
            format!("at most {MAX_BATCH} findings per request; split the batch"),
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let at = format!("findings[{i}]");
            let source = rampart_core::Source::new(&f.source).map_err(|e| {
                let e = e.at(&at);
                ApiError(AppError::bad_request(Some(&e.field), e.message))
            })?;
            let mut b = NewFinding::builder(source.as_str(), &f.title, f.severity);
            if let Some(v) = &f.cvss_vector {
                b = b.cvss_vector(v);
            }
            if let Some(v) = f.cwe {
                b = b.cwe(v);
            }
            if let Some(v) = &f.asset {
                b = b.asset(v);
            }
            if let Some(v) = &f.location {
                b = b.location(v);
            }
            if let Some(v) = &f.rule_id {
                b = b.rule_id(v);
            }
            if let Some(v) = &f.description {
                b = b.description(v);
            }
            if let Some(v) = &f.fingerprint {
                b = b.fingerprint(v);
            }
            let nf = b.build();
            nf.validate().map_err(|e| {
                let e = e.at(&at);
                ApiError(AppError::bad_request(Some(&e.field), e.message))
            })?;
            Ok(nf)
        })
        .collect()
}

async fn record_ingest(
    state: &AppState,
    who: &crate::Principal,
    ip: IpAddr,
    what: &str,
    s: &IngestSummary,
) -> Result<(), ApiError> {
    state.findings_changed(s.ids.len());
    crate::routes::audit(
        state,
        who,
        "findings.ingest",
        ("findings", "-".into()),
        format!("{what}: {} new, {} seen again", s.created, s.updated),
        ip,
    )
    .await?;
    metrics::counter!("rampart_findings_ingested_total", "kind" => "created").increment(s.created);
    metrics::counter!("rampart_findings_ingested_total", "kind" => "updated").increment(s.updated);
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/findings", tag = "findings",
    request_body = FindingBatch,
    responses(
        (status = 200, description = "Stored; known fingerprints were updated, not duplicated", body = IngestResult),
        (status = 400, description = "Malformed JSON or an invalid field, named in `field`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks findings:write", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn ingest_findings(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Ip(ip): Ip,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResult>, ApiError> {
    known_query(&uri, &[])?;
    if !who.can(Action::IngestFindings) {
        return Err(forbidden_scope(&who, Action::IngestFindings));
    }
    let batch: FindingBatch = parse_json(body, state.config.max_upload_bytes)?;
    let findings = validate_batch(batch.findings)?;
    let summary = state.store.ingest_findings(&findings, state.now()).await?;
    record_ingest(&state, &who, ip, "JSON batch", &summary).await?;
    Ok(Json(summary.into()))
}

/// Options for a SARIF upload.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SarifQuery {
    /// The asset (repository or service) the results belong to; defaults to
    /// the log's `versionControlProvenance` repository URI.
    #[param(max_length = 65536, pattern = r"^[^\u0000]*$")]
    pub asset: Option<String>,
    /// The source name to record; `sarif` by default.
    #[param(pattern = r"^[a-z0-9_-]{1,32}$")]
    pub source: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/findings/sarif", tag = "findings",
    params(SarifQuery),
    request_body(content = crate::openapi::SarifLog, description = "A SARIF 2.1.0 log", content_type = "application/json"),
    responses(
        (status = 200, description = "One finding per result; known fingerprints were updated", body = IngestResult),
        (status = 400, description = "Not SARIF 2.1.0; `field` names the JSON path at fault", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token lacks findings:write", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn ingest_sarif(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResult>, ApiError> {
    if !who.can(Action::IngestFindings) {
        return Err(forbidden_scope(&who, Action::IngestFindings));
    }
    known_query(&uri, &["asset", "source"])?;
    let Query(q) = Query::<SarifQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError(AppError::bad_request(None, e.body_text())))?;
    let limit = state.config.max_upload_bytes;
    let bytes = read_body(body, limit)?;
    if let Some(s) = q.source.as_deref() {
        rampart_core::Source::new(s)
            .map_err(|e| ApiError(AppError::bad_request(Some("source"), e.message)))?;
    }
    let opts = rampart_sarif::ReadOptions {
        asset: q.asset.filter(|a| !a.trim().is_empty()),
        source: q.source,
    };
    // Parsing a large log is CPU work; keep it off the async threads.
    let started = std::time::Instant::now();
    let findings = tokio::task::spawn_blocking(move || rampart_sarif::read_findings(&bytes, &opts))
        .await
        .map_err(|e| ApiError(AppError::Internal(e.to_string())))?
        .map_err(|e| {
            ApiError(AppError::BadRequest {
                field: Some(e.path.clone()),
                message: e.to_string(),
            })
        })?;
    let parsed = started.elapsed();
    let summary = state.store.ingest_findings(&findings, state.now()).await?;
    let stored = started.elapsed() - parsed;
    metrics::histogram!("rampart_ingest_seconds", "phase" => "sarif_parse")
        .record(parsed.as_secs_f64());
    metrics::histogram!("rampart_ingest_seconds", "phase" => "store").record(stored.as_secs_f64());
    tracing::info!(
        results = findings.len(),
        parse_ms = parsed.as_millis() as u64,
        store_ms = stored.as_millis() as u64,
        "SARIF log ingested"
    );
    record_ingest(&state, &who, ip, "SARIF", &summary).await?;
    Ok(Json(summary.into()))
}

#[utoipa::path(get, path = "/api/v1/findings/{id}", tag = "findings",
    params(("id" = i64, Path, description = "Finding id", minimum = 1, maximum = 9007199254740991_i64)),
    responses(
        (status = 200, description = "The finding", body = FindingOut),
        (status = 400, description = "The id is not a positive integer", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such finding, or not visible to the caller", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_finding(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Json<FindingOut>, ApiError> {
    known_query(&uri, &[])?;
    let id = parse_id(&id)?;
    Ok(Json(visible_finding(&state, &who, id).await?.into()))
}

/// A new status.
#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    pub status: FindingStatus,
}

#[utoipa::path(post, path = "/api/v1/findings/{id}/status", tag = "findings",
    params(("id" = i64, Path, description = "Finding id", minimum = 1, maximum = 9007199254740991_i64)),
    request_body = StatusChange,
    responses(
        (status = 200, description = "The finding after the change", body = FindingOut),
        (status = 400, description = "Invalid id or status", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not allowed to change findings", body = ErrorBody),
        (status = 404, description = "No such finding, or not visible to the caller", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn set_status(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Ip(ip): Ip,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FindingOut>, ApiError> {
    known_query(&uri, &[])?;
    let id = parse_id(&id)?;
    let change: StatusChange = parse_json(body, state.config.max_body_bytes)?;
    Ok(Json(
        change_status(&state, &who, id, change.status, ip)
            .await?
            .into(),
    ))
}

/// Who should work on the finding; `null` unassigns it.
#[derive(Deserialize, ToSchema)]
pub struct AssigneeChange {
    /// The id of an active staff account (admin, triager or engineer).
    #[serde(default, deserialize_with = "whole_number::option_i64")]
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub assignee_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/findings/{id}/assignee", tag = "findings",
    params(("id" = i64, Path, description = "Finding id", minimum = 1, maximum = 9007199254740991_i64)),
    request_body = AssigneeChange,
    responses(
        (status = 200, description = "The finding after the change", body = FindingOut),
        (status = 400, description = "Invalid id, or not an active staff account", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not allowed to assign findings", body = ErrorBody),
        (status = 404, description = "No such finding or user, or not visible to the caller", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn set_assignee(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    uri: Uri,
    Ip(ip): Ip,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FindingOut>, ApiError> {
    known_query(&uri, &[])?;
    let id = parse_id(&id)?;
    let change: AssigneeChange = parse_json(body, state.config.max_body_bytes)?;
    Ok(Json(
        change_assignee(&state, &who, id, change.assignee_id, ip)
            .await?
            .into(),
    ))
}

/// Who the API sees.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// The account's email; absent for a service token.
    pub email: Option<String>,
    pub role: Role,
    pub scopes: Vec<String>,
    /// `session` or `token`.
    pub via: String,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses(
        (status = 200, description = "The caller's identity, role and scopes", body = Me),
        (status = 400, description = "An unknown query parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Too many requests without a valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn me(ApiCaller(who): ApiCaller, uri: Uri) -> Result<Json<Me>, ApiError> {
    known_query(&uri, &[])?;
    Ok(Json(Me {
        email: who.email.clone(),
        role: who.role,
        scopes: who.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        via: match who.via {
            crate::Via::Session { .. } => "session".into(),
            crate::Via::Token { .. } => "token".into(),
        },
    }))
}

async fn openapi_json() -> impl axum::response::IntoResponse {
    Json(crate::openapi::document())
}
