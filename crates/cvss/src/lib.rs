//! CVSS vectors for Rampart: parse a CVSS 3.0, 3.1 or 4.0 vector string strictly, score it
//! and rate it (None, Low, Medium, High, Critical).
//!
//! ```
//! let cvss = rampart_cvss::Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")?;
//! assert_eq!(cvss.score(), 6.1);
//! assert_eq!(cvss.rating(), rampart_cvss::Rating::Medium);
//! # Ok::<(), rampart_cvss::CvssError>(())
//! ```
//!
//! CVSS 3.x is scored here, from the 3.1 specification's equations and its Roundup function
//! (Appendix A); 3.0 vectors use the 3.0 equations and rounding. CVSS 4.0 is scored by the
//! `cvss` crate (RustSec), which implements FIRST's MacroVector lookup and severity-distance
//! interpolation and is tested upstream against Red Hat's full vector sets; the parsing and
//! validation in front of it are Rampart's own, so every error names the metric.

mod error;
pub mod metrics;
mod v3;
mod v4;

pub use error::CvssError;
pub use metrics::{Group, MetricDef, MetricValue, V3_METRICS, V4_METRICS};

use serde::Serialize;
use std::fmt;

/// A CVSS version Rampart reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Version {
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "3.1")]
    V3_1,
    #[serde(rename = "4.0")]
    V4_0,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V3_0 => "3.0",
            Self::V3_1 => "3.1",
            Self::V4_0 => "4.0",
        }
    }

    /// The metrics this version defines, in specification order.
    pub fn metrics(self) -> &'static [MetricDef] {
        match self {
            Self::V3_0 | Self::V3_1 => V3_METRICS,
            Self::V4_0 => V4_METRICS,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The qualitative severity rating scale, identical in CVSS 3.x and 4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    /// The rating of a score: 0.0 None, 0.1–3.9 Low, 4.0–6.9 Medium, 7.0–8.9 High,
    /// 9.0–10.0 Critical. Scores carry one decimal, so the bands are cut half-way
    /// between tenths to be immune to floating-point representation.
    pub fn from_score(score: f64) -> Self {
        if score < 0.05 {
            Self::None
        } else if score < 3.95 {
            Self::Low
        } else if score < 6.95 {
            Self::Medium
        } else if score < 8.95 {
            Self::High
        } else {
            Self::Critical
        }
    }

    /// Lower-case name, as in JSON: `none`, `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The specification's word: `None`, `Low`, `Medium`, `High`, `Critical`.
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    /// The finding severity Rampart files a report under. CVSS "None" has no finding
    /// severity of its own; it is informational.
    pub fn finding_severity(self) -> rampart_core::Severity {
        match self {
            Self::None => rampart_core::Severity::Info,
            Self::Low => rampart_core::Severity::Low,
            Self::Medium => rampart_core::Severity::Medium,
            Self::High => rampart_core::Severity::High,
            Self::Critical => rampart_core::Severity::Critical,
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which metric groups a CVSS 4.0 score reflects (section 1.3 of the 4.0 specification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Nomenclature {
    #[serde(rename = "CVSS-B")]
    CvssB,
    #[serde(rename = "CVSS-BT")]
    CvssBT,
    #[serde(rename = "CVSS-BE")]
    CvssBE,
    #[serde(rename = "CVSS-BTE")]
    CvssBTE,
}

impl Nomenclature {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CvssB => "CVSS-B",
            Self::CvssBT => "CVSS-BT",
            Self::CvssBE => "CVSS-BE",
            Self::CvssBTE => "CVSS-BTE",
        }
    }
}

impl fmt::Display for Nomenclature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed and scored CVSS vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Cvss {
    version: Version,
    /// One slot per metric of `version.metrics()`, `None` where the vector omits it.
    values: Vec<Option<&'static MetricValue>>,
    base_score: f64,
    score: f64,
    temporal_score: Option<f64>,
    environmental_score: Option<f64>,
    nomenclature: Option<Nomenclature>,
}

/// What `rampart cvss --format json` and the API print for a vector.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub version: Version,
    pub vector: String,
    pub score: f64,
    pub severity: Rating,
    /// CVSS 4.0 only: which metric groups `score` reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nomenclature: Option<Nomenclature>,
    /// The score of the base metrics alone (equal to `score` for 3.x and for CVSS-B).
    pub base_score: f64,
    /// CVSS 3.x only, when the vector has temporal metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporal_score: Option<f64>,
    /// CVSS 3.x only, when the vector has environmental metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environmental_score: Option<f64>,
}

impl Cvss {
    /// Parses and scores a vector. Leading and trailing white space is ignored; everything
    /// else follows the specification: the `CVSS:3.x/` or `CVSS:4.0/` prefix, every base
    /// metric exactly once, known metrics and values only, upper case as specified. Metrics
    /// may come in any order (both specifications require readers to accept that).
    pub fn parse(input: &str) -> Result<Self, CvssError> {
        let (version, values) = parse_metrics(input)?;
        let mut cvss = Self {
            version,
            values,
            base_score: 0.0,
            score: 0.0,
            temporal_score: None,
            environmental_score: None,
            nomenclature: None,
        };
        match version {
            Version::V3_0 | Version::V3_1 => {
                let scores = v3::score(&cvss);
                cvss.base_score = scores.base;
                cvss.score = scores.base;
                cvss.temporal_score = cvss
                    .has_group_defined(Group::Temporal)
                    .then_some(scores.temporal);
                cvss.environmental_score = cvss
                    .has_group_defined(Group::Environmental)
                    .then_some(scores.environmental);
            }
            Version::V4_0 => {
                let threat = cvss.has_group_defined(Group::Threat);
                let environmental = cvss.has_group_defined(Group::Environmental);
                cvss.nomenclature = Some(match (threat, environmental) {
                    (false, false) => Nomenclature::CvssB,
                    (true, false) => Nomenclature::CvssBT,
                    (false, true) => Nomenclature::CvssBE,
                    (true, true) => Nomenclature::CvssBTE,
                });
                cvss.score = v4::score(&cvss, false)?;
                cvss.base_score = if threat || environmental {
                    v4::score(&cvss, true)?
                } else {
                    cvss.score
                };
            }
        }
        Ok(cvss)
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The score to show: the base score for CVSS 3.x; for CVSS 4.0 the score of all the
    /// metrics given, whose groups [`Cvss::nomenclature`] names.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// The rating of [`Cvss::score`].
    pub fn rating(&self) -> Rating {
        Rating::from_score(self.score)
    }

    /// The score of the base metrics alone.
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// CVSS 3.x temporal score, when the vector has a temporal metric other than `X`.
    pub fn temporal_score(&self) -> Option<f64> {
        self.temporal_score
    }

    /// CVSS 3.x environmental score, when the vector has an environmental metric other
    /// than `X`.
    pub fn environmental_score(&self) -> Option<f64> {
        self.environmental_score
    }

    /// CVSS 4.0 only.
    pub fn nomenclature(&self) -> Option<Nomenclature> {
        self.nomenclature
    }

    /// The value given for a metric (by abbreviation, e.g. `"AV"`), `None` if the vector
    /// omits it. An explicit `X` is returned as `"X"`.
    pub fn value(&self, metric: &str) -> Option<&'static str> {
        let index = self
            .version
            .metrics()
            .iter()
            .position(|m| m.abbrev == metric)?;
        self.values[index].map(|v| v.abbrev)
    }

    /// The value a metric takes for scoring: its given value, or `X` when omitted.
    pub(crate) fn effective(&self, metric: &str) -> &'static str {
        self.value(metric).unwrap_or("X")
    }

    /// The vector in canonical form: specification order, `X` values left out.
    pub fn normalized(&self) -> String {
        self.vector_of(|_| true)
    }

    /// The metrics whose group passes `keep`, as a vector string in specification order
    /// without `X` values.
    pub(crate) fn vector_of(&self, keep: impl Fn(Group) -> bool) -> String {
        let mut out = format!("CVSS:{}", self.version);
        for (def, value) in self.version.metrics().iter().zip(&self.values) {
            if let Some(value) = value
                && value.abbrev != "X"
                && keep(def.group)
            {
                out.push('/');
                out.push_str(def.abbrev);
                out.push(':');
                out.push_str(value.abbrev);
            }
        }
        out
    }

    fn has_group_defined(&self, group: Group) -> bool {
        self.version
            .metrics()
            .iter()
            .zip(&self.values)
            .any(|(def, value)| def.group == group && value.is_some_and(|v| v.abbrev != "X"))
    }

    /// The figures for display and JSON.
    pub fn summary(&self) -> Summary {
        Summary {
            version: self.version,
            vector: self.normalized(),
            score: self.score,
            severity: self.rating(),
            nomenclature: self.nomenclature,
            base_score: self.base_score,
            temporal_score: self.temporal_score,
            environmental_score: self.environmental_score,
        }
    }
}

