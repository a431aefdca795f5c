//! The shipped CWE list: contents, lookups and the ranking of the picker's search.

use proptest::prelude::*;
use rampart_cwe::{Catalog, Kind, catalog, parse_id};

#[test]
fn the_shipped_data_parses_without_a_bad_line() {
    let (parsed, errors) = Catalog::parse(include_str!("../data/cwe.tsv"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(parsed.len(), 1372);
    let weaknesses = parsed
        .entries()
        .iter()
        .filter(|w| w.kind == Kind::Weakness)
        .count();
    assert_eq!(weaknesses, 963);
}

#[test]
fn well_known_names() {
    let cwe = catalog();
    for (id, name) in [
        (
            79,
            "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
        ),
        (
            89,
            "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
        ),
        (787, "Out-of-bounds Write"),
        (
            22,
            "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
        ),
        (352, "Cross-Site Request Forgery (CSRF)"),
        (918, "Server-Side Request Forgery (SSRF)"),
        (639, "Authorization Bypass Through User-Controlled Key"),
    ] {
        assert_eq!(cwe.get(id).map(|w| w.name), Some(name), "CWE-{id}");
    }
    let xss = cwe.lookup("CWE-79").expect("CWE-79");
    assert_eq!(xss.abstraction, "Base");
    assert_eq!(xss.status, "Stable");
    assert_eq!(xss.top25_2024, Some(1));
    assert_eq!(xss.top25_2023, Some(2));
    assert!(xss.nvd_view);
    assert!(
        xss.description
            .starts_with("The product does not neutralize")
    );
    assert_eq!(xss.to_string(), format!("CWE-79: {}", xss.name));
    assert_eq!(cwe.get(16).map(|c| c.kind), Some(Kind::Category));
    assert!(cwe.get(0).is_none());
    assert!(cwe.lookup("not an id").is_none());
}

#[test]
fn top25_is_complete_and_in_rank_order() {
    let top = catalog().top25();
    let ids: Vec<u32> = top.iter().map(|w| w.id).collect();
    assert_eq!(ids.len(), 25);
    assert_eq!(&ids[..5], &[79, 787, 89, 352, 22]);
    assert_eq!(
        catalog()
            .search("", 3)
            .iter()
            .map(|w| w.id)
            .collect::<Vec<_>>(),
        vec![79, 787, 89]
    );
}

fn top_ids(query: &str, n: usize) -> Vec<u32> {
    catalog().search(query, n).iter().map(|w| w.id).collect()
}

#[test]
fn search_ranks_what_a_reporter_means_first() {
    assert_eq!(top_ids("CWE-79", 1), vec![79]);
    assert_eq!(top_ids("79", 1), vec![79]);
    // Ids that start with the digits follow the exact id.
    assert!(
        top_ids("79", 10)
            .iter()
            .skip(1)
            .all(|id| id.to_string().starts_with("79"))
    );
    assert_eq!(top_ids("xss", 1), vec![79]);
    assert_eq!(top_ids("sql injection", 1), vec![89]);
    assert_eq!(top_ids("SQL", 1), vec![89]);
    assert_eq!(top_ids("ssrf", 1), vec![918]);
    assert_eq!(top_ids("idor", 1), vec![639]);
    assert_eq!(top_ids("out-of-bounds write", 1), vec![787]);
    assert_eq!(top_ids("path trav", 1), vec![22]);
    assert_eq!(top_ids("open redirect", 1), vec![601]);
    assert_eq!(top_ids("use after", 1), vec![416]);
    let csrf = top_ids("cross-site request", 3);
    assert_eq!(csrf[0], 352);
    // Matches in descriptions come after matches in names.
    let hits = catalog().search("cookie", 50);
    assert!(hits.len() > 5);
    let first_without = hits
        .iter()
        .position(|w| !w.name.to_lowercase().contains("cookie"));
    if let Some(p) = first_without {
        assert!(
            hits[p..]
                .iter()
                .all(|w| !w.name.to_lowercase().contains("cookie"))
        );
    }
}

#[test]
fn retired_entries_resolve_by_id_but_are_not_offered() {
    let cwe = catalog();
    let retired = cwe
        .entries()
        .iter()
        .find(|w| w.status == "Deprecated")
        .expect("the catalogue has deprecated entries");
    assert_eq!(cwe.get(retired.id), Some(retired));
    assert!(
        cwe.search(retired.name, 50)
            .iter()
            .all(|w| w.id != retired.id)
    );
    assert_eq!(top_ids(&retired.id.to_string(), 1), vec![retired.id]);
}

#[test]
fn no_match_is_empty() {
    assert!(catalog().search("zzqqxxjj", 10).is_empty());
    assert!(catalog().search("sql", 0).is_empty());
}

proptest! {
    #[test]
    fn search_never_panics_and_respects_the_limit(query in any::<String>(), limit in 0usize..60) {
        let hits = catalog().search(&query, limit);
        prop_assert!(hits.len() <= limit);
    }

    #[test]
    fn parse_id_never_panics_and_round_trips(text in any::<String>(), id in 1u32..2_000_000) {
        let _ = parse_id(&text);
        prop_assert_eq!(parse_id(&format!("CWE-{id}")), Some(id));
    }

    #[test]
    fn arbitrary_data_files_never_panic(text in any::<String>()) {
        let text: &'static str = Box::leak(text.into_boxed_str());
        let _ = Catalog::parse(text);
    }
}
