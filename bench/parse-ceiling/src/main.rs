//! The parse ceiling: the same gzipped CloudTrail files and the same typed
//! struct with borrowed fields as the parse-only floor
//! (crates/detect/examples/parse_floor.rs), with the fastest parts found
//! for each step: libdeflate inflates a whole single-member file at once
//! (checking its CRC-32 and length), and sonic-rs parses with SIMD. Nothing
//! else is done. If an engine's target is above this, no engine that reads
//! the JSON can meet it.
//!
//! usage: parse-ceiling DIR THREADS

use serde::Deserialize;
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
    request: Option<sonic_rs::LazyValue<'a>>,
    #[serde(borrow, rename = "responseElements")]
    response: Option<sonic_rs::LazyValue<'a>>,
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

/// Inflates `raw` into `buf`. libdeflate needs the output size up front and
/// reads one member, so it is used when the file can only be one member (no
/// second member header anywhere after the first) and the trailer's length
/// fits; anything else goes through flate2's streaming reader.
fn gunzip(dec: &mut libdeflater::Decompressor, raw: &[u8], buf: &mut Vec<u8>) {
    let single = raw.len() > 18 && memchr::memmem::find(&raw[10..], b"\x1f\x8b\x08").is_none();
    if single {
        let isize = u32::from_le_bytes(raw[raw.len() - 4..].try_into().expect("4 bytes")) as usize;
        if isize <= raw.len().saturating_mul(1100) {
            buf.resize(isize, 0);
            if let Ok(n) = dec.gzip_decompress(raw, buf)
                && n == isize
            {
                return;
            }
        }
    }
    buf.clear();
    flate2::read::MultiGzDecoder::new(raw)
        .read_to_end(buf)
        .expect("gunzip");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).expect("usage: parse-ceiling DIR THREADS"));
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
                    let mut dec = libdeflater::Decompressor::new();
                    for f in c {
                        let raw = std::fs::read(&f).expect("read");
                        gunzip(&mut dec, &raw, &mut buf);
                        b += buf.len() as u64;
                        let file: File = sonic_rs::from_slice(&buf).expect("json");
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
        "{{\"tool\":\"parse-ceiling\",\"threads\":{threads},\"events\":{events},\"json_bytes\":{bytes},\"seconds\":{secs:.3},\"events_per_sec\":{:.0},\"mb_per_sec\":{:.1}}}",
        events as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
