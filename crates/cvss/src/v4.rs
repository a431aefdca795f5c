//! CVSS 4.0 scoring through the `cvss` crate, which implements FIRST's MacroVector
//! (EQ1–EQ6) lookup and severity-distance interpolation.

use crate::{Cvss, CvssError, Group};
use std::str::FromStr;

/// Scores the vector's base, threat and environmental metrics (or the base metrics alone).
/// Supplemental metrics never enter: they do not change a score, and leaving them out
/// keeps the library's own value parsing (which differs in case handling) out of the way.
pub(crate) fn score(cvss: &Cvss, base_only: bool) -> Result<f64, CvssError> {
    let vector = cvss.vector_of(|group| match group {
        Group::Base => true,
        Group::Threat | Group::Environmental => !base_only,
        Group::Temporal | Group::Supplemental => false,
    });
    let parsed =
        cvss::v4::Vector::from_str(&vector).map_err(|e| CvssError::Unscorable(e.to_string()))?;
    let value = parsed.score().value();
    if !(0.0..=10.0).contains(&value) {
        return Err(CvssError::Unscorable(format!(
            "the score {value} is outside 0.0 to 10.0"
        )));
    }
    Ok(value)
}
