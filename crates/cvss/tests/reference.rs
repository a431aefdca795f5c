//! Random vectors (with temporal, threat, environmental and supplemental metrics) scored by
//! an independent implementation, Red Hat's Python `cvss` 3.6; see data/generate_reference.py.

use rampart_cvss::Cvss;

fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.is_empty())
        .map(|(i, line)| (i + 1, line.split('\t').collect()))
}

fn number(text: &str) -> f64 {
    text.parse().expect("reference scores are numbers")
}

#[test]
fn cvss_3_scores_match_the_reference_implementation() {
    let mut checked = 0;
    let mut with_environment = 0;
    for (line, fields) in rows(include_str!("data/reference_v3.tsv")) {
        let cvss = Cvss::parse(fields[0]).unwrap_or_else(|e| panic!("line {line}: {e}"));
        assert_eq!(
            cvss.base_score(),
            number(fields[1]),
            "base, line {line}: {}",
            fields[0]
        );
        assert_eq!(
            cvss.temporal_score().unwrap_or(cvss.base_score()),
            number(fields[2]),
            "temporal, line {line}: {}",
            fields[0]
        );
        // Only compared when the vector has environmental metrics: Rampart reports no
        // environmental score otherwise (in 3.1 the all-X environmental equation can differ
        // from the base score for Scope:Changed vectors, which would only confuse).
        if let Some(environmental) = cvss.environmental_score() {
            with_environment += 1;
            assert_eq!(
                environmental,
                number(fields[3]),
                "environmental, line {line}: {}",
                fields[0]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 2000);
    assert!(
        with_environment > 1000,
        "the sample exercises the environmental equations"
    );
}

#[test]
fn cvss_4_scores_match_the_reference_implementation() {
    let mut checked = 0;
    for (line, fields) in rows(include_str!("data/reference_v4.tsv")) {
        let cvss = Cvss::parse(fields[0]).unwrap_or_else(|e| panic!("line {line}: {e}"));
        assert_eq!(
            cvss.score(),
            number(fields[1]),
            "line {line}: {}",
            fields[0]
        );
        checked += 1;
    }
    assert_eq!(checked, 2000);
}

/// The full sweep, run by hand: every base vector (104,976 of CVSS 4.0, 2,592 each of 3.1
/// and 3.0) scored by the reference
/// implementation (`generate_reference.py --all-base > FILE`), compared one by one.
/// `RAMPART_CVSS_SWEEP=FILE cargo test -p rampart-cvss --test reference -- --ignored`
#[test]
#[ignore = "needs RAMPART_CVSS_SWEEP, a file the reference implementation writes"]
fn every_base_vector_matches_the_reference_implementation() {
    let path = std::env::var("RAMPART_CVSS_SWEEP").expect("RAMPART_CVSS_SWEEP names the file");
    let text = std::fs::read_to_string(&path).expect("read the sweep file");
    let mut checked = 0;
    for (line, fields) in rows(&text) {
        let cvss = Cvss::parse(fields[0]).unwrap_or_else(|e| panic!("line {line}: {e}"));
        assert_eq!(
            cvss.score(),
            number(fields[1]),
            "line {line}: {}",
            fields[0]
        );
        checked += 1;
    }
    assert_eq!(checked, 104_976 + 2 * 2_592);
}
