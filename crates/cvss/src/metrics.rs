//! The metric tables of CVSS 3.x and 4.0: abbreviations, names and allowed values, in the
//! order the specifications list them. Parsing, error messages, the web form and the
//! documentation all read these tables, so a metric is described in exactly one place.

use serde::Serialize;

/// The metric group a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Base,
    /// CVSS 3.x only.
    Temporal,
    /// CVSS 4.0 only (it replaces 3.x's temporal group).
    Threat,
    Environmental,
    /// CVSS 4.0 only; these never change the score.
    Supplemental,
}

/// One value a metric may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MetricValue {
    /// As written in a vector, e.g. `N`.
    pub abbrev: &'static str,
    /// As shown to people, e.g. `Network`.
    pub name: &'static str,
}

/// One metric of a CVSS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MetricDef {
    /// As written in a vector, e.g. `AV`.
    pub abbrev: &'static str,
    /// As shown to people, e.g. `Attack Vector`.
    pub name: &'static str,
    pub group: Group,
    /// Base metrics must appear in every vector; all others default to Not Defined (`X`).
    pub mandatory: bool,
    pub values: &'static [MetricValue],
}

impl MetricDef {
    /// Whether `abbrev` is one of this metric's values (exact, case-sensitive).
    pub fn allows(&self, abbrev: &str) -> bool {
        self.values.iter().any(|v| v.abbrev == abbrev)
    }

