//! What people type, checked before anything is stored. Every error names
//! the field (as the API calls it), so forms can show it beside the input
//! and API clients can point at it.

use rampart_core::{
    AssetType, BountyTable, DEFAULT_SAFE_HARBOUR, ResponseTargets, ScopeItem, Severity, Visibility,
    validate_slug,
};
use rampart_store::ProgrammeSettings;
use serde::Deserialize;

/// Longest programme name.
pub const MAX_NAME: usize = 120;
/// Longest report title.
pub const MAX_TITLE: usize = 200;
/// Longest Markdown text (policy, description, comments), in characters.
pub const MAX_MARKDOWN: usize = 100_000;
/// Most scope entries a programme may list.
pub const MAX_SCOPE: usize = 500;

/// A field that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl From<rampart_core::ProgrammeError> for FieldError {
    fn from(e: rampart_core::ProgrammeError) -> Self {
        FieldError {
            field: e.field,
            message: e.message,
        }
    }
}

/// One scope entry as typed.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    #[serde(rename = "type")]
    pub asset_type: String,
    pub identifier: String,
    pub in_scope: bool,
    #[serde(default)]
    pub max_severity: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Programme settings as an admin sends them.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    pub name: String,
    pub slug: String,
    pub visibility: String,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub rules: Option<String>,
    #[serde(default)]
    pub safe_harbour: Option<String>,
    #[serde(default)]
    pub scope: Option<Vec<ScopeInput>>,
    #[serde(default)]
    pub bounties: Option<BountyTable>,
    #[serde(default, deserialize_with = "rampart_core::whole::option_i64")]
    pub budget: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub targets: Option<ResponseTargets>,
    #[serde(default)]
    pub pause_on_breach: Option<bool>,
    #[serde(default, deserialize_with = "rampart_core::whole::option_i64")]
    pub needs_info_close_days: Option<i64>,
}

fn text(field: &str, v: &str, max: usize, required: bool) -> Result<String, FieldError> {
    if v.contains('\0') {
        return Err(FieldError::new(field, "must not contain NUL characters"));
    }
    let t = v.trim();
    if required && t.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    // The limit is on what was sent, as the API document states it
    // (`maxLength`), not on what is left after trimming.
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("is too long (at most {max} characters)"),
        ));
    }
    Ok(t.to_owned())
}

/// The same syntactic check the web layer uses for sign-up.
pub fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(|c: char| c.is_whitespace() || c == '\u{feff}')
                && !domain.contains('@')
                && s.len() <= 254
        }
        None => false,
    }
}

impl ProgrammeInput {
    /// Checks every field and fills in Rampart's defaults.
    pub fn validate(&self) -> Result<ProgrammeSettings, FieldError> {
        let name = text("name", &self.name, MAX_NAME, true)?;
        let slug = self.slug.trim().to_owned();
        validate_slug(&slug)?;
        let visibility: Visibility = self.visibility.trim().parse()?;
        let policy = text(
            "policy",
            self.policy.as_deref().unwrap_or(""),
            MAX_MARKDOWN,
            false,
        )?;
        let summary = text(
            "summary",
            self.summary.as_deref().unwrap_or(""),
            1000,
            false,
        )?;
        let rules = text(
            "rules",
            self.rules.as_deref().unwrap_or(""),
            MAX_MARKDOWN,
            false,
        )?;
        let safe_harbour = match self.safe_harbour.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_SAFE_HARBOUR.to_owned(),
            Some(s) => text("safe_harbour", s, MAX_MARKDOWN, true)?,
        };
        let scope_in = self.scope.as_deref().unwrap_or(&[]);
        if scope_in.len() > MAX_SCOPE {
            return Err(FieldError::new(
                "scope",
                format!("at most {MAX_SCOPE} entries"),
            ));
        }
        let mut scope = Vec::with_capacity(scope_in.len());
        for (i, s) in scope_in.iter().enumerate() {
            let at = |f: &str| format!("scope[{i}].{f}");
            let asset_type: AssetType =
                s.asset_type
                    .trim()
                    .parse()
                    .map_err(|e: rampart_core::ProgrammeError| {
                        FieldError::new(&at("type"), e.message)
                    })?;
            let identifier = text(&at("identifier"), &s.identifier, 500, true)?;
            let max_severity = match s.max_severity.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(
                    v.parse::<Severity>()
                        .map_err(|e| FieldError::new(&at("max_severity"), e.to_string()))?,
                ),
            };
            // Only in-scope assets have a maximum severity; one given for an
            // excluded asset means nothing and is dropped.
            let max_severity = max_severity.filter(|_| s.in_scope);
            let note = text(&at("note"), s.note.as_deref().unwrap_or(""), 1000, false)?;
            scope.push(ScopeItem {
                asset_type,
                identifier,
                in_scope: s.in_scope,
                max_severity,
                note,
            });
        }
        let bounties = self.bounties.unwrap_or_default();
        bounties.validate()?;
        if let Some(b) = self.budget
            && !(0..=1_000_000_000).contains(&b)
        {
            return Err(FieldError::new(
                "budget",
                "must be a whole amount from 0 to 1000000000",
            ));
        }
        let email = match self.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) if looks_like_email(e) => Some(e.to_lowercase()),
            Some(_) => {
                return Err(FieldError::new(
                    "email",
                    "is not an email address (e.g. security@example.com)",
                ));
            }
        };
        let currency = self
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or("USD")
            .to_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "currency",
                "use a three-letter ISO 4217 code such as USD or EUR",
            ));
        }
        let targets = self.targets.unwrap_or_default();
        targets.validate()?;
        let needs_info_close_days = self.needs_info_close_days.unwrap_or(30);
        if !(1..=365).contains(&needs_info_close_days) {
            return Err(FieldError::new(
                "needs_info_close_days",
                "must be from 1 to 365 days",
            ));
        }
        Ok(ProgrammeSettings {
            slug,
            name,
            summary,
            policy,
            rules,
            safe_harbour,
            visibility,
            email,
            currency,
            bounties,
            budget: self.budget,
            targets,
            pause_on_breach: self.pause_on_breach.unwrap_or(false),
            needs_info_close_days,
            scope,
        })
    }
}

