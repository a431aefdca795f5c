//! CVSS 3.x in FIRST's JSON representation (the `cvss_v3` object CSAF 2.0 embeds), built
//! from a vector that `rampart-cvss` has parsed and scored, and the tables that the CSAF
//! checks use to compare such an object with its vector.

use rampart_cvss::{Cvss, Rating, Version};
use serde_json::{Map, Value, json};

/// How FIRST's JSON schema spells one metric: the vector abbreviation, the property name
/// and each value's abbreviation with its JSON value.
pub(crate) struct JsonMetric {
    pub abbrev: &'static str,
    pub property: &'static str,
    pub values: &'static [(&'static str, &'static str)],
}

const AV: &[(&str, &str)] = &[
    ("N", "NETWORK"),
    ("A", "ADJACENT_NETWORK"),
    ("L", "LOCAL"),
    ("P", "PHYSICAL"),
];
const LH: &[(&str, &str)] = &[("L", "LOW"), ("H", "HIGH")];
const NLH: &[(&str, &str)] = &[("N", "NONE"), ("L", "LOW"), ("H", "HIGH")];
const UI: &[(&str, &str)] = &[("N", "NONE"), ("R", "REQUIRED")];
const SCOPE: &[(&str, &str)] = &[("U", "UNCHANGED"), ("C", "CHANGED")];
const MAV: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("N", "NETWORK"),
    ("A", "ADJACENT_NETWORK"),
    ("L", "LOCAL"),
    ("P", "PHYSICAL"),
];
const MLH: &[(&str, &str)] = &[("X", "NOT_DEFINED"), ("L", "LOW"), ("H", "HIGH")];
const MNLH: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("N", "NONE"),
    ("L", "LOW"),
    ("H", "HIGH"),
];
const MUI: &[(&str, &str)] = &[("X", "NOT_DEFINED"), ("N", "NONE"), ("R", "REQUIRED")];
const MS: &[(&str, &str)] = &[("X", "NOT_DEFINED"), ("U", "UNCHANGED"), ("C", "CHANGED")];
const E: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("U", "UNPROVEN"),
    ("P", "PROOF_OF_CONCEPT"),
    ("F", "FUNCTIONAL"),
    ("H", "HIGH"),
];
const RL: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("O", "OFFICIAL_FIX"),
    ("T", "TEMPORARY_FIX"),
    ("W", "WORKAROUND"),
    ("U", "UNAVAILABLE"),
];
const RC: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("U", "UNKNOWN"),
    ("R", "REASONABLE"),
    ("C", "CONFIRMED"),
];
const REQ: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("L", "LOW"),
    ("M", "MEDIUM"),
    ("H", "HIGH"),
];

const fn metric(
    abbrev: &'static str,
    property: &'static str,
    values: &'static [(&'static str, &'static str)],
) -> JsonMetric {
    JsonMetric {
        abbrev,
        property,
        values,
    }
}

/// The CVSS 3.x metrics, in specification order.
pub(crate) const V3_JSON_METRICS: &[JsonMetric] = &[
    metric("AV", "attackVector", AV),
    metric("AC", "attackComplexity", LH),
    metric("PR", "privilegesRequired", NLH),
    metric("UI", "userInteraction", UI),
    metric("S", "scope", SCOPE),
    metric("C", "confidentialityImpact", NLH),
    metric("I", "integrityImpact", NLH),
    metric("A", "availabilityImpact", NLH),
    metric("E", "exploitCodeMaturity", E),
    metric("RL", "remediationLevel", RL),
    metric("RC", "reportConfidence", RC),
    metric("CR", "confidentialityRequirement", REQ),
    metric("IR", "integrityRequirement", REQ),
    metric("AR", "availabilityRequirement", REQ),
    metric("MAV", "modifiedAttackVector", MAV),
    metric("MAC", "modifiedAttackComplexity", MLH),
    metric("MPR", "modifiedPrivilegesRequired", MNLH),
    metric("MUI", "modifiedUserInteraction", MUI),
    metric("MS", "modifiedScope", MS),
    metric("MC", "modifiedConfidentialityImpact", MNLH),
    metric("MI", "modifiedIntegrityImpact", MNLH),
    metric("MA", "modifiedAvailabilityImpact", MNLH),
];