    /// The allowed value abbreviations, joined for an error message: `N, A, L, P`.
    pub fn allowed_list(&self) -> String {
        self.values
            .iter()
            .map(|v| v.abbrev)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const fn v(abbrev: &'static str, name: &'static str) -> MetricValue {
    MetricValue { abbrev, name }
}

const fn m(
    abbrev: &'static str,
    name: &'static str,
    group: Group,
    values: &'static [MetricValue],
) -> MetricDef {
    MetricDef {
        abbrev,
        name,
        group,
        mandatory: matches!(group, Group::Base),
        values,
    }
}

const X: MetricValue = v("X", "Not Defined");

const CIA3: &[MetricValue] = &[v("H", "High"), v("L", "Low"), v("N", "None")];
const MCIA3: &[MetricValue] = &[X, v("H", "High"), v("L", "Low"), v("N", "None")];
const REQ: &[MetricValue] = &[X, v("H", "High"), v("M", "Medium"), v("L", "Low")];
const AV3: &[MetricValue] = &[
    v("N", "Network"),
    v("A", "Adjacent"),
    v("L", "Local"),
    v("P", "Physical"),
];
const MAV: &[MetricValue] = &[
    X,
    v("N", "Network"),
    v("A", "Adjacent"),
    v("L", "Local"),
    v("P", "Physical"),
];
const AC: &[MetricValue] = &[v("L", "Low"), v("H", "High")];
const MAC: &[MetricValue] = &[X, v("L", "Low"), v("H", "High")];
const PR: &[MetricValue] = &[v("N", "None"), v("L", "Low"), v("H", "High")];
const MPR: &[MetricValue] = &[X, v("N", "None"), v("L", "Low"), v("H", "High")];

/// CVSS 3.0 and 3.1 share one set of metrics (Table 15 of the 3.1 specification).
pub const V3_METRICS: &[MetricDef] = &[
    m("AV", "Attack Vector", Group::Base, AV3),
    m("AC", "Attack Complexity", Group::Base, AC),
    m("PR", "Privileges Required", Group::Base, PR),
    m(
        "UI",
        "User Interaction",
        Group::Base,
        &[v("N", "None"), v("R", "Required")],
    ),
    m(
        "S",
        "Scope",
        Group::Base,
        &[v("U", "Unchanged"), v("C", "Changed")],
    ),
    m("C", "Confidentiality", Group::Base, CIA3),
    m("I", "Integrity", Group::Base, CIA3),
    m("A", "Availability", Group::Base, CIA3),
    m(
        "E",
        "Exploit Code Maturity",
        Group::Temporal,
        &[
            X,
            v("H", "High"),
            v("F", "Functional"),
            v("P", "Proof-of-Concept"),
            v("U", "Unproven"),
        ],
    ),
    m(
        "RL",
        "Remediation Level",
        Group::Temporal,
        &[
            X,
            v("U", "Unavailable"),
            v("W", "Workaround"),
            v("T", "Temporary Fix"),
            v("O", "Official Fix"),
        ],
    ),
    m(
        "RC",
        "Report Confidence",
        Group::Temporal,
        &[
            X,
            v("C", "Confirmed"),
            v("R", "Reasonable"),
            v("U", "Unknown"),
        ],
    ),
    m(
        "CR",
        "Confidentiality Requirement",
        Group::Environmental,
        REQ,
    ),
    m("IR", "Integrity Requirement", Group::Environmental, REQ),
    m("AR", "Availability Requirement", Group::Environmental, REQ),
    m("MAV", "Modified Attack Vector", Group::Environmental, MAV),
    m(
        "MAC",
        "Modified Attack Complexity",
        Group::Environmental,
        MAC,
    ),
    m(
        "MPR",
        "Modified Privileges Required",
        Group::Environmental,
        MPR,
    ),
    m(
        "MUI",
        "Modified User Interaction",
        Group::Environmental,
        &[X, v("N", "None"), v("R", "Required")],
    ),
    m(
        "MS",
        "Modified Scope",
        Group::Environmental,
        &[X, v("U", "Unchanged"), v("C", "Changed")],
    ),
    m(
        "MC",
        "Modified Confidentiality",
        Group::Environmental,
        MCIA3,
    ),
    m("MI", "Modified Integrity", Group::Environmental, MCIA3),
    m("MA", "Modified Availability", Group::Environmental, MCIA3),
];

const CIA4: &[MetricValue] = &[v("H", "High"), v("L", "Low"), v("N", "None")];
const MCIA4: &[MetricValue] = &[X, v("H", "High"), v("L", "Low"), v("N", "None")];
const MSIA4: &[MetricValue] = &[
    X,
    v("S", "Safety"),
    v("H", "High"),
    v("L", "Low"),
    v("N", "Negligible"),
];
const UI4: &[MetricValue] = &[v("N", "None"), v("P", "Passive"), v("A", "Active")];
const MUI4: &[MetricValue] = &[X, v("N", "None"), v("P", "Passive"), v("A", "Active")];

/// CVSS 4.0 metrics in the order of Table 23 of the 4.0 specification.
pub const V4_METRICS: &[MetricDef] = &[
    m("AV", "Attack Vector", Group::Base, AV3),
    m("AC", "Attack Complexity", Group::Base, AC),
    m(
        "AT",
        "Attack Requirements",
        Group::Base,
        &[v("N", "None"), v("P", "Present")],
    ),
    m("PR", "Privileges Required", Group::Base, PR),
    m("UI", "User Interaction", Group::Base, UI4),
    m("VC", "Vulnerable System Confidentiality", Group::Base, CIA4),
    m("VI", "Vulnerable System Integrity", Group::Base, CIA4),
    m("VA", "Vulnerable System Availability", Group::Base, CIA4),
    m("SC", "Subsequent System Confidentiality", Group::Base, CIA4),
    m("SI", "Subsequent System Integrity", Group::Base, CIA4),
    m("SA", "Subsequent System Availability", Group::Base, CIA4),
    m(
        "E",
        "Exploit Maturity",
        Group::Threat,
        &[X, v("A", "Attacked"), v("P", "POC"), v("U", "Unreported")],
    ),
    m(
        "CR",
        "Confidentiality Requirement",
        Group::Environmental,
        REQ,
    ),
    m("IR", "Integrity Requirement", Group::Environmental, REQ),
    m("AR", "Availability Requirement", Group::Environmental, REQ),
    m("MAV", "Modified Attack Vector", Group::Environmental, MAV),
    m(
        "MAC",
        "Modified Attack Complexity",
        Group::Environmental,
        MAC,
    ),
    m(
        "MAT",
        "Modified Attack Requirements",
        Group::Environmental,
        &[X, v("N", "None"), v("P", "Present")],
    ),
    m(
        "MPR",
        "Modified Privileges Required",
        Group::Environmental,
        MPR,
    ),
    m(
        "MUI",
        "Modified User Interaction",
        Group::Environmental,
        MUI4,
    ),
    m(
        "MVC",
        "Modified Vulnerable System Confidentiality",
        Group::Environmental,
        MCIA4,
    ),
    m(
        "MVI",
        "Modified Vulnerable System Integrity",
        Group::Environmental,
        MCIA4,
    ),
    m(
        "MVA",
        "Modified Vulnerable System Availability",
        Group::Environmental,
        MCIA4,
    ),
    m(
        "MSC",
        "Modified Subsequent System Confidentiality",
        Group::Environmental,
        MCIA4,
    ),
    m(
        "MSI",
        "Modified Subsequent System Integrity",
        Group::Environmental,
        MSIA4,
    ),
    m(
        "MSA",
        "Modified Subsequent System Availability",
        Group::Environmental,
        MSIA4,
    ),
    m(
        "S",
        "Safety",
        Group::Supplemental,
        &[X, v("N", "Negligible"), v("P", "Present")],
    ),
    m(
        "AU",
        "Automatable",
        Group::Supplemental,
        &[X, v("N", "No"), v("Y", "Yes")],
    ),
    m(
        "R",
        "Recovery",
        Group::Supplemental,
        &[
            X,
            v("A", "Automatic"),
            v("U", "User"),
            v("I", "Irrecoverable"),
        ],
    ),
    m(
        "V",
        "Value Density",
        Group::Supplemental,
        &[X, v("D", "Diffuse"), v("C", "Concentrated")],
    ),
    m(
        "RE",
        "Vulnerability Response Effort",
        Group::Supplemental,
        &[X, v("L", "Low"), v("M", "Moderate"), v("H", "High")],
    ),
    m(
        "U",
        "Provider Urgency",
        Group::Supplemental,
        &[
            X,
            v("Clear", "Clear"),
            v("Green", "Green"),
            v("Amber", "Amber"),
            v("Red", "Red"),
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_specified_sizes_and_unique_names() {
        assert_eq!(V3_METRICS.len(), 8 + 3 + 11);
        assert_eq!(V4_METRICS.len(), 11 + 1 + 14 + 6);
        for table in [V3_METRICS, V4_METRICS] {
            for (i, a) in table.iter().enumerate() {
                assert!(table[i + 1..].iter().all(|b| b.abbrev != a.abbrev));
                assert_eq!(a.mandatory, !a.allows("X"), "{}", a.abbrev);
            }
        }
        assert_eq!(V4_METRICS.iter().filter(|m| m.mandatory).count(), 11);
    }
}
