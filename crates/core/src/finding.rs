use crate::Severity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Longest accepted finding title, in characters.
pub const MAX_TITLE_LEN: usize = 300;
/// Longest accepted free-text field (description, location, asset, rule
/// id), in characters.
pub const MAX_TEXT_LEN: usize = 65_536;
const MAX_FINGERPRINT_LEN: usize = 128;
const MAX_SOURCE_LEN: usize = 32;

/// Where a finding came from: `report`, `secrets`, `detection`, `audit`,
/// `inspector`, `sarif`, `manual`, or another short lowercase name for a new
/// integration. Kept open because every scanner added later is a new source,
/// and the store must not need a migration for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Source(String);

impl Source {
    /// Sources Rampart itself produces; offered first in filters.
    pub const KNOWN: [&'static str; 7] = [
        "report",
        "secrets",
        "detection",
        "audit",
        "inspector",
        "sarif",
        "manual",
    ];

    /// Validates a source name: 1–32 characters of `a-z`, `0-9`, `-`, `_`.
    pub fn new(name: &str) -> Result<Self, FindingValidationError> {
        let ok = !name.is_empty()
            && name.len() <= MAX_SOURCE_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Source(name.to_owned()))
        } else {
            Err(FindingValidationError::new(
                "source",
                "must be 1 to 32 characters of a-z, 0-9, '-' or '_' (for example \"sarif\")",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Source {
    type Error = FindingValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Source::new(&value)
    }
}

impl From<Source> for String {
    fn from(s: Source) -> String {
        s.0
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a finding is in its life, from first sighting to a verified fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    Triaged,
    InProgress,
    Resolved,
    Verified,
    RiskAccepted,
    FalsePositive,
    Duplicate,
}

/// A status name that Rampart does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown status {0:?}: use one of open, triaged, in_progress, resolved, verified, risk_accepted, false_positive, duplicate"
)]
pub struct UnknownStatus(pub String);

impl FindingStatus {
    pub const ALL: [FindingStatus; 8] = [
        FindingStatus::Open,
        FindingStatus::Triaged,
        FindingStatus::InProgress,
        FindingStatus::Resolved,
        FindingStatus::Verified,
        FindingStatus::RiskAccepted,
        FindingStatus::FalsePositive,
        FindingStatus::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Triaged => "triaged",
            FindingStatus::InProgress => "in_progress",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Verified => "verified",
            FindingStatus::RiskAccepted => "risk_accepted",
            FindingStatus::FalsePositive => "false_positive",
            FindingStatus::Duplicate => "duplicate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FindingStatus::Open => "Open",
            FindingStatus::Triaged => "Triaged",
            FindingStatus::InProgress => "In progress",
            FindingStatus::Resolved => "Resolved",
            FindingStatus::Verified => "Verified",
            FindingStatus::RiskAccepted => "Risk accepted",
            FindingStatus::FalsePositive => "False positive",
            FindingStatus::Duplicate => "Duplicate",
        }
    }

    /// Whether the finding still needs work. A finding that is seen again
    /// after it was resolved is reopened; one closed as accepted, false
    /// positive or duplicate stays closed, because seeing it again is expected.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            FindingStatus::Open | FindingStatus::Triaged | FindingStatus::InProgress
        )
    }

    /// The status a finding takes when its fingerprint arrives again.
    pub fn on_recurrence(self) -> FindingStatus {
        match self {
            FindingStatus::Resolved | FindingStatus::Verified => FindingStatus::Open,
            other => other,
        }
    }
}

impl fmt::Display for FindingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FindingStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FindingStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// A field of an incoming finding that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FindingValidationError {
    /// The JSON field name, so API errors can point at it.
    pub field: String,
    pub message: String,
}

