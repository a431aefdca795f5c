//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the
//! handlers' annotations so it cannot drift from the code.

use crate::api;
use crate::error::ErrorBody;
use crate::mail_api as ma;
use crate::programme_api as pa;
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
        pa::list_programs,
        pa::create_program,
        pa::get_program,
        pa::launch_program,
        pa::invite,
        pa::accept_invitation,
        pa::decline_invitation,
        pa::submit_report,
        pa::list_reports,
        pa::get_report,
        pa::add_comment,
        pa::change_state,
        pa::award_bounty,
        pa::set_severity,
        pa::disclosure,
        pa::duplicates,
        pa::list_notifications,
        ma::inbound,
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
        pa::ProgramOut,
        pa::ProgramIn,
        pa::ScopeIn,
        pa::ScopeOut,
        pa::InvitationIn,
        pa::InvitationOut,
        pa::InvitationAnswer,
        pa::ReportIn,
        pa::ReportOut,
        pa::EventOut,
        pa::BountyOut,
        pa::CommentIn,
        pa::StateIn,
        pa::BountyIn,
        pa::SeverityIn,
        pa::NotificationOut,
        pa::DisclosureIn,
        pa::DuplicateOut,
        pa::DisclosureOut,
        ma::MailInboundOut,
        ma::MailOutcome,
        rampart_core::ReportState,
        rampart_core::Turn,
        rampart_core::Visibility,
        rampart_core::AssetType,
        rampart_core::BountyTable,
        rampart_core::ResponseTargets,
        ErrorBody,
        SarifLog,
        SarifRun,
        SarifTool,
        SarifDriver,
        SarifRule,
        SarifResult,
        SarifMessage,
        SarifLocation,
        SarifPhysicalLocation,
        SarifArtifactLocation,
        SarifRegion,
        SarifLevel,
        crate::routes::findings::SortKey,
        rampart_core::Severity,
        rampart_core::FindingStatus,
        rampart_core::Role,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "findings", description = "Findings from every source"),
        (name = "programmes", description = "Disclosure and bounty programmes, invitations"),
        (name = "reports", description = "Researcher reports, their threads, workflow and bounties"),
        (name = "account", description = "The caller"),
        (name = "mail", description = "The security@ mailbox: mail handed in by `rampart mailgate --url`"),
    ),
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

// The part of SARIF 2.1.0 that Rampart reads, for the API document. The
// server parses the JSON itself (see `rampart-sarif`) and ignores the many
// other properties a log may carry; these types only describe the input.

/// A SARIF 2.1.0 log.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifLog {
    #[schema(pattern = r"^2\.1\.0$")]
    version: String,
    runs: Vec<SarifRun>,
}

/// One run of one tool.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifRun {
    tool: SarifTool,
    #[schema(max_items = 200000)]
    results: Option<Vec<SarifResult>>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifTool {
    driver: SarifDriver,
}

/// The tool that produced the results.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifDriver {
    #[schema(max_length = 1000, pattern = r"^[^\u0000]*$")]
    name: String,
    rules: Option<Vec<SarifRule>>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifRule {
    #[schema(max_length = 1000, pattern = r"^[^\u0000]*$")]
    id: String,
}

/// How loudly the tool reports a result; used for the severity unless the
/// rule or result has a `security-severity` property.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum SarifLevel {
    None,
    Note,
    Warning,
    Error,
}

/// One result: becomes one finding.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifResult {
    #[serde(rename = "ruleId")]
    #[schema(max_length = 1000, pattern = r"^[^\u0000]*$")]
    rule_id: Option<String>,
    level: Option<SarifLevel>,
    message: SarifMessage,
    locations: Option<Vec<SarifLocation>>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifMessage {
    /// Not blank.
    #[schema(
        max_length = 65536,
        pattern = r"^[^\u0000]*[^\s\u0000\u0085][^\u0000]*$"
    )]
    text: String,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifLocation {
    #[serde(rename = "physicalLocation")]
    physical_location: Option<SarifPhysicalLocation>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifPhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact_location: Option<SarifArtifactLocation>,
    region: Option<SarifRegion>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifArtifactLocation {
    #[schema(max_length = 65000, pattern = r"^[^\u0000]*$")]
    uri: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SarifRegion {
    #[serde(rename = "startLine")]
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    start_line: Option<i64>,
}
