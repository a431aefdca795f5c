//! Behaviour of the index: programme isolation, updates, removal, rebuild, persistence,
//! known issues, confirmed duplicates and reasons.

use rampart_dedup::{DedupError, DedupIndex, DocKind, DocRef, Reason, ReportDoc};

fn report(id: i64, programme: i64, title: &str, description: &str) -> ReportDoc {
    ReportDoc {
        id,
        programme,
        kind: DocKind::Report,
        title: title.to_owned(),
        description: description.to_owned(),
        asset: Some("shop.example.com".to_owned()),
        cwe: Some(79),
        duplicate_of: None,
    }
}

fn xss_search(id: i64, programme: i64) -> ReportDoc {
    report(
        id,
        programme,
        "Reflected XSS in product search",
        "The q parameter of https://shop.example.com/search?q=test is reflected unencoded.",
    )
}

fn query() -> ReportDoc {
    report(
        100,
        1,
        "Cross-site scripting on the search page",
        "`GET /search?q=\"><svg/onload=alert(1)>` executes script.",
    )
}

#[test]
fn suggestions_stay_within_the_programme() {
    let index = DedupIndex::in_memory().expect("index");
    index.upsert(&xss_search(1, 2)).expect("upsert");
    assert!(index.suggest(&query(), 5).expect("suggest").is_empty());
    index.upsert(&xss_search(2, 1)).expect("upsert");
    let found = index.suggest(&query(), 5).expect("suggest");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].report_id, 2);
}

#[test]
fn the_same_endpoint_beats_the_same_weakness_elsewhere() {
    let index = DedupIndex::in_memory().expect("index");
    index
        .upsert(&report(
            1,
            1,
            "Reflected XSS on the search page",
            "The term parameter of https://shop.example.com/help/articles?term=x is reflected.",
        ))
        .expect("upsert");
    index.upsert(&xss_search(2, 1)).expect("upsert");
    let found = index.suggest(&query(), 5).expect("suggest");
    assert_eq!(found[0].report_id, 2, "{found:#?}");
    assert!(found[0].reasons.contains(&Reason::SharedEndpoints {
        values: vec!["/search".to_owned()]
    }));
    assert!(found[0].reasons.contains(&Reason::SameCwe { value: 79 }));
    assert!(found[0].reasons.contains(&Reason::SameAsset {
        value: "shop.example.com".to_owned()
    }));
    assert!(found[0].score > found[1].score);
    assert!(found.iter().all(|c| (0.0..=1.0).contains(&c.score)));
}

#[test]
fn update_and_remove_take_effect_at_once() {
    let index = DedupIndex::in_memory().expect("index");
    index.upsert(&xss_search(1, 1)).expect("upsert");
    let mut moved = xss_search(1, 1);
    moved.programme = 9;
    index.upsert(&moved).expect("update");
    assert_eq!(index.len(), 1);
    assert!(index.suggest(&query(), 5).expect("suggest").is_empty());
    index.upsert(&xss_search(1, 1)).expect("update back");
    assert_eq!(index.suggest(&query(), 5).expect("suggest").len(), 1);
    assert!(index.remove(DocKind::Report, 1).expect("remove"));
    assert!(!index.remove(DocKind::Report, 1).expect("remove again"));
    assert!(index.suggest(&query(), 5).expect("suggest").is_empty());
    assert!(index.is_empty());
}

#[test]
fn the_query_itself_is_never_suggested_and_limits_hold() {
    let index = DedupIndex::in_memory().expect("index");
    let docs: Vec<ReportDoc> = (1..=20).map(|id| xss_search(id, 1)).collect();
    index.rebuild(&docs).expect("rebuild");
    let found = index
        .suggest_for(DocKind::Report, 3, 5)
        .expect("suggest")
        .expect("document 3 is indexed");
    assert_eq!(found.len(), 5);
    assert!(found.iter().all(|c| c.report_id != 3));
    assert!(index.suggest(&query(), 0).expect("suggest").is_empty());
    assert!(
        index
            .suggest_for(DocKind::Report, 999, 5)
            .expect("suggest")
            .is_none()
    );
    let earlier = index
        .suggest_with(&query(), 50, &|_, id| id < 4)
        .expect("suggest");
    assert_eq!(earlier.len(), 3);
}