impl JsonMetric {
    /// The JSON value for a vector value, `NOT_DEFINED` for an omitted optional metric.
    pub fn json_value(&self, vector_value: Option<&str>) -> Option<&'static str> {
        let abbrev = vector_value.unwrap_or("X");
        self.values
            .iter()
            .find(|(a, _)| *a == abbrev)
            .map(|(_, json)| *json)
    }
}

/// `NONE`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`.
pub(crate) fn severity_word(score: f64) -> &'static str {
    match Rating::from_score(score) {
        Rating::None => "NONE",
        Rating::Low => "LOW",
        Rating::Medium => "MEDIUM",
        Rating::High => "HIGH",
        Rating::Critical => "CRITICAL",
    }
}

/// FIRST's JSON object for a CVSS 3.x vector, `None` for CVSS 4.0. Every metric in the
/// normalised vector is spelled out; scores are those `rampart-cvss` computes.
pub(crate) fn cvss_v3_object(cvss: &Cvss) -> Option<Value> {
    let version = match cvss.version() {
        Version::V3_0 => "3.0",
        Version::V3_1 => "3.1",
        Version::V4_0 => return None,
    };
    let mut object = Map::new();
    object.insert("version".into(), json!(version));
    object.insert("vectorString".into(), json!(cvss.normalized()));
    for metric in V3_JSON_METRICS {
        let Some(value) = cvss.value(metric.abbrev).filter(|v| *v != "X") else {
            continue;
        };
        if let Some(word) = metric.json_value(Some(value)) {
            object.insert(metric.property.into(), json!(word));
        }
    }
    object.insert("baseScore".into(), json!(cvss.base_score()));
    object.insert(
        "baseSeverity".into(),
        json!(severity_word(cvss.base_score())),
    );
    if let Some(score) = cvss.temporal_score() {
        object.insert("temporalScore".into(), json!(score));
        object.insert("temporalSeverity".into(), json!(severity_word(score)));
    }
    if let Some(score) = cvss.environmental_score() {
        object.insert("environmentalScore".into(), json!(score));
        object.insert("environmentalSeverity".into(), json!(severity_word(score)));
    }
    Some(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_out_every_metric_of_the_vector() {
        let cvss = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P/MAV:A")
            .expect("valid vector");
        let object = cvss_v3_object(&cvss).expect("3.1 has an object");
        assert_eq!(object["version"], "3.1");
        assert_eq!(object["attackVector"], "NETWORK");
        assert_eq!(object["userInteraction"], "REQUIRED");
        assert_eq!(object["scope"], "CHANGED");
        assert_eq!(object["exploitCodeMaturity"], "PROOF_OF_CONCEPT");
        assert_eq!(object["modifiedAttackVector"], "ADJACENT_NETWORK");
        assert_eq!(object["baseScore"], 6.1);
        assert_eq!(object["baseSeverity"], "MEDIUM");
        assert!(object.get("temporalScore").is_some());
        assert!(object.get("environmentalScore").is_some());
        assert!(object.get("remediationLevel").is_none());
    }

    #[test]
    fn cvss4_has_no_first_v3_object() {
        let cvss = Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .expect("valid vector");
        assert!(cvss_v3_object(&cvss).is_none());
    }

    #[test]
    fn every_vector_value_has_a_json_word() {
        for metric in V3_JSON_METRICS {
            let def = rampart_cvss::V3_METRICS
                .iter()
                .find(|d| d.abbrev == metric.abbrev)
                .expect("metric exists in rampart-cvss");
            for value in def.values {
                assert!(
                    metric.json_value(Some(value.abbrev)).is_some(),
                    "{}:{}",
                    metric.abbrev,
                    value.abbrev
                );
            }
        }
    }
}
