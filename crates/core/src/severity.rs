use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. The order of the variants is the order of urgency
/// (`Critical` sorts first), so `Ord` can be used for "worst first" lists.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

/// A severity name that Rampart does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?}: use one of critical, high, medium, low, info")]
pub struct UnknownSeverity(pub String);

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name used in URLs, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
            Severity::Info => "Info",
        }
    }

    /// Rank used for sorting in SQL: 0 is the worst.
    pub fn rank(self) -> i64 {
        self as i64
    }

    /// The rating CVSS gives a base score (CVSS v3.1 and v4.0 share the bands).
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Info
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// Accepts Rampart's names and the common synonyms scanners use
    /// (`informational`, `moderate`, `note`, …) so imports don't fail on wording.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" => Ok(Severity::Critical),
            "high" | "error" => Ok(Severity::High),
            "medium" | "moderate" | "warning" => Ok(Severity::Medium),
            "low" | "note" => Ok(Severity::Low),
            "info" | "informational" | "none" => Ok(Severity::Info),
            _ => Err(UnknownSeverity(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_name() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
        }
    }

    #[test]
    fn worst_sorts_first() {
        let mut v = vec![
            Severity::Low,
            Severity::Critical,
            Severity::Info,
            Severity::High,
        ];
        v.sort();
        assert_eq!(
            v,
            [
                Severity::Critical,
                Severity::High,
                Severity::Low,
                Severity::Info
            ]
        );
    }

    #[test]
    fn cvss_bands() {
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(7.0), Severity::High);
        assert_eq!(Severity::from_cvss_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(0.1), Severity::Low);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Info);
    }

    #[test]
    fn rejects_unknown_names_with_the_choices() {
        let err = "severe".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("critical, high"));
    }
}
