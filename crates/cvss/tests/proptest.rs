//! Property tests: no input panics the parser, and every valid vector scores in range with
//! the rating of its band, whatever the order of its metrics.

use proptest::prelude::*;
use rampart_cvss::{Cvss, Rating, Version};

/// A valid vector of `version`: every base metric, each optional metric with probability
/// one half, shuffled into any order.
fn valid_vector(version: Version) -> impl Strategy<Value = String> {
    let table = version.metrics();
    let choices: Vec<_> = table
        .iter()
        .map(|def| {
            let values: Vec<Option<&'static str>> =
                def.values.iter().map(|v| Some(v.abbrev)).collect();
            let pick = proptest::sample::select(values);
            if def.mandatory {
                pick.boxed()
            } else {
                prop_oneof![Just(None), pick].boxed()
            }
        })
        .collect();
    (choices, any::<u64>()).prop_map(move |(values, seed)| {
        let mut parts: Vec<String> = table
            .iter()
            .zip(values)
            .filter_map(|(def, value)| value.map(|v| format!("{}:{}", def.abbrev, v)))
            .collect();
        // A deterministic shuffle from the seed: readers must accept any order.
        let mut state = seed | 1;
        for i in (1..parts.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            parts.swap(i, (state % (i as u64 + 1)) as usize);
        }
        format!("CVSS:{}/{}", version, parts.join("/"))
    })
}

fn any_version() -> impl Strategy<Value = Version> {
    prop_oneof![
        Just(Version::V3_0),
        Just(Version::V3_1),
        Just(Version::V4_0)
    ]
}

fn is_tenth(score: f64) -> bool {
    ((score * 10.0).round() - score * 10.0).abs() < 1e-9
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        let _ = Cvss::parse(&input);
    }

    #[test]
    fn vector_like_strings_never_panic(input in "(CVSS:(3\\.[01]|4\\.0|2\\.0|x))?(/[A-Za-z]{0,4}(:[A-Za-z]{0,6})?){0,40}/?") {
        if let Ok(cvss) = Cvss::parse(&input) {
            prop_assert!((0.0..=10.0).contains(&cvss.score()));
        }
    }

    #[test]
    fn valid_vectors_score_in_range_with_matching_rating(
        (vector, _) in any_version().prop_flat_map(|v| (valid_vector(v), Just(v)))
    ) {
        let cvss = Cvss::parse(&vector).map_err(|e| TestCaseError::fail(format!("{vector}: {e}")))?;
        for score in [Some(cvss.score()), Some(cvss.base_score()), cvss.temporal_score(), cvss.environmental_score()].into_iter().flatten() {
            prop_assert!((0.0..=10.0).contains(&score), "{vector}: {score}");
            prop_assert!(is_tenth(score), "{vector}: {score}");
        }
        let expected = match cvss.score() {
            0.0 => Rating::None,
            s if s <= 3.9 => Rating::Low,
            s if s <= 6.9 => Rating::Medium,
            s if s <= 8.9 => Rating::High,
            _ => Rating::Critical,
        };
        prop_assert_eq!(cvss.rating(), expected);
        // The canonical form scores the same, and so does any order.
        let again = Cvss::parse(&cvss.normalized()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.score(), cvss.score());
        prop_assert_eq!(again.nomenclature(), cvss.nomenclature());
    }

    #[test]
    fn a_broken_component_is_refused_not_panicked(
        (vector, index, junk) in any_version().prop_flat_map(|v| (valid_vector(v), 1usize..40, "[A-Za-z0-9:]{0,5}"))
    ) {
        let mut parts: Vec<String> = vector.split('/').map(str::to_owned).collect();
        let index = index % parts.len();
        if index > 0 && parts[index] != junk {
            parts[index] = junk.clone();
            let broken = parts.join("/");
            // Either still valid (the junk happened to be a valid component) or an error,
            // never a panic; an error message is never empty.
            if let Err(e) = Cvss::parse(&broken) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
