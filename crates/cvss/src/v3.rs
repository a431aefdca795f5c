//! CVSS 3.0 and 3.1 scoring: the equations of section 7 of the 3.1 specification (section 8
//! of 3.0) with the metric weights of its section 7.4.

use crate::{Cvss, Version};

pub(crate) struct Scores {
    pub base: f64,
    pub temporal: f64,
    pub environmental: f64,
}

/// Roundup as CVSS 3.1 Appendix A defines it: work on an integer of five decimals so that
/// a value like 4.000000000001, an artefact of floating point, rounds to 4.0 and not 4.1.
fn roundup_3_1(value: f64) -> f64 {
    let int_input = (value * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) as f64 + 1.0) / 10.0
    }
}

/// Roundup as CVSS 3.0 defines it: the smallest one-decimal number not below the input.
fn roundup_3_0(value: f64) -> f64 {
    (value * 10.0).ceil() / 10.0
}

fn weight(metric: &str, value: &str, scope_changed: bool) -> f64 {
    match (metric, value) {
        ("AV", "N") => 0.85,
        ("AV", "A") => 0.62,
        ("AV", "L") => 0.55,
        ("AV", "P") => 0.2,
        ("AC", "L") => 0.77,
        ("AC", "H") => 0.44,
        ("PR", "N") => 0.85,
        ("PR", "L") if scope_changed => 0.68,
        ("PR", "L") => 0.62,
        ("PR", "H") if scope_changed => 0.5,
        ("PR", "H") => 0.27,
        ("UI", "N") => 0.85,
        ("UI", "R") => 0.62,
        ("C" | "I" | "A", "H") => 0.56,
        ("C" | "I" | "A", "L") => 0.22,
        ("C" | "I" | "A", "N") => 0.0,
        ("E", "U") => 0.91,
        ("E", "P") => 0.94,
        ("E", "F") => 0.97,
        ("RL", "O") => 0.95,
        ("RL", "T") => 0.96,
        ("RL", "W") => 0.97,
        ("RC", "U") => 0.92,
        ("RC", "R") => 0.96,
        ("CR" | "IR" | "AR", "H") => 1.5,
        ("CR" | "IR" | "AR", "L") => 0.5,
        // Not Defined, High exploit maturity, Unavailable remediation, Confirmed report and
        // Medium requirements all weigh 1.
        _ => 1.0,
    }
}

pub(crate) fn score(cvss: &Cvss) -> Scores {
    let roundup = match cvss.version {
        Version::V3_0 => roundup_3_0,
        _ => roundup_3_1,
    };
    let get = |metric: &str| cvss.effective(metric);
    let w = |metric: &str, scope_changed: bool| weight(metric, get(metric), scope_changed);

    // Base score.
    let scope_changed = get("S") == "C";
    let iss = 1.0 - (1.0 - w("C", false)) * (1.0 - w("I", false)) * (1.0 - w("A", false));
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability =
        8.22 * w("AV", false) * w("AC", false) * w("PR", scope_changed) * w("UI", false);
    let base = if impact <= 0.0 {
        0.0
    } else if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };

    // Temporal score.
    let temporal_factor = w("E", false) * w("RL", false) * w("RC", false);
    let temporal = roundup(base * temporal_factor);

    // Environmental score: each modified metric falls back to its base metric when X.
    let modified = |metric: &'static str, base_metric: &'static str| -> &'static str {
        match get(metric) {
            "X" => get(base_metric),
            value => value,
        }
    };
    let m_scope_changed = modified("MS", "S") == "C";
    let mw = |metric: &'static str, base_metric: &'static str, changed: bool| {
        weight(base_metric, modified(metric, base_metric), changed)
    };
    let miss = (1.0
        - (1.0 - w("CR", false) * mw("MC", "C", false))
            * (1.0 - w("IR", false) * mw("MI", "I", false))
            * (1.0 - w("AR", false) * mw("MA", "A", false)))
    .min(0.915);
    let m_impact = if !m_scope_changed {
        6.42 * miss
    } else if cvss.version == Version::V3_0 {
        7.52 * (miss - 0.029) - 3.25 * (miss - 0.02).powi(15)
    } else {
        7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02).powi(13)
    };
    let m_exploitability = 8.22
        * mw("MAV", "AV", false)
        * mw("MAC", "AC", false)
        * mw("MPR", "PR", m_scope_changed)
        * mw("MUI", "UI", false);
    let environmental = if m_impact <= 0.0 {
        0.0
    } else if m_scope_changed {
        roundup(roundup((1.08 * (m_impact + m_exploitability)).min(10.0)) * temporal_factor)
    } else {
        roundup(roundup((m_impact + m_exploitability).min(10.0)) * temporal_factor)
    };

    Scores {
        base,
        temporal,
        environmental,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundup_follows_appendix_a() {
        assert_eq!(roundup_3_1(4.02), 4.1);
        assert_eq!(roundup_3_1(4.0), 4.0);
        // The artefact Appendix A exists for: must not become 4.1.
        assert_eq!(roundup_3_1(4.000_000_000_000_01), 4.0);
        // Half a unit of the fifth decimal above a tenth rounds up (round, not truncate).
        assert_eq!(roundup_3_1(4.100_007), 4.2);
        assert_eq!(roundup_3_1(0.0), 0.0);
        assert_eq!(roundup_3_1(9.999), 10.0);
        assert_eq!(roundup_3_0(4.02), 4.1);
        assert_eq!(roundup_3_0(4.0), 4.0);
    }
}