/// A report as a researcher submits it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub steps: Option<String>,
    #[serde(default)]
    pub impact: Option<String>,
    #[serde(default)]
    pub asset: Option<String>,
    #[serde(default, deserialize_with = "rampart_core::whole::option_u32")]
    pub cwe: Option<u32>,
    #[serde(default)]
    pub cvss_vector: Option<String>,
}

/// A report after its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedReport {
    pub title: String,
    pub description: String,
    pub steps: String,
    pub impact: String,
    pub asset: Option<String>,
    pub cwe: Option<u32>,
    /// Normalised (metrics in the specification's order).
    pub cvss_vector: Option<String>,
    /// From the vector's base score.
    pub severity: Option<Severity>,
}

impl ReportInput {
    pub fn validate(&self) -> Result<CheckedReport, FieldError> {
        let title = text("title", &self.title, MAX_TITLE, true)?;
        let description = text("description", &self.description, MAX_MARKDOWN, true)?;
        let steps = text(
            "steps",
            self.steps.as_deref().unwrap_or(""),
            MAX_MARKDOWN,
            false,
        )?;
        let impact = text(
            "impact",
            self.impact.as_deref().unwrap_or(""),
            MAX_MARKDOWN,
            false,
        )?;
        let asset = match self.asset.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(text("asset", a, 500, true)?),
        };
        if let Some(c) = self.cwe
            && !(1..=100_000).contains(&c)
        {
            return Err(FieldError::new("cwe", "use a CWE number such as 79"));
        }
        let (cvss_vector, severity) = match self.cvss_vector.as_deref().map(str::trim) {
            None | Some("") => (None, None),
            Some(v) => {
                let cvss = rampart_cvss::Cvss::parse(v)
                    .map_err(|e| FieldError::new("cvss_vector", e.to_string()))?;
                (
                    Some(cvss.normalized()),
                    Some(cvss.rating().finding_severity()),
                )
            }
        };
        Ok(CheckedReport {
            title,
            description,
            steps,
            impact,
            asset,
            cwe: self.cwe,
            cvss_vector,
            severity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programme() -> ProgrammeInput {
        ProgrammeInput {
            name: "Acme".into(),
            slug: "acme".into(),
            visibility: "private".into(),
            scope: Some(vec![ScopeInput {
                asset_type: "wildcard_domain".into(),
                identifier: "*.acme.test".into(),
                in_scope: true,
                max_severity: Some("critical".into()),
                note: None,
            }]),
            bounties: Some(BountyTable {
                critical: 1000,
                high: 500,
                medium: 100,
                low: 50,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let s = programme().validate().expect("valid");
        assert_eq!(s.safe_harbour, DEFAULT_SAFE_HARBOUR);
        assert_eq!(s.targets, ResponseTargets::default());
        assert_eq!(s.currency, "USD");
        assert_eq!(s.needs_info_close_days, 30);
        assert_eq!(s.scope[0].max_severity, Some(Severity::Critical));
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(ProgrammeInput, &str)> = vec![
            (
                ProgrammeInput {
                    name: " ".into(),
                    ..programme()
                },
                "name",
            ),
            (
                ProgrammeInput {
                    slug: "Not A Slug".into(),
                    ..programme()
                },
                "slug",
            ),
            (
                ProgrammeInput {
                    visibility: "hidden".into(),
                    ..programme()
                },
                "visibility",
            ),
            (
                ProgrammeInput {
                    email: Some("nope".into()),
                    ..programme()
                },
                "email",
            ),
            (
                ProgrammeInput {
                    currency: Some("dollars".into()),
                    ..programme()
                },
                "currency",
            ),
            (
                ProgrammeInput {
                    scope: Some(vec![ScopeInput {
                        asset_type: "planet".into(),
                        identifier: "mars".into(),
                        in_scope: true,
                        max_severity: None,
                        note: None,
                    }]),
                    ..programme()
                },
                "scope[0].type",
            ),
            (
                ProgrammeInput {
                    bounties: Some(BountyTable {
                        critical: -1,
                        high: 5,
                        medium: 0,
                        low: 0,
                    }),
                    ..programme()
                },
                "bounties.critical",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(input.validate().expect_err(field).field, field);
        }
    }

    #[test]
    fn reports_take_their_severity_from_the_vector() {
        let r = ReportInput {
            title: "XSS".into(),
            description: "Reflected".into(),
            cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".into()),
            ..Default::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(r.severity, Some(Severity::Medium));
        let bad = ReportInput {
            title: "XSS".into(),
            description: "Reflected".into(),
            cvss_vector: Some("CVSS:3.1/AV:X".into()),
            ..Default::default()
        }
        .validate()
        .expect_err("bad vector");
        assert_eq!(bad.field, "cvss_vector");
        let blank = ReportInput {
            title: "".into(),
            description: "x".into(),
            ..Default::default()
        };
        assert_eq!(blank.validate().expect_err("title").field, "title");
        // The limit counts what was sent, padding included (as the API's
        // maxLength does).
        let padded = ReportInput {
            title: format!("  {}", "x".repeat(199)),
            description: "x".into(),
            ..Default::default()
        };
        assert_eq!(padded.validate().expect_err("too long").field, "title");
    }
}
