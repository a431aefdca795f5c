//! Runs the detection engine over a directory the way `rampart detect` does
//! (sharded over threads), with optional Sigma rules, and prints throughput.
//! The benchmark uses the real binary; this is for profiling the engine alone.
//!
//! usage: cargo run --release -p rampart-detect --example detect_dir -- DIR THREADS [SIGMA_DIR]

use rampart_detect::sigma::RuleSet;
use rampart_detect::{EngineConfig, run_files};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out)
        } else {
            out.push(p)
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .expect("usage: detect_dir DIR THREADS [SIGMA_DIR]"),
    );
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
    let mut sigma = RuleSet::default();
    let mut diags = Vec::new();
    if let Some(s) = args.get(3) {
        sigma.load_dir(Path::new(s), &mut diags).expect("sigma dir");
    }
    let mut all = Vec::new();
    files(&dir, &mut all);
    all.sort();
    let start = std::time::Instant::now();
    let cfg = Arc::new(EngineConfig {
        sigma,
        ..EngineConfig::default()
    });
    let report = run_files(cfg, all, threads).finish();
    let secs = start.elapsed().as_secs_f64();
    if std::env::var_os("DETECT_TYPES").is_some() {
        let mut by: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for f in &report.findings {
            *by.entry(&f.type_name).or_default() += 1;
        }
        eprintln!("{by:#?}");
    }
    let events = report.stats.cloudtrail_events;
    println!(
        "{{\"tool\":\"rampart-engine\",\"threads\":{threads},\"events\":{events},\"findings\":{},\"seconds\":{secs:.3},\"events_per_sec\":{:.0}}}",
        report.findings.len(),
        events as f64 / secs
    );
}
