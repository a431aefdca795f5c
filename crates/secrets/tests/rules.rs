//! Every built-in rule carries its own examples; this test holds each rule
//! to them, so a regex or filter change that breaks a provider fails here.
#![allow(clippy::unwrap_used)]

use rampart_secrets::Scanner;
use rampart_secrets::rules::{Rule, builtin_specs};
use std::collections::HashSet;

/// An example may name the file it stands for: "file:app.py\n…".
fn split_example(example: &str) -> (&str, &str) {
    match example
        .strip_prefix("file:")
        .and_then(|rest| rest.split_once('\n'))
    {
        Some((path, text)) => (path, text),
        None => ("config/example.txt", example),
    }
}

#[test]
fn every_rule_compiles_and_has_examples() {
    let specs = builtin_specs().expect("built-in rules parse");
    let mut ids = HashSet::new();
    for spec in &specs {
        assert!(ids.insert(spec.id.clone()), "duplicate rule id {}", spec.id);
        assert!(
            !spec.examples.is_empty(),
            "{} has no positive example",
            spec.id
        );
        assert!(
            !spec.negative_examples.is_empty(),
            "{} has no negative example",
            spec.id
        );
        Rule::new(spec.clone(), "built-in", true).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(specs.len() >= 100, "only {} rules", specs.len());
    let providers: HashSet<&str> = specs.iter().map(|s| s.provider.as_str()).collect();
    assert!(providers.len() >= 40, "only {} providers", providers.len());
}

#[test]
fn every_example_is_found_and_every_negative_is_not() {
    let scanner = Scanner::builtin().expect("built-in rules are valid");
    let mut failures = Vec::new();
    for spec in builtin_specs().expect("built-in rules parse") {
        for example in &spec.examples {
            let (path, text) = split_example(example);
            let found = scanner.scan(path, text.as_bytes());
            if !found.iter().any(|f| f.rule_id == spec.id) {
                let others: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
                failures.push(format!(
                    "{}: missed {example:?} (found {others:?})",
                    spec.id
                ));
            }
        }
        for example in &spec.negative_examples {
            let (path, text) = split_example(example);
            let found = scanner.scan(path, text.as_bytes());
            if let Some(f) = found.iter().find(|f| f.rule_id == spec.id) {
                failures.push(format!(
                    "{}: false positive on {example:?} ({})",
                    spec.id, f.masked
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
