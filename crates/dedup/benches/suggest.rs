//! Suggestion latency with 1,000 and 10,000 reports in one programme.
//!
//! cargo bench -p rampart-dedup --bench suggest
//!
//! The corpus is the labelled set's reports, copied until the programme holds N documents;
//! each copy names another product area and build so that no two documents are identical.
//! Copies of the same few hundred texts share most of their vocabulary, which is the slow case
//! for BM25 (long posting lists), and their endpoints collide, which fills the endpoint query.
//! The queries are the labelled set's duplicates, cycled.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rampart_dedup::evaluation::LabelledSet;
use rampart_dedup::{DedupIndex, ReportDoc};

const AREAS: &[&str] = &[
    "billing",
    "catalogue",
    "checkout",
    "onboarding",
    "support",
    "analytics",
    "mobile",
    "partner",
    "admin",
    "reporting",
    "search",
    "inventory",
    "shipping",
    "loyalty",
    "identity",
    "messaging",
    "payments",
    "media",
    "notifications",
    "compliance",
];

fn labelled() -> LabelledSet {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/labelled.json"
    ));
    LabelledSet::load(path).expect("the labelled set ships with the crate")
}

fn corpus(size: usize) -> Vec<ReportDoc> {
    let set = labelled();
    (0..size)
        .map(|i| {
            let base = &set.documents[i % set.documents.len()].doc;
            let area = AREAS[(i / set.documents.len()) % AREAS.len()];
            ReportDoc {
                id: i64::try_from(i).expect("small") + 1,
                programme: 1,
                title: format!("{} ({area})", base.title),
                description: format!(
                    "{}\n\nFound while testing the {area} area, build {}.",
                    base.description,
                    i * 7919 % 100_003
                ),
                ..base.clone()
            }
        })
        .collect()
}

fn queries() -> Vec<ReportDoc> {
    labelled()
        .documents
        .into_iter()
        .filter(|d| d.original.is_some())
        .map(|d| ReportDoc {
            id: -d.doc.id,
            programme: 1,
            ..d.doc
        })
        .collect()
}

#[divan::bench(args = [1_000, 10_000], sample_count = 200)]
fn suggest(bencher: divan::Bencher, size: usize) {
    let index = DedupIndex::in_memory().expect("index");
    index.rebuild(&corpus(size)).expect("rebuild");
    assert_eq!(index.len(), size);
    let queries = queries();
    // A benchmark of empty answers would measure nothing.
    assert!(
        queries
            .iter()
            .all(|q| !index.suggest(q, 10).expect("suggest").is_empty())
    );
    let next = AtomicUsize::new(0);
    bencher.bench(|| {
        let query = &queries[next.fetch_add(1, Ordering::Relaxed) % queries.len()];
        let found = index.suggest(query, 10).expect("suggest");
        divan::black_box(found)
    });
}

/// A report that pastes 100 KB of access log: the query keeps its 48 most specific description
/// terms and extraction stops at 256 KiB, so this must stay in the same range.
#[divan::bench(sample_count = 50)]
fn suggest_long_report_in_10_000(bencher: divan::Bencher) {
    let index = DedupIndex::in_memory().expect("index");
    index.rebuild(&corpus(10_000)).expect("rebuild");
    let mut query = queries().remove(0);
    for i in 0..1_500 {
        query.description.push_str(&format!(
            "\n10.0.{}.{} - - GET /static/js/chunk-{i:x}.js?v={} 200 {} \"Mozilla/5.0\"",
            i % 256,
            i * 7 % 256,
            i * 31,
            i * 13 % 5000
        ));
    }
    assert!(query.description.len() > 100_000);
    bencher.bench(|| divan::black_box(index.suggest(&query, 10).expect("suggest")));
}

#[divan::bench(args = [10_000], sample_count = 10, sample_size = 1)]
fn rebuild(bencher: divan::Bencher, size: usize) {
    let docs = corpus(size);
    let index = DedupIndex::in_memory().expect("index");
    bencher.bench(|| index.rebuild(&docs).expect("rebuild"));
}

#[divan::bench(sample_count = 50, sample_size = 1)]
fn upsert_one_into_10_000(bencher: divan::Bencher) {
    let index = DedupIndex::in_memory().expect("index");
    index.rebuild(&corpus(10_000)).expect("rebuild");
    let queries = queries();
    let next = AtomicUsize::new(0);
    bencher.bench(|| {
        let doc = &queries[next.fetch_add(1, Ordering::Relaxed) % queries.len()];
        index.upsert(doc).expect("upsert");
    });
}

fn main() {
    divan::main();
}
