//! Why a vector was refused, in words a reporter can act on.

use crate::Version;

/// A vector string that is not valid CVSS 3.0, 3.1 or 4.0.
///
/// Every message names the metric at fault (abbreviation and full name) and says what
/// would be accepted instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    #[error(
        "the CVSS vector is empty: paste a vector such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    )]
    Empty,

    #[error(
        "a CVSS vector must start with `CVSS:3.1/`, `CVSS:3.0/` or `CVSS:4.0/`, but this one starts with `{found}`"
    )]
    MissingPrefix { found: String },

    #[error(
        "CVSS version {version} is not supported: use a CVSS 3.1 or 4.0 vector (3.0 is accepted too)"
    )]
    UnsupportedVersion { version: String },

    #[error("`{component}` is not a metric: each part after the prefix must look like `AV:N`")]
    MalformedComponent { component: String },

    #[error(
        "`{component}` must be written in upper case as the specification defines it: `{suggestion}`"
    )]
    WrongCase {
        component: String,
        suggestion: String,
    },

    #[error("CVSS {version} has no metric named `{metric}`")]
    UnknownMetric { version: Version, metric: String },

    #[error("{metric} ({name}) cannot be `{value}`: CVSS {version} allows {allowed}")]
    InvalidValue {
        version: Version,
        metric: &'static str,
        name: &'static str,
        value: String,
        allowed: String,
    },

    #[error("{metric} ({name}) appears more than once: give each metric once")]
    DuplicateMetric {
        metric: &'static str,
        name: &'static str,
    },

    #[error("the vector lacks the mandatory base metric{}: {}", plural(.missing), describe(.missing))]
    MissingMetrics {
        version: Version,
        /// Abbreviation and full name of each missing base metric, in specification order.
        missing: Vec<(&'static str, &'static str)>,
    },

    /// The parser accepted the vector but the scoring library refused it. This means a
    /// mismatch between Rampart's metric tables and the library, not a user mistake.
    #[error("the vector could not be scored: {0}")]
    Unscorable(String),
}

impl CvssError {
    /// The abbreviation of the metric at fault, when one metric is (for highlighting the
    /// field in a form).
    pub fn metric(&self) -> Option<&str> {
        match self {
            Self::InvalidValue { metric, .. } | Self::DuplicateMetric { metric, .. } => {
                Some(metric)
            }
            Self::UnknownMetric { metric, .. } => Some(metric),
            Self::MissingMetrics { missing, .. } => missing.first().map(|(abbrev, _)| *abbrev),
            _ => None,
        }
    }
}

fn plural(missing: &[(&str, &str)]) -> &'static str {
    if missing.len() == 1 { "" } else { "s" }
}

fn describe(missing: &[(&str, &str)]) -> String {
    missing
        .iter()
        .map(|(abbrev, name)| format!("{abbrev} ({name})"))
        .collect::<Vec<_>>()
        .join(", ")
}
