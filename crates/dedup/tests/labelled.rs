//! The quality bar of issue 6 over the labelled set in testdata/labelled.json.

use std::path::Path;

use rampart_dedup::Weights;
use rampart_dedup::evaluation::{LabelledSet, evaluate};

fn labelled() -> LabelledSet {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/labelled.json"
    ));
    LabelledSet::load(path).expect("the labelled set ships with the crate")
}

#[test]
fn the_labelled_set_is_big_enough() {
    let set = labelled();
    let reports = set
        .documents
        .iter()
        .filter(|d| d.doc.kind == rampart_dedup::DocKind::Report)
        .count();
    let duplicates = set
        .documents
        .iter()
        .filter(|d| d.original.is_some())
        .count();
    assert!(reports >= 200, "only {reports} reports");
    assert!(duplicates >= 100, "only {duplicates} duplicates");
}

#[test]
fn originals_are_found_first_for_90_percent_and_in_the_top_5_for_98_percent() {
    let result = evaluate(&labelled(), Weights::default(), true).expect("evaluation runs");
    let (top1, top5) = (result.top_n_rate(1), result.top_n_rate(5));
    let misses: Vec<String> = result
        .ranks
        .iter()
        .filter(|r| r.rank != Some(1))
        .map(|r| format!("{} of {} ({}): rank {:?}", r.id, r.original, r.bug, r.rank))
        .collect();
    println!(
        "{} duplicates: top-1 {:.1}%, top-5 {:.1}%",
        result.duplicates(),
        top1 * 100.0,
        top5 * 100.0
    );
    assert!(
        top1 >= 0.90,
        "top-1 {top1:.3} below 0.90; misses: {misses:#?}"
    );
    assert!(
        top5 >= 0.98,
        "top-5 {top5:.3} below 0.98; misses: {misses:#?}"
    );
}

/// The set must stay hard: text similarity alone must miss the bar, or the bar proves nothing
/// about the structured signals.
#[test]
fn text_similarity_alone_does_not_reach_the_bar() {
    let result = evaluate(&labelled(), Weights::text_only(), true).expect("evaluation runs");
    assert!(
        result.top_n_rate(1) < 0.90,
        "text only reaches {:.3}: the labelled set has become too easy",
        result.top_n_rate(1)
    );
}
