//! Arbitrary text never panics indexing or suggestion.

use proptest::prelude::*;
use rampart_dedup::extract::Signals;
use rampart_dedup::{DedupIndex, DocKind, ReportDoc};

/// Text that looks like reports: URLs, paths, percent escapes, payload characters, unicode.
fn reportish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 /?&=%:._#<>\"'`{}()\\[\\]-]{0,60}",
        Just("https://".to_owned()),
        Just("http://[::1".to_owned()),
        Just("GET /a/../b?x=%zz&&=y HTTP/1.1\nHost: ".to_owned()),
        Just("`id` parameter ".to_owned()),
        Just("{\"k\": ".to_owned()),
        Just("%".to_owned()),
        Just("é/ü/日本".to_owned()),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|parts| parts.concat())
}

fn doc(id: i64, title: String, description: String, asset: Option<String>) -> ReportDoc {
    ReportDoc {
        id,
        programme: 1,
        kind: if id % 2 == 0 {
            DocKind::Report
        } else {
            DocKind::KnownIssue
        },
        title,
        description,
        asset,
        cwe: Some(u32::try_from(id).unwrap_or(0)),
        duplicate_of: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn extraction_never_panics(text in reportish()) {
        let signals = Signals::from_text(&text);
        for endpoint in &signals.endpoints {
            prop_assert!(endpoint.starts_with('/'));
        }
    }

    #[test]
    fn indexing_and_suggestion_never_panic(
        docs in prop::collection::vec((reportish(), reportish(), prop::option::of(reportish())), 1..6),
        query in (reportish(), reportish()),
        limit in 0usize..20,
    ) {
        let index = DedupIndex::in_memory().expect("index");
        let docs: Vec<ReportDoc> = docs
            .into_iter()
            .enumerate()
            .map(|(i, (t, d, a))| doc(i64::try_from(i).unwrap_or(0), t, d, a))
            .collect();
        index.upsert_many(&docs).expect("upsert");
        let found = index.suggest(&doc(1000, query.0, query.1, None), limit).expect("suggest");
        prop_assert!(found.len() <= limit);
        for candidate in &found {
            prop_assert!(candidate.score.is_finite());
            prop_assert!((0.0..=1.0001).contains(&candidate.score));
        }
    }
}
