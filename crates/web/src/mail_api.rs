//! `POST /api/v1/mail/inbound`: one RFC 5322 message handed in by a mail
//! gate (`rampart mailgate --url`), taken through the same intake as mail
//! written straight to the database. The answer tells the gate what to tell
//! its MTA: 200 with the outcome (taken, ignored, duplicate, refused with the
//! text for the bounce, or not a message at all), 503 try again later.
//! "Not a message" is an outcome, not a 400: any bytes are a well-formed
//! request to this endpoint (the OpenAPI document says so), and deciding that
//! they are no mail is the endpoint's job, like deciding they are a bounce.

use crate::AppState;
use crate::api::{Ip, forbidden_scope, known_query};
use crate::error::{ApiError, AppError, ErrorBody};
use crate::forms::ApiCaller;
use crate::principal::Via;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri, header};
use axum::routing::post;
use http_body_util::BodyExt;
use rampart_core::{Action, Role};
use rampart_mail::{Envelope, IntakeReport, Outcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    // The body is read here, as a stream with the intake's own limit, not
    // through the router-wide limit for forms and JSON.
    Router::new().route("/mail/inbound", post(inbound))
}

/// The SMTP envelope, as the MTA passed it to the gate.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboundQuery {
    /// The SMTP client's address, for SPF (Postfix: `${client_address}`).
    /// Anything that is not an IP address (Postfix's `unknown`) counts as
    /// unknown: SPF is then `none`.
    #[param(max_length = 255, pattern = r"^[^\u0000]*$")]
    pub client_ip: Option<String>,
    /// The client's HELO name (Postfix: `${client_helo}`).
    #[param(max_length = 255, pattern = r"^[^\u0000]*$")]
    pub helo: Option<String>,
    /// The envelope sender, MAIL FROM (Postfix: `${sender}`).
    #[param(max_length = 998, pattern = r"^[^\u0000]*$")]
    pub sender: Option<String>,
    /// The whole message's size in bytes, when the body holds only its
    /// beginning (a gate stops reading a message over its limit; the headers
    /// decide). Never smaller than the body.
    #[param(minimum = 0, maximum = 9007199254740991_i64)]
    pub size: Option<u64>,
}

/// What became of a message.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MailOutcome {
    /// A new report.
    NewReport,
    /// A comment on the report it answers.
    Comment,
    /// Automatic mail (auto-reply, bounce, loop): stored, never answered.
    Ignored,
    /// Not taken: `bounce` is the explanation for the sender.
    Refused,
    /// This Message-ID was taken before; nothing was done.
    Duplicate,
    /// Not an RFC 5322 message (empty, no header, no From address): nothing
    /// was stored; `reason` says what is missing. A gate bounces it.
    NotAMessage,
}

/// The outcome of one message, as `rampart mailgate --format json` prints it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MailInboundOut {
    pub outcome: MailOutcome,
    /// The mail-intake record (none for `not_a_message`).
    pub intake_id: Option<i64>,
    /// The Message-ID the message was taken under (or `sha256:` of its
    /// bytes; none for `not_a_message`).
    pub message_id: Option<String>,
    /// The report it became or was threaded into.
    pub report_id: Option<i64>,
    /// SPF, DKIM and DMARC: pass, fail, softfail, neutral, none, temperror, permerror.
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    /// What the team is warned about (e.g. `sender_checks_failed`).
    pub flags: Vec<String>,
    pub attachments_kept: u64,
    /// Files not kept, each with its reason.
    pub attachments_refused: Vec<String>,
    /// For a comment: the thread entry.
    pub event_id: Option<i64>,
    /// For a comment: `reply_address`, `in_reply_to` or `subject_token`.
    pub threaded_by: Option<String>,
    /// For ignored, refused and not-a-message: why.
    pub reason: Option<String>,
    /// For refused mail: the polite explanation to bounce with.
    pub bounce: Option<String>,
    /// For a duplicate: what the first copy became.
    pub previous_outcome: Option<String>,
}

