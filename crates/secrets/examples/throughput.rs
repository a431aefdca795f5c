//! Engine throughput without the CLI around it, for profiling rule and
//! prefilter changes quickly: `cargo run --release -p rampart-secrets
//! --example throughput -- DIR…`. The benchmark of record is bench/secrets.sh,
//! which runs the real `rampart` binary against the peers.

use rampart_secrets::Scanner;
use rampart_secrets::scan::{ScanOptions, scan_paths};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let roots: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let t0 = Instant::now();
    let scanner = Scanner::builtin()?;
    let build = t0.elapsed();
    let t1 = Instant::now();
    let report = scan_paths(&scanner, &roots, &ScanOptions::default(), &|_| {})?;
    let secs = t1.elapsed().as_secs_f64();
    let mb = report.stats.bytes as f64 / 1e6;
    println!(
        "rules built in {:.1} ms; {} files, {:.1} MB in {:.2} s = {:.0} MB/s; {} findings",
        build.as_secs_f64() * 1e3,
        report.stats.files,
        mb,
        secs,
        mb / secs,
        report.findings.len()
    );
    let mut by_rule = std::collections::BTreeMap::new();
    for f in &report.findings {
        *by_rule.entry(f.rule_id.as_str()).or_insert(0usize) += 1;
    }
    for (rule, n) in by_rule {
        println!("  {n:6}  {rule}");
    }
    Ok(())
}