#[test]
fn rebuild_replaces_everything() {
    let index = DedupIndex::in_memory().expect("index");
    index.upsert(&xss_search(1, 1)).expect("upsert");
    let mut elsewhere = xss_search(7, 1);
    elsewhere.programme = 3;
    index
        .rebuild(&[xss_search(7, 1), elsewhere.clone()])
        .expect("rebuild");
    // The last copy of document 7 wins: it is now in programme 3, once.
    assert_eq!(index.len(), 1);
    assert!(index.suggest(&query(), 5).expect("suggest").is_empty());
    index
        .rebuild(&[elsewhere, xss_search(7, 1)])
        .expect("rebuild");
    let found = index.suggest(&query(), 5).expect("suggest");
    assert_eq!(found.iter().map(|c| c.report_id).collect::<Vec<_>>(), [7]);
}

#[test]
fn known_issues_are_suggested_and_say_so() {
    let index = DedupIndex::in_memory().expect("index");
    let mut known = xss_search(1, 1);
    known.kind = DocKind::KnownIssue;
    index.upsert(&known).expect("upsert");
    // A report with the same id is another document.
    index
        .upsert(&report(
            1,
            1,
            "Open redirect",
            "https://shop.example.com/out?url=x",
        ))
        .expect("upsert");
    let found = index.suggest(&query(), 5).expect("suggest");
    assert_eq!(found[0].kind, DocKind::KnownIssue);
    assert_eq!(found[0].report_id, 1);
    assert!(found[0].reasons.contains(&Reason::KnownIssue));
    assert!(index.remove(DocKind::KnownIssue, 1).expect("remove"));
    assert_eq!(index.len(), 1);
}

#[test]
fn a_confirmed_duplicate_points_at_its_original() {
    let index = DedupIndex::in_memory().expect("index");
    index
        .upsert(&report(
            1,
            1,
            "Script injection",
            "Something on the storefront runs scripts.",
        ))
        .expect("upsert");
    let mut copy = xss_search(2, 1);
    copy.duplicate_of = Some(DocRef {
        kind: DocKind::Report,
        id: 1,
    });
    index.upsert(&copy).expect("upsert");
    let found = index.suggest(&query(), 5).expect("suggest");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].report_id, 1);
    assert!(
        found[0]
            .reasons
            .contains(&Reason::ViaDuplicate { report_id: 2 })
    );
    // Seen from the original, its own confirmed duplicate is not a suggestion.
    assert!(
        index
            .suggest_for(DocKind::Report, 1, 5)
            .expect("suggest")
            .expect("indexed")
            .is_empty()
    );
}

#[test]
fn a_persisted_index_reopens_with_its_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let index = DedupIndex::open_or_create(dir.path()).expect("create");
        index.upsert(&xss_search(1, 1)).expect("upsert");
        index.upsert(&xss_search(2, 1)).expect("upsert");
        index.remove(DocKind::Report, 2).expect("remove");
    }
    let index = DedupIndex::open_or_create(dir.path()).expect("reopen");
    assert_eq!(index.len(), 1);
    let found = index.suggest(&query(), 5).expect("suggest");
    assert_eq!(found.iter().map(|c| c.report_id).collect::<Vec<_>>(), [1]);
    assert!(
        found[0]
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::SharedEndpoints { .. }))
    );
}

#[test]
fn an_unusable_directory_is_a_clear_error() {
    let file = tempfile::NamedTempFile::new().expect("file");
    let err = DedupIndex::open_or_create(file.path()).expect_err("a file is not a directory");
    assert!(matches!(err, DedupError::Directory { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot open the duplicate index directory")
    );
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<DedupIndex>();
    let index = std::sync::Arc::new(DedupIndex::in_memory().expect("index"));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let index = index.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    index.upsert(&xss_search(t * 10 + i, 1)).expect("upsert");
                    index.suggest(&query(), 3).expect("suggest");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("no panic");
    }
    assert_eq!(index.len(), 20);
}

#[test]
fn an_index_with_another_schema_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("something_else", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(dir.path(), builder.build()).expect("foreign index");
    let err = DedupIndex::open_or_create(dir.path()).expect_err("another schema");
    assert!(matches!(err, DedupError::SchemaMismatch { .. }), "{err}");
    assert!(err.to_string().contains("rebuild the index"));
}
