//! `detect_dir` for an S3 prefix: lists the objects, fetches them on the
//! engine threads and prints throughput, to compare S3 input with local files.
//! Credentials, region and endpoint come from the environment
//! (AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL, …).
//!
//! usage: cargo run --release -p rampart-detect --features s3 --example detect_s3 -- s3://BUCKET/PREFIX THREADS [SIGMA_DIR]

use rampart_detect::s3::{S3Options, S3Source};
use rampart_detect::sigma::RuleSet;
use rampart_detect::{EngineConfig, Input, run_inputs};
use std::path::Path;
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: detect_s3 s3://BUCKET/PREFIX THREADS [SIGMA_DIR]");
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
    let mut sigma = RuleSet::default();
    let mut diags = Vec::new();
    if let Some(s) = args.get(3) {
        sigma.load_dir(Path::new(s), &mut diags).expect("sigma dir");
    }
    let start = std::time::Instant::now();
    let src = S3Source::open(url, &S3Options::default()).expect("S3 client");
    let objects = src.list().expect("listing");
    let listed = start.elapsed().as_secs_f64();
    let bytes: u64 = objects.iter().map(|o| o.size).sum();
    let inputs: Vec<Input> = objects
        .iter()
        .map(|o| Input {
            name: o.name.clone(),
            size: o.size,
        })
        .collect();
    let cfg = Arc::new(EngineConfig {
        sigma,
        ..EngineConfig::default()
    });
    let read = |name: &str| src.get(src.key_of(name)).map_err(|e| e.to_string());
    let report = run_inputs(cfg, inputs, threads, &read).finish();
    let secs = start.elapsed().as_secs_f64();
    let events = report.stats.cloudtrail_events;
    println!(
        "{{\"tool\":\"rampart-engine-s3\",\"threads\":{threads},\"objects\":{},\"gz_bytes\":{bytes},\"events\":{events},\"findings\":{},\"problems\":{},\"list_seconds\":{listed:.3},\"seconds\":{secs:.3},\"events_per_sec\":{:.0}}}",
        objects.len(),
        report.findings.len(),
        report.diagnostics.len(),
        events as f64 / secs
    );
}
