//! The benchmark's parse-only floor: the same gzipped CloudTrail files read
//! with flate2 and deserialised with serde_json into a typed struct with
//! borrowed string fields for the fields rules read, and nothing else.
//!
//! usage: cargo run --release -p rampart-detect --example parse_floor -- DIR THREADS

use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[allow(dead_code)] // fields are read by the deserialiser, which is the point
struct Event<'a> {
    #[serde(borrow, rename = "eventName")]
    event_name: Option<&'a str>,
    #[serde(borrow, rename = "eventSource")]
    event_source: Option<&'a str>,
    #[serde(borrow, rename = "eventTime")]
    event_time: Option<&'a str>,
    #[serde(borrow, rename = "awsRegion")]
    aws_region: Option<&'a str>,
    #[serde(borrow, rename = "sourceIPAddress")]
    source_ip: Option<&'a str>,
    #[serde(borrow, rename = "userAgent")]
    user_agent: Option<&'a str>,
    #[serde(borrow, rename = "errorCode")]
    error_code: Option<&'a str>,
    #[serde(borrow, rename = "eventID")]
    event_id: Option<&'a str>,
    #[serde(borrow, rename = "recipientAccountId")]
    account: Option<&'a str>,
    #[serde(borrow, rename = "userIdentity")]
    user_identity: Option<Identity<'a>>,
    #[serde(borrow, rename = "requestParameters")]
    request: Option<&'a RawValue>,
    #[serde(borrow, rename = "responseElements")]
    response: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Identity<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<&'a str>,
    #[serde(borrow)]
    arn: Option<&'a str>,
    #[serde(borrow, rename = "accountId")]
    account: Option<&'a str>,
}

#[derive(Deserialize)]
struct File<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<Event<'a>>,
}

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
    let dir = PathBuf::from(args.get(1).expect("usage: parse_floor DIR THREADS"));
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
    let mut all = Vec::new();
    files(&dir, &mut all);
    all.sort();
    let start = std::time::Instant::now();
    let chunks: Vec<Vec<PathBuf>> = (0..threads)
        .map(|i| all.iter().skip(i).step_by(threads).cloned().collect())
        .collect();
    let (events, bytes) = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    let (mut n, mut b) = (0u64, 0u64);
                    let mut buf = Vec::new();
                    for f in c {
                        let raw = std::fs::read(&f).expect("read");
                        buf.clear();
                        flate2::read::MultiGzDecoder::new(&raw[..])
                            .read_to_end(&mut buf)
                            .expect("gunzip");
                        b += buf.len() as u64;
                        let text = std::str::from_utf8(&buf).expect("utf8");
                        let file: File = serde_json::from_str(text).expect("json");
                        n += file.records.len() as u64;
                    }
                    (n, b)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("join"))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"tool\":\"parse-floor\",\"threads\":{threads},\"events\":{events},\"json_bytes\":{bytes},\"seconds\":{secs:.3},\"events_per_sec\":{:.0},\"mb_per_sec\":{:.1}}}",
        events as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