/// Longest piece of user input quoted back in an error message.
const QUOTE_LIMIT: usize = 40;

fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

type Values = Vec<Option<&'static MetricValue>>;

fn parse_metrics(input: &str) -> Result<(Version, Values), CvssError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(CvssError::Empty);
    }
    let mut components = input.split('/');
    let prefix = components.next().unwrap_or_default();
    let version = parse_prefix(prefix, input)?;
    let table = version.metrics();
    let mut values: Values = vec![None; table.len()];
    for component in components {
        let Some((name, value)) = component.split_once(':') else {
            return Err(CvssError::MalformedComponent {
                component: quote(component),
            });
        };
        if name.is_empty() || value.is_empty() || value.contains(':') {
            return Err(CvssError::MalformedComponent {
                component: quote(component),
            });
        }
        let Some(index) = table.iter().position(|m| m.abbrev == name) else {
            if let Some(def) = table.iter().find(|m| m.abbrev.eq_ignore_ascii_case(name)) {
                let suggestion = match def
                    .values
                    .iter()
                    .find(|v| v.abbrev.eq_ignore_ascii_case(value))
                {
                    Some(v) => format!("{}:{}", def.abbrev, v.abbrev),
                    None => format!("{}:{}", def.abbrev, value.to_ascii_uppercase()),
                };
                return Err(CvssError::WrongCase {
                    component: quote(component),
                    suggestion: quote(&suggestion),
                });
            }
            return Err(CvssError::UnknownMetric {
                version,
                metric: quote(name),
            });
        };
        let def = &table[index];
        let Some(metric_value) = def.values.iter().find(|v| v.abbrev == value) else {
            if let Some(v) = def
                .values
                .iter()
                .find(|v| v.abbrev.eq_ignore_ascii_case(value))
            {
                return Err(CvssError::WrongCase {
                    component: quote(component),
                    suggestion: format!("{}:{}", def.abbrev, v.abbrev),
                });
            }
            return Err(CvssError::InvalidValue {
                version,
                metric: def.abbrev,
                name: def.name,
                value: quote(value),
                allowed: def.allowed_list(),
            });
        };
        if values[index].is_some() {
            return Err(CvssError::DuplicateMetric {
                metric: def.abbrev,
                name: def.name,
            });
        }
        values[index] = Some(metric_value);
    }
    let missing: Vec<_> = table
        .iter()
        .zip(&values)
        .filter(|(def, value)| def.mandatory && value.is_none())
        .map(|(def, _)| (def.abbrev, def.name))
        .collect();
    if !missing.is_empty() {
        return Err(CvssError::MissingMetrics { version, missing });
    }
    Ok((version, values))
}

