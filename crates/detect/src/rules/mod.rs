//! Built-in detections: single-event CloudTrail rules, threshold rules over
//! CloudTrail and flow logs, DNS heuristics and threat-list matches.

pub mod cloudtrail;
pub mod console_login;
pub mod dns;
pub mod flow;

use crate::intel::{AwsRanges, ThreatIntel, TrustedList};
use serde::{Deserialize, Serialize};
// foldhash, not SipHash: windows are looked up for every record, keyed by
// names and addresses from our own rules and the logs (no untrusted key
// flooding concern beyond what the caps already bound).
use foldhash::{HashMap, HashSet};

/// What rules may consult.
pub struct Env<'e> {
    pub intel: &'e ThreatIntel,
    pub trusted: &'e TrustedList,
    pub aws: &'e AwsRanges,
}

/// Most distinct values a window remembers; every threshold is far below.
const DISTINCT_CAP: usize = 4096;
const EVENT_CAP: usize = 20;
/// When the window table grows past this, windows that ended long ago go.
const PRUNE_AT: usize = 200_000;

/// Counts within one tumbling time window for one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    bucket: i64,
    window: i64,
    pub count: u64,
    pub sum: u64,
    pub distinct: HashSet<String>,
    /// Values of interest noted along the way (accepted ports, for example).
    pub marks: HashSet<String>,
    pub events: Vec<String>,
    pub fired: bool,
    /// Earliest event time counted in this window.
    pub first: i64,
}

impl Tally {
    fn new(bucket: i64, window: i64) -> Self {
        Tally {
            bucket,
            window,
            count: 0,
            sum: 0,
            distinct: HashSet::default(),
            marks: HashSet::default(),
            events: Vec::new(),
            fired: false,
            first: i64::MAX,
        }
    }
    pub fn note(&mut self, distinct: Option<&str>, add: u64, event: Option<&str>) {
        self.count += 1;
        self.sum = self.sum.saturating_add(add);
        if let Some(d) = distinct
            && self.distinct.len() < DISTINCT_CAP
            && !self.distinct.contains(d)
        {
            self.distinct.insert(d.to_owned());
        }
        if let Some(e) = event
            && self.events.len() < EVENT_CAP
            && !e.is_empty()
        {
            self.events.push(e.to_owned());
        }
    }
    /// Counts one event that brings several distinct values.
    pub fn note_values(&mut self, values: &[String], event: &str) {
        self.count += 1;
        for v in values {
            if self.distinct.len() >= DISTINCT_CAP {
                break;
            }
            if !self.distinct.contains(v) {
                self.distinct.insert(v.clone());
            }
        }
        if self.events.len() < EVENT_CAP && !event.is_empty() {
            self.events.push(event.to_owned());
        }
    }
    pub fn mark(&mut self, v: &str) {
        if self.marks.len() < DISTINCT_CAP {
            self.marks.insert(v.to_owned());
        }
    }
}

/// Tumbling windows keyed by rule and entity. Memory is bounded by the keys
/// active in recent windows, not by the input size. Serialisable, so that
/// `--follow` can checkpoint the windows still open and a restart goes on
/// counting where it stopped.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Windows {
    map: HashMap<String, Tally>,
    latest: i64,
}

impl Windows {
    pub fn tally(&mut self, key: String, time: i64, window: i64) -> &mut Tally {
        if self.map.len() > PRUNE_AT {
            self.prune();
        }
        self.latest = self.latest.max(time);
        let bucket = time.div_euclid(window.max(1));
        let t = self
            .map
            .entry(key)
            .or_insert_with(|| Tally::new(bucket, window));
        if bucket > t.bucket {
            *t = Tally::new(bucket, window);
        }
        t.first = t.first.min(time);
        t
    }

    /// Drops windows that ended more than a window before the latest event
    /// time seen: late events of the window just closed still count.
    pub fn prune(&mut self) {
        let latest = self.latest;
        self.map.retain(|_, t| (t.bucket + 2) * t.window >= latest);
    }

    /// How many windows are open.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Shannon entropy of a string's bytes, in bits per character.
pub fn entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}