impl From<&IntakeReport> for MailInboundOut {
    fn from(r: &IntakeReport) -> Self {
        let mut out = MailInboundOut {
            outcome: match r.outcome {
                Outcome::NewReport { .. } => MailOutcome::NewReport,
                Outcome::Comment { .. } => MailOutcome::Comment,
                Outcome::Ignored { .. } => MailOutcome::Ignored,
                Outcome::Refused { .. } => MailOutcome::Refused,
                Outcome::Duplicate { .. } => MailOutcome::Duplicate,
            },
            intake_id: Some(r.intake_id),
            message_id: Some(r.message_key.clone()),
            report_id: r.outcome.report_id(),
            spf: r.auth.spf.as_str().to_owned(),
            dkim: r.auth.dkim.as_str().to_owned(),
            dmarc: r.auth.dmarc.as_str().to_owned(),
            flags: r.flags.clone(),
            attachments_kept: u64::try_from(r.attachments_kept).unwrap_or(u64::MAX),
            attachments_refused: r.attachments_refused.clone(),
            event_id: None,
            threaded_by: None,
            reason: None,
            bounce: None,
            previous_outcome: None,
        };
        match &r.outcome {
            Outcome::Comment { event_id, by, .. } => {
                out.event_id = Some(*event_id);
                out.threaded_by = Some(by.as_str().to_owned());
            }
            Outcome::Ignored { reason } => out.reason = Some(reason.clone()),
            Outcome::Refused { reason, bounce } => {
                out.reason = Some(reason.clone());
                out.bounce = Some(bounce.clone());
            }
            Outcome::Duplicate { previous } => {
                out.previous_outcome = Some(previous.outcome.clone());
            }
            Outcome::NewReport { .. } => {}
        }
        out
    }
}

/// The body as sent, cut at `limit + 1` bytes (the rest is counted, up to a
/// bound, and dropped): over the limit, the headers are all the intake needs.
async fn read_limited(body: Body, limit: usize) -> Result<(Vec<u8>, usize), ApiError> {
    let keep = if limit == 0 {
        usize::MAX
    } else {
        limit.saturating_add(1)
    };
    // Past this, the connection is not worth draining.
    let count_up_to = if limit == 0 {
        usize::MAX
    } else {
        limit.saturating_mul(4)
    };
    let mut raw = Vec::new();
    let mut total = 0usize;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError(AppError::bad_request(
                None,
                format!("the message could not be read: {e}"),
            ))
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if raw.len() < keep {
            let room = keep - raw.len();
            raw.extend_from_slice(&data[..data.len().min(room)]);
        }
        if total > count_up_to {
            break;
        }
    }
    Ok((raw, total))
}

fn text_param(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError(AppError::bad_request(
            Some(name),
            format!("at most {max} characters"),
        ))),
        Some(v) if v.contains('\0') => Err(ApiError(AppError::bad_request(
            Some(name),
            "must not contain NUL characters",
        ))),
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