fn parse_prefix(prefix: &str, input: &str) -> Result<Version, CvssError> {
    match prefix {
        "CVSS:3.0" => return Ok(Version::V3_0),
        "CVSS:3.1" => return Ok(Version::V3_1),
        "CVSS:4.0" => return Ok(Version::V4_0),
        _ => {}
    }
    let upper = prefix.to_ascii_uppercase();
    if matches!(upper.as_str(), "CVSS:3.0" | "CVSS:3.1" | "CVSS:4.0") {
        return Err(CvssError::WrongCase {
            component: quote(prefix),
            suggestion: upper,
        });
    }
    if let Some(version) = upper.strip_prefix("CVSS:") {
        return Err(CvssError::UnsupportedVersion {
            version: quote(version),
        });
    }
    // A CVSS 2 vector has no prefix and its own metrics, e.g. AV:N/AC:L/Au:N/C:P/I:P/A:P.
    if input.split('/').any(|c| c.starts_with("Au:")) {
        return Err(CvssError::UnsupportedVersion {
            version: "2".into(),
        });
    }
    Err(CvssError::MissingPrefix {
        found: quote(prefix),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(vector: &str) -> String {
        Cvss::parse(vector).expect_err(vector).to_string()
    }

    #[test]
    fn errors_name_the_metric_and_the_fix() {
        assert_eq!(
            err("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q"),
            "A (Availability) cannot be `Q`: CVSS 3.1 allows H, L, N"
        );
        assert_eq!(
            err("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"),
            "the vector lacks the mandatory base metric: A (Availability)"
        );
        assert_eq!(
            err("CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N"),
            "the vector lacks the mandatory base metrics: AT (Attack Requirements), \
             SA (Subsequent System Availability)"
        );
        assert_eq!(
            err("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            "AV (Attack Vector) appears more than once: give each metric once"
        );
        assert_eq!(
            err("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N"),
            "CVSS 3.1 has no metric named `AT`"
        );
        assert_eq!(
            err("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            "UI (User Interaction) cannot be `R`: CVSS 4.0 allows N, P, A"
        );
        assert_eq!(
            err("cvss:3.1/AV:N"),
            "`cvss:3.1` must be written in upper case as the specification defines it: `CVSS:3.1`"
        );
        assert_eq!(
            err("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red"),
            "`U:red` must be written in upper case as the specification defines it: `U:Red`"
        );
        assert!(err("CVSS:2.0/AV:N").contains("version 2.0 is not supported"));
        assert!(err("AV:N/AC:L/Au:N/C:P/I:P/A:P").contains("version 2 is not supported"));
        assert!(err("AV:N/AC:L/PR:N").contains("must start with `CVSS:3.1/`"));
        assert!(err("CVSS:3.1/AV:N//AC:L").contains("`` is not a metric"));
        assert!(err("CVSS:3.1/AV:N:L").contains("`AV:N:L` is not a metric"));
        assert_eq!(Cvss::parse("  "), Err(CvssError::Empty));
    }

    #[test]
    fn error_reports_the_metric_for_forms() {
        let e = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q").expect_err("bad");
        assert_eq!(e.metric(), Some("A"));
    }

    #[test]
    fn long_garbage_is_quoted_short() {
        let long = format!("CVSS:3.1/{}:N", "Z".repeat(10_000));
        assert!(err(&long).len() < 120);
    }

    #[test]
    fn any_order_is_accepted_and_normalised() {
        let a =
            Cvss::parse("CVSS:3.1/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X").expect("valid");
        assert_eq!(
            a.normalized(),
            "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/E:F"
        );
        assert_eq!(a.base_score(), 3.8);
        assert_eq!(a.temporal_score(), Some(3.7));
        assert_eq!(a.environmental_score(), None);
    }

    #[test]
    fn nomenclature_follows_the_groups_given() {
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        let n = |suffix: &str| {
            Cvss::parse(&format!("{base}{suffix}"))
                .expect("valid")
                .nomenclature()
        };
        assert_eq!(n(""), Some(Nomenclature::CvssB));
        assert_eq!(n("/E:X/CR:X"), Some(Nomenclature::CvssB));
        assert_eq!(n("/E:U"), Some(Nomenclature::CvssBT));
        assert_eq!(n("/MAV:L"), Some(Nomenclature::CvssBE));
        assert_eq!(n("/E:P/CR:H"), Some(Nomenclature::CvssBTE));
        // Supplemental metrics change neither nomenclature nor score.
        assert_eq!(n("/S:P/AU:Y/R:I/V:C/RE:H/U:Red"), Some(Nomenclature::CvssB));
    }

    #[test]
    fn cvss4_base_score_ignores_threat_and_environment() {
        let c = Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
            .expect("valid");
        assert_eq!(c.score(), 5.2);
        assert_eq!(c.base_score(), 7.7);
        assert_eq!(c.rating(), Rating::Medium);
    }

    #[test]
    fn rating_bands() {
        for (score, rating) in [
            (0.0, Rating::None),
            (0.1, Rating::Low),
            (3.9, Rating::Low),
            (4.0, Rating::Medium),
            (6.9, Rating::Medium),
            (7.0, Rating::High),
            (8.9, Rating::High),
            (9.0, Rating::Critical),
            (10.0, Rating::Critical),
        ] {
            assert_eq!(Rating::from_score(score), rating, "{score}");
        }
        assert_eq!(
            Rating::None.finding_severity(),
            rampart_core::Severity::Info
        );
    }

    #[test]
    fn summary_serialises_as_documented() {
        let c = Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .expect("valid");
        let json = serde_json::to_value(c.summary()).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({
                "version": "4.0",
                "vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                "score": 9.3,
                "severity": "critical",
                "nomenclature": "CVSS-B",
                "base_score": 9.3
            })
        );
    }
}
