//! The labelled corpora as regression gates: recall and precision must both
//! stay at or above 95 %. `corpus` (bench/secrets_corpus_gen.py) was written
//! with the rules; `heldout` (bench/secrets_heldout_gen.py) was written by
//! someone who had not read them, and its first score (recall 0.886) led to
//! the rules that now pass it. bench/secrets_score.py prints the same figures
//! per provider, next to the peers'.
#![allow(clippy::unwrap_used)]

use rampart_secrets::Scanner;
use rampart_secrets::scan::{ScanOptions, scan_paths};
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[test]
fn corpus_recall_and_precision_stay_above_95_percent() {
    score("corpus", 60);
}

#[test]
fn heldout_recall_and_precision_stay_above_95_percent() {
    score("heldout", 150);
}

fn score(corpus: &str, min_labels: usize) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let labels_text = std::fs::read_to_string(data.join(format!("{corpus}-labels.tsv"))).unwrap();
    let mut labelled: HashMap<(String, usize), usize> = HashMap::new();
    let mut total = 0;
    for line in labels_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (first, last): (usize, usize) = (cols[1].parse().unwrap(), cols[2].parse().unwrap());
        for n in first..=last {
            labelled.insert((cols[0].to_owned(), n), total);
        }
        total += 1;
    }
    let opts = ScanOptions {
        no_ignore: true,
        ..ScanOptions::default()
    };
    let scanner = Scanner::builtin().unwrap();
    let report = scan_paths(&scanner, &[data.join(corpus)], &opts, &|_| {}).unwrap();
    let lines: HashSet<(String, usize)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.line))
        .collect();
    let mut found = HashSet::new();
    let mut false_positives = Vec::new();
    for key in &lines {
        match labelled.get(key) {
            Some(&label) => {
                found.insert(label);
            }
            None => false_positives.push(key.clone()),
        }
    }
    let recall = found.len() as f64 / total as f64;
    let precision = (lines.len() - false_positives.len()) as f64 / lines.len() as f64;
    assert!(total >= min_labels, "{corpus} has only {total} labels");
    assert!(recall >= 0.95, "{corpus}: recall {recall:.3}");
    assert!(
        precision >= 0.95,
        "{corpus}: precision {precision:.3}; false positives: {false_positives:?}"
    );
}
