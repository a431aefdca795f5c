//! bench/detect.sh's rsigma-eval peer: every Sigma rule under SIGMA_DIR loaded
//! into one `rsigma_eval::Engine` (its batched `add_rules`, which builds the
//! witness candidate index once), then every CloudTrail record of every
//! gzipped `{"Records":[...]}` file under DATA_DIR evaluated against it, files
//! shared out over THREADS threads (one engine, shared read-only).
//!
//! Events go in as rsigma's own event type: `JsonEvent` over a
//! `serde_json::Value` per record, which is what rsigma-eval documents and
//! what its CLI does for JSON input.
//!
//! usage: rsigma-peer SIGMA_DIR DATA_DIR THREADS [--bloom]
//! stdout: one JSON summary line; stderr: rules that failed to load, by file.

use rsigma_eval::Engine;
use rsigma_eval::event::JsonEvent;
use rsigma_parser::{SigmaRule, parse_sigma_file};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Streams a `{"Records": [...]}` document: each record is parsed into a
/// `Value`, handed to `each` and dropped before the next is parsed, so only
/// one record's tree is alive at a time (less allocator churn than holding a
/// whole file's `Vec<Value>`).
struct Records<F>(F);

impl<'de, F: FnMut(&Value)> DeserializeSeed<'de> for Records<F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(&Value)> Visitor<'de> for Records<F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a CloudTrail file: an object with a Records array")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "Records" {
                map.next_value_seed(Each(&mut self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Each<'f, F>(&'f mut F);

impl<'de, F: FnMut(&Value)> DeserializeSeed<'de> for Each<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(&Value)> Visitor<'de> for Each<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            (self.0)(&v);
        }
        Ok(())
    }
}

fn walk(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, ext, out)?;
        } else if ext.is_empty()
            || p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ext.contains(&x))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Parses and compiles every rule file; returns the engine, the number of
/// rules parsed and the number that failed, and prints (to stderr) every
/// file or document rsigma could not parse or compile.
fn load(sigma: &Path, bloom: bool) -> Result<(Engine, usize, usize), String> {
    let mut paths = Vec::new();
    walk(sigma, &["yml", "yaml"], &mut paths).map_err(|e| format!("{}: {e}", sigma.display()))?;
    paths.sort();
    let mut rules: Vec<(String, SigmaRule)> = Vec::new();
    let mut failed = 0;
    for p in &paths {
        let name = p.strip_prefix(sigma).unwrap_or(p).display().to_string();
        match parse_sigma_file(p) {
            Ok(c) => {
                for e in &c.errors {
                    eprintln!("rsigma: {name}: not parsed: {e}");
                    failed += 1;
                }
                if !c.correlations.is_empty() || !c.filters.is_empty() {
                    eprintln!(
                        "rsigma: {name}: {} correlation and {} filter rules skipped (detection only)",
                        c.correlations.len(),
                        c.filters.len()
                    );
                }
                rules.extend(c.rules.into_iter().map(|r| (name.clone(), r)));
            }
            Err(e) => {
                eprintln!("rsigma: {name}: not parsed: {e}");
                failed += 1;
            }
        }
    }
    let mut engine = Engine::new();
    engine.set_bloom_prefilter(bloom);
    for (i, e) in engine.add_rules(rules.iter().map(|(_, r)| r)) {
        eprintln!(
            "rsigma: {} ({}): not compiled: {e}",
            rules[i].0, rules[i].1.title
        );
        failed += 1;
    }
    Ok((engine, rules.len(), failed))
}

#[derive(Default)]
struct Tally {
    events: u64,
    json_bytes: u64,
    matches: u64,
    matched_events: u64,
    per_rule: BTreeMap<String, u64>,
}

fn run_files(engine: &Engine, files: &[PathBuf]) -> Result<Tally, String> {
    let mut t = Tally::default();
    let mut buf = Vec::new();
    for f in files {
        let raw = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        buf.clear();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut buf)
            .map_err(|e| format!("{}: not gzip: {e}", f.display()))?;
        t.json_bytes += buf.len() as u64;
        let mut de = serde_json::Deserializer::from_slice(&buf);
        Records(|rec: &Value| {
            let hits = engine.evaluate(&JsonEvent::borrow(rec));
            t.events += 1;
            if !hits.is_empty() {
                t.matched_events += 1;
                t.matches += hits.len() as u64;
                for h in hits {
                    *t.per_rule.entry(h.header.rule_title).or_default() += 1;
                }
            }
        })
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| format!("{}: not CloudTrail JSON: {e}", f.display()))?;
    }
    Ok(t)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: rsigma-peer SIGMA_DIR DATA_DIR THREADS [--bloom]");
        return ExitCode::from(2);
    }
    let bloom = args.iter().any(|a| a == "--bloom");
    let threads: usize = match args[3].parse() {
        Ok(n) if n > 0 => n,
        _ => {
            eprintln!(
                "rsigma-peer: THREADS must be a positive number, got {:?}",
                args[3]
            );
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let (engine, parsed, failed) = match load(Path::new(&args[1]), bloom) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("rsigma-peer: {e}");
            return ExitCode::from(2);
        }
    };
    let load_secs = started.elapsed().as_secs_f64();
    let mut files = Vec::new();
    if let Err(e) = walk(Path::new(&args[2]), &[], &mut files) {
        eprintln!("rsigma-peer: {}: {e}", args[2]);
        return ExitCode::from(2);
    }
    files.sort();
    // Round-robin over sorted paths, the same split the parse floor uses.
    let chunks: Vec<Vec<PathBuf>> = (0..threads)
        .map(|i| files.iter().skip(i).step_by(threads).cloned().collect())
        .collect();
    let eval_start = std::time::Instant::now();
    let results: Vec<Result<Tally, String>> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .iter()
            .map(|c| {
                let engine = &engine;
                s.spawn(move || run_files(engine, c))
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("worker panicked".into())))
            .collect()
    });
    let secs = eval_start.elapsed().as_secs_f64();
    let mut total = Tally::default();
    for r in results {
        match r {
            Ok(t) => {
                total.events += t.events;
                total.json_bytes += t.json_bytes;
                total.matches += t.matches;
                total.matched_events += t.matched_events;
                for (k, v) in t.per_rule {
                    *total.per_rule.entry(k).or_default() += v;
                }
            }
            Err(e) => {
                eprintln!("rsigma-peer: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let summary = serde_json::json!({
        "tool": "rsigma-eval",
        "threads": threads,
        "bloom_prefilter": bloom,
        "rules_parsed": parsed,
        "rules_loaded": engine.rule_count(),
        "rules_failed": failed,
        "load_seconds": load_secs,
        "files": files.len(),
        "events": total.events,
        "json_bytes": total.json_bytes,
        "matches": total.matches,
        "matched_events": total.matched_events,
        "rules_matching": total.per_rule.len(),
        "per_rule": total.per_rule,
        "seconds": secs,
        "events_per_sec": total.events as f64 / secs,
    });
    println!("{summary}");
    ExitCode::SUCCESS
}