impl FindingValidationError {
    pub fn new(field: &str, message: &str) -> Self {
        FindingValidationError {
            field: field.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Prefixes the field with the position in a batch (`findings[3].title`).
    pub fn at(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

/// A finding as a scanner or an API client reports it, before the store gives
/// it an id, a status and its first/last-seen times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFinding {
    pub source: Source,
    pub title: String,
    pub severity: Severity,
    pub cvss_vector: Option<String>,
    pub cwe: Option<u32>,
    pub asset: Option<String>,
    pub location: Option<String>,
    pub rule_id: Option<String>,
    pub description: Option<String>,
    /// Stable identity for deduplication: the same fingerprint arriving again
    /// is the same finding seen again.
    pub fingerprint: String,
}

impl NewFinding {
    /// Starts a finding; the fingerprint is derived unless one is set.
    pub fn builder(source: &str, title: &str, severity: Severity) -> NewFindingBuilder {
        NewFindingBuilder {
            source: source.to_owned(),
            title: title.to_owned(),
            severity,
            cvss_vector: None,
            cwe: None,
            asset: None,
            location: None,
            rule_id: None,
            description: None,
            fingerprint: None,
        }
    }

    /// Checks every field against Rampart's limits; the error names the field.
    pub fn validate(&self) -> Result<(), FindingValidationError> {
        for (field, value) in [
            ("title", Some(&self.title)),
            ("asset", self.asset.as_ref()),
            ("location", self.location.as_ref()),
            ("rule_id", self.rule_id.as_ref()),
            ("description", self.description.as_ref()),
        ] {
            // PostgreSQL cannot store NUL in text, and no scanner means it.
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(FindingValidationError::new(
                    field,
                    "must not contain NUL characters",
                ));
            }
        }
        if self.title.trim().is_empty() {
            return Err(FindingValidationError::new("title", "must not be empty"));
        }
        if self.title.chars().count() > MAX_TITLE_LEN {
            return Err(FindingValidationError::new(
                "title",
                &format!("must be at most {MAX_TITLE_LEN} characters"),
            ));
        }
        for (field, value) in [
            ("asset", &self.asset),
            ("location", &self.location),
            ("rule_id", &self.rule_id),
            ("description", &self.description),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_TEXT_LEN)
            {
                return Err(FindingValidationError::new(
                    field,
                    &format!("must be at most {MAX_TEXT_LEN} characters"),
                ));
            }
        }
        if let Some(v) = &self.cvss_vector {
            let looks_right = (v.starts_with("CVSS:3.0/")
                || v.starts_with("CVSS:3.1/")
                || v.starts_with("CVSS:4.0/"))
                && v.len() <= 200
                && v.bytes().all(|b| b.is_ascii_graphic());
            if !looks_right {
                return Err(FindingValidationError::new(
                    "cvss_vector",
                    "must be a CVSS 3.x or 4.0 vector string such as \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"",
                ));
            }
        }
        if let Some(cwe) = self.cwe
            && (cwe == 0 || cwe > 100_000)
        {
            return Err(FindingValidationError::new(
                "cwe",
                "must be a CWE number such as 79 (without the \"CWE-\" prefix)",
            ));
        }
        let fp = &self.fingerprint;
        if fp.is_empty()
            || fp.len() > MAX_FINGERPRINT_LEN
            || !fp.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(FindingValidationError::new(
                "fingerprint",
                "must be 1 to 128 printable ASCII characters without spaces",
            ));
        }
        Ok(())
    }
}

/// Builds a [`NewFinding`]; see [`NewFinding::builder`].
#[derive(Debug, Clone)]
pub struct NewFindingBuilder {
    source: String,
    title: String,
    severity: Severity,
    cvss_vector: Option<String>,
    cwe: Option<u32>,
    asset: Option<String>,
    location: Option<String>,
    rule_id: Option<String>,
    description: Option<String>,
    fingerprint: Option<String>,
}

impl NewFindingBuilder {
    pub fn asset(mut self, v: &str) -> Self {
        self.asset = Some(v.to_owned());
        self
    }
    pub fn location(mut self, v: &str) -> Self {
        self.location = Some(v.to_owned());
        self
    }
    pub fn rule_id(mut self, v: &str) -> Self {
        self.rule_id = Some(v.to_owned());
        self
    }
    pub fn description(mut self, v: &str) -> Self {
        self.description = Some(v.to_owned());
        self
    }
    pub fn cwe(mut self, v: u32) -> Self {
        self.cwe = Some(v);
        self
    }
    pub fn cvss_vector(mut self, v: &str) -> Self {
        self.cvss_vector = Some(v.to_owned());
        self
    }
    pub fn fingerprint(mut self, v: &str) -> Self {
        self.fingerprint = Some(v.to_owned());
        self
    }

