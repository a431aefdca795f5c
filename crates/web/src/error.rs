use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rampart_store::StoreError;

/// An error a handler returns. Web pages render it as an HTML page, API
/// handlers (through [`ApiError`]) as JSON; either way the details of
/// internal failures are logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, or not visible to the caller: the two are never told apart.
    #[error("not found")]
    NotFound,
    #[error("sign in first")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than this endpoint accepts ({limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("too many requests; try again in {retry_after_s} seconds")]
    TooManyRequests { retry_after_s: u64 },
    /// Try again later (a temporary failure; nothing was stored).
    #[error("{message}")]
    Unavailable { message: String, retry_after_s: u64 },
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "Request failed");
                "Something went wrong on our side. It has been logged; please try again.".into()
            }
            other => other.to_string(),
        }
    }

    fn decorate(&self, resp: &mut Response) {
        if let AppError::TooManyRequests { retry_after_s }
        | AppError::Unavailable { retry_after_s, .. } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let AppError::Unauthorized = self {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rampart\""),
            );
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::InvalidText(m) => AppError::BadRequest {
                field: None,
                message: m,
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<rampart_auth::AuthError> for AppError {
    fn from(e: rampart_auth::AuthError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        let page = crate::views::ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: &message,
            signed_out: matches!(self, AppError::Unauthorized),
        };
        let body = askama::Template::render(&page).unwrap_or_else(|_| message.clone());
        let mut resp = (status, Html(body)).into_response();
        self.decorate(&mut resp);
        resp
    }
}

/// [`AppError`] rendered as JSON: `{"error": "...", "field": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// The body of every API error.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in plain words.
    pub error: String,
    /// The offending field or JSON path, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let field = match &self.0 {
            AppError::BadRequest { field, .. } => field.clone(),
            _ => None,
        };
        let body = ErrorBody {
            error: self.0.public_message(),
            field,
        };
        let mut resp = (status, Json(body)).into_response();
        self.0.decorate(&mut resp);
        resp
    }
}