#[utoipa::path(post, path = "/api/v1/mail/inbound", tag = "mail",
    params(InboundQuery),
    request_body(
        description = "One RFC 5322 message, exactly as received (what an MTA pipes to `rampart mailgate`)",
        content(
            (String = "message/rfc822"),
            (String = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "Taken (new report or comment), ignored (automatic mail), a duplicate, refused (the `bounce` text explains why to the sender; the refusal is final), or not a message at all (nothing stored; `reason` says why)", body = MailInboundOut),
        (status = 400, description = "A bad envelope parameter, an unknown parameter, or another content type", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a triager's or administrator's token, or the token lacks reports:write", body = ErrorBody),
        (status = 429, description = "Too many messages from this token in a minute; try again after Retry-After seconds", body = ErrorBody),
        (status = 503, description = "A temporary failure (database or disk): nothing was stored; deliver the message again later", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn inbound(
    State(state): State<AppState>,
    ApiCaller(who): ApiCaller,
    Ip(ip): Ip,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<MailInboundOut>, ApiError> {
    if !matches!(who.role, Role::Admin | Role::Triager) {
        return Err(ApiError(AppError::Forbidden(format!(
            "the {} role cannot hand in mail: use a triager's or an administrator's token",
            who.role
        ))));
    }
    if !who.can(Action::WriteReports) {
        return Err(forbidden_scope(&who, Action::WriteReports));
    }
    let key = match &who.via {
        Via::Token { id, .. } => *id,
        Via::Session { .. } => -who.user_id.unwrap_or(0),
    };
    state.limits.check_mail(key).map_err(ApiError)?;
    known_query(&uri, &["client_ip", "helo", "sender", "size"])?;
    let Query(q) = Query::<InboundQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError(AppError::bad_request(None, e.body_text())))?;
    let client_ip = text_param("client_ip", q.client_ip, 255)?;
    let helo = text_param("helo", q.helo, 255)?;
    let sender = text_param("sender", q.sender, 998)?;
    if q.size.is_some_and(|s| s > 9_007_199_254_740_991) {
        return Err(ApiError(AppError::bad_request(
            Some("size"),
            "at most 9007199254740991",
        )));
    }
    // The body is required (the document says so): a request without a
    // content type has none, whatever its length.
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|ct| ct.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "message/rfc822" && essence != "application/octet-stream" {
        return Err(ApiError(AppError::bad_request(
            Some("content-type"),
            "send the message as it is, as the body, with Content-Type: message/rfc822",
        )));
    }
    let mut intake = state.mail_intake();
    let (raw, read) = read_limited(body, intake.config.max_message_bytes).await?;
    let claimed = q.size.and_then(|s| usize::try_from(s).ok()).unwrap_or(0);
    let total = if claimed > read {
        // The gate sent only the beginning, because the message is over its
        // own limit (it reads one byte past it): a cut message is never
        // taken as a report; it is refused, naming the gate's limit.
        let gate_limit = read.saturating_sub(1).max(1);
        let server = intake.config.max_message_bytes;
        intake.config.max_message_bytes = if server == 0 {
            gate_limit
        } else {
            server.min(gate_limit)
        };
        claimed
    } else {
        read
    };
    let receiver = url::Url::parse(&state.config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let env = Envelope {
        client_ip: client_ip.and_then(|c| c.trim().parse().ok()),
        helo,
        mail_from: sender,
        receiver,
    };
    match intake.take_sized(&raw, total, &env, state.now()).await {
        Ok(report) => {
            tracing::info!(
                outcome = report.outcome.as_str(),
                report_id = report.outcome.report_id(),
                message_id = %report.message_key,
                by = %who.label,
                %ip,
                "Mail handed in"
            );
            Ok(Json(MailInboundOut::from(&report)))
        }
        Err(e) if e.is_temporary() => {
            tracing::warn!(error = %e, "Mail handed in could not be taken; the gate will retry");
            // The details stay in the log, except the one the gate can act on.
            let why = match &e {
                rampart_mail::IntakeError::InProgress(_) => e.to_string(),
                _ => "a temporary failure on the server (logged there)".to_owned(),
            };
            Err(ApiError(AppError::Unavailable {
                message: format!("{why}; nothing was stored, deliver the message again later"),
                retry_after_s: 60,
            }))
        }
        Err(e) => Ok(Json(MailInboundOut {
            outcome: MailOutcome::NotAMessage,
            intake_id: None,
            message_id: None,
            report_id: None,
            spf: "none".into(),
            dkim: "none".into(),
            dmarc: "none".into(),
            flags: Vec::new(),
            attachments_kept: 0,
            attachments_refused: Vec::new(),
            event_id: None,
            threaded_by: None,
            reason: Some(e.to_string()),
            bounce: None,
            previous_outcome: None,
        })),
    }
}