    /// Finishes the finding. An invalid source name falls back to `manual`;
    /// call [`NewFinding::validate`] before storing anything built from input.
    pub fn build(self) -> NewFinding {
        let source = Source::new(&self.source).unwrap_or_else(|_| Source("manual".into()));
        let fingerprint = self.fingerprint.unwrap_or_else(|| {
            fingerprint_of(
                source.as_str(),
                self.rule_id.as_deref(),
                self.asset.as_deref(),
                self.location.as_deref(),
                &self.title,
            )
        });
        NewFinding {
            source,
            title: self.title,
            severity: self.severity,
            cvss_vector: self.cvss_vector,
            cwe: self.cwe,
            asset: self.asset,
            location: self.location,
            rule_id: self.rule_id,
            description: self.description,
            fingerprint,
        }
    }
}

/// The default fingerprint: SHA-256 over the fields that identify *what* and
/// *where*, not *when* or *how bad*, so a re-scored or re-worded severity does
/// not create a second finding. The rule id stands in for the title when
/// present, because scanners reword messages between versions but keep ids.
pub fn fingerprint_of(
    source: &str,
    rule_id: Option<&str>,
    asset: Option<&str>,
    location: Option<&str>,
    title: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        source,
        rule_id.unwrap_or(title.trim()),
        asset.unwrap_or(""),
        location.unwrap_or(""),
    ] {
        // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> NewFinding {
        NewFinding::builder("sarif", "XSS in search", Severity::Medium)
            .asset("web")
            .location("src/search.ts:10")
            .rule_id("js/xss")
            .build()
    }

    #[test]
    fn valid_sample_passes() {
        sample().validate().unwrap();
    }

    #[test]
    fn fingerprint_ignores_severity_and_rewording_when_rule_id_present() {
        let a = sample();
        let mut b = NewFinding::builder("sarif", "Cross-site scripting", Severity::High)
            .asset("web")
            .location("src/search.ts:10")
            .rule_id("js/xss")
            .build();
        assert_eq!(a.fingerprint, b.fingerprint);
        b = NewFinding::builder("sarif", "XSS in search", Severity::Medium)
            .asset("web")
            .location("src/search.ts:11")
            .rule_id("js/xss")
            .build();
        assert_ne!(a.fingerprint, b.fingerprint);
    }

    #[test]
    fn errors_name_the_field() {
        let mut f = sample();
        f.title = "  ".into();
        assert_eq!(f.validate().unwrap_err().field, "title");
        let mut f = sample();
        f.cvss_vector = Some("9.8".into());
        assert_eq!(f.validate().unwrap_err().field, "cvss_vector");
        let mut f = sample();
        f.cwe = Some(0);
        assert_eq!(f.validate().unwrap_err().field, "cwe");
        let mut f = sample();
        f.description = Some("a\0b".into());
        assert_eq!(f.validate().unwrap_err().field, "description");
        let mut f = sample();
        f.fingerprint = "has space".into();
        assert_eq!(f.validate().unwrap_err().field, "fingerprint");
        assert_eq!(
            f.validate().unwrap_err().at("findings[2]").field,
            "findings[2].fingerprint"
        );
    }

    #[test]
    fn source_names_are_restricted() {
        assert!(Source::new("secrets").is_ok());
        assert!(Source::new("Secrets").is_err());
        assert!(Source::new("").is_err());
        assert!(Source::new("a/b").is_err());
    }

    #[test]
    fn resolved_findings_reopen_on_recurrence_but_accepted_risk_stays() {
        assert_eq!(FindingStatus::Resolved.on_recurrence(), FindingStatus::Open);
        assert_eq!(FindingStatus::Verified.on_recurrence(), FindingStatus::Open);
        assert_eq!(
            FindingStatus::RiskAccepted.on_recurrence(),
            FindingStatus::RiskAccepted
        );
        assert_eq!(
            FindingStatus::FalsePositive.on_recurrence(),
            FindingStatus::FalsePositive
        );
    }

    proptest! {
        #[test]
        fn status_parse_never_panics(s in ".*") {
            let _ = s.parse::<FindingStatus>();
        }

        #[test]
        fn fingerprints_are_hex_and_distinguish_split_points(a in "[a-z]{0,8}", b in "[a-z]{1,8}") {
            let one = fingerprint_of("s", Some(&format!("{a}{b}")), None, None, "t");
            prop_assert_eq!(one.len(), 64);
            let split = fingerprint_of("s", Some(&a), Some(&b), None, "t");
            prop_assert_ne!(one, split);
        }

        #[test]
        fn validate_never_panics(title in ".{0,400}", fp in ".{0,200}", cwe in proptest::option::of(any::<u32>())) {
            let mut f = sample();
            f.title = title;
            f.fingerprint = fp;
            f.cwe = cwe;
            let _ = f.validate();
        }
    }
}
