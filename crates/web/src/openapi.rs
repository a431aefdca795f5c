//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the
//! handlers' annotations so it cannot drift from the code.

use crate::api;
use crate::error::ErrorBody;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rampart API",
        description = "Findings from every source in one place. Authenticate with `Authorization: Bearer TOKEN` (create tokens with `rampart token create` or on the Account page).",
    ),
    paths(
        api::list_findings,
        api::ingest_findings,
        api::ingest_sarif,
        api::get_finding,
        api::set_status,
        api::set_assignee,
        api::me,
    ),
    components(schemas(
        api::FindingOut,
        api::FindingList,
        api::FindingIn,
        api::FindingBatch,
        api::IngestResult,
        api::StatusChange,
        api::AssigneeChange,
        api::Me,
        ErrorBody,
        rampart_core::Severity,
        rampart_core::FindingStatus,
        rampart_core::Role,
    )),
    modifiers(&BearerAuth),
    tags((name = "findings", description = "Findings from every source"), (name = "account", description = "The caller")),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
