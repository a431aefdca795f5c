//! Reading log files: decompression, format detection, and splitting a file
//! into records with positions for error reports.

use crate::cloudtrail::{CloudTrailRecord, CtEvent};
use crate::flow::{self, FlowLayout, FlowRecord, FlowSkip};
use crate::{Diagnostic, DiagnosticKind};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// The log formats Rampart reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CloudTrail: `{"Records":[…]}` files, JSON arrays, JSON lines, CloudTrail
    /// Lake query results and Athena exports.
    CloudTrail,
    /// VPC Flow Logs, text, default or custom field order.
    VpcFlow,
    /// Route 53 Resolver query logs, JSON lines.
    Route53,
}

impl Format {
    pub const NAMES: &'static str = "cloudtrail, vpcflow, route53";
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CloudTrail => "cloudtrail",
            Format::VpcFlow => "vpcflow",
            Format::Route53 => "route53",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloudtrail" | "ct" => Ok(Format::CloudTrail),
            "vpcflow" | "flow" | "flowlogs" | "vpc-flow" => Ok(Format::VpcFlow),
            "route53" | "dns" | "route53-resolver" => Ok(Format::Route53),
            _ => Err(format!(
                "unknown format {s:?}: use one of {}",
                Format::NAMES
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Undoes gzip (one or several members) when the bytes start with its magic
/// number. A truncated or corrupt stream keeps what was readable and says so.
pub fn decompress<'b>(name: &str, bytes: &'b [u8]) -> (Cow<'b, [u8]>, Option<Diagnostic>) {
    if !is_gzip(bytes) {
        return (Cow::Borrowed(bytes), None);
    }
    let mut out = Vec::new();
    let d = gunzip_into(name, bytes, &mut out);
    (Cow::Owned(out), d)
}

/// Like [`decompress`], into a buffer the caller reuses across files (the
/// allocator then never sees a multi-megabyte free per file). Returns
/// whether the bytes were gzip.
pub fn decompress_into(name: &str, bytes: &[u8], out: &mut Vec<u8>) -> (bool, Option<Diagnostic>) {
    out.clear();
    if !is_gzip(bytes) {
        return (false, None);
    }
    (true, gunzip_into(name, bytes, out))
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Why a gzip member could not be read to its end.
enum GzProblem {
    Truncated,
    Corrupt(String),
    Checksum,
}

/// Decompresses every gzip member of `bytes` (RFC 1952) onto `out`.
///
/// flate2's gzip reader would do this too; reading the members here lets the
/// inflater write straight into `out`'s spare capacity (no zero-filling, no
/// intermediate copy) and checks each member's CRC-32 with crc32fast, whose
/// carry-less-multiply code is several times faster than the portable CRC
/// the gzip reader uses. Integrity is checked all the same: a member whose
/// checksum or length does not match is reported, and what it held is kept.
fn gunzip_into(name: &str, bytes: &[u8], out: &mut Vec<u8>) -> Option<Diagnostic> {
    let mut pos = 0usize;
    while pos < bytes.len() {
        let member_start = out.len();
        let problem = match gzip_member(&bytes[pos..], out) {
            Ok(used) => {
                pos += used;
                // Zero padding after the last member (some writers add it).
                if bytes[pos..].iter().all(|&b| b == 0) || !is_gzip(&bytes[pos..]) {
                    break;
                }
                continue;
            }
            Err(p) => p,
        };
        let what = match problem {
            GzProblem::Truncated => "gzip stream is truncated".to_owned(),
            GzProblem::Corrupt(e) => format!("gzip stream is corrupt ({e})"),
            GzProblem::Checksum => "gzip checksum does not match (the file is damaged)".to_owned(),
        };
        return Some(Diagnostic::new(
            DiagnosticKind::Truncated,
            name,
            Some(format!(
                "after {} decompressed bytes (member starting at byte {pos}, {} bytes from it)",
                out.len(),
                out.len() - member_start
            )),
            format!("{what}; the records read before the damage were kept"),
        ));
    }
    None
}

/// One member: header, deflate data, trailer. Returns the bytes it used.
fn gzip_member(b: &[u8], out: &mut Vec<u8>) -> Result<usize, GzProblem> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if b.len() < 10 {
        return Err(GzProblem::Truncated);
    }
    if b[2] != 8 {
        return Err(GzProblem::Corrupt(format!(
            "compression method {} is not deflate",
            b[2]
        )));
    }
    let flags = b[3];
    let mut i = 10usize;
    if flags & FEXTRA != 0 {
        let len = b.get(i..i + 2).ok_or(GzProblem::Truncated)?;
        i += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = b
                .get(i..)
                .and_then(|r| memchr::memchr(0, r))
                .ok_or(GzProblem::Truncated)?;
            i += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        i += 2;
    }
    let mut input = b.get(i..).ok_or(GzProblem::Truncated)?;
    let start = out.len();
    let mut inflater = flate2::Decompress::new(false);
    loop {
        // Grow ahead: CloudTrail JSON compresses about tenfold.
        if out.capacity() - out.len() < 64 * 1024 {
            out.reserve((input.len() * 4).max(256 * 1024));
        }
        let before_in = inflater.total_in();
        let status = inflater
            .decompress_vec(input, out, flate2::FlushDecompress::None)
            .map_err(|e| GzProblem::Corrupt(e.to_string()))?;
        let used = (inflater.total_in() - before_in) as usize;
        input = &input[used..];
        match status {
            flate2::Status::StreamEnd => break,
            _ if input.is_empty() => return Err(GzProblem::Truncated),
            _ => {}
        }
    }
    let trailer = input.get(..8).ok_or(GzProblem::Truncated)?;
    let want_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let want_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let got = &out[start..];
    if crc32fast::hash(got) != want_crc || got.len() as u32 != want_len {
        return Err(GzProblem::Checksum);
    }
    Ok(b.len() - input.len() + 8)
}

/// Text from bytes; invalid UTF-8 is replaced (and reported) rather than
/// losing the file.
pub fn to_text<'b>(name: &str, bytes: &'b [u8]) -> (Cow<'b, str>, Option<Diagnostic>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s.strip_prefix('\u{feff}').unwrap_or(s)), None),
        Err(e) => {
            let d = Diagnostic::malformed(
                name,
                Some(format!("byte offset {}", e.valid_up_to())),
                "invalid UTF-8; the bad bytes were replaced and the file read on".into(),
            );
            (
                Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
                Some(d),
            )
        }
    }
}

/// Recognises the format from the first bytes of a file's text.
pub fn detect(text: &str) -> Result<Format, String> {
    let t = text.trim_start();
    let head = &t[..floor_char(t, 4096)];
    if t.starts_with('[') {
        return Ok(Format::CloudTrail);
    }
    if t.starts_with('{') {
        let first_line = head.lines().next().unwrap_or("");
        if head[..floor_char(head, 200)].contains("\"Records\"")
            || head.contains("\"QueryResultRows\"")
        {
            return Ok(Format::CloudTrail);
        }
        let probe = if first_line.trim() == "{" {
            head
        } else {
            first_line
        };
        if probe.contains("\"query_name\"") {
            return Ok(Format::Route53);
        }
        for key in [
            "\"eventName\"",
            "\"eventname\"",
            "\"eventSource\"",
            "\"eventsource\"",
            "\"eventTime\"",
            "\"eventtime\"",
        ] {
            if probe.contains(key) {
                return Ok(Format::CloudTrail);
            }
        }
        return Err(format!(
            "JSON that is neither CloudTrail (no eventName, eventSource or Records) nor Route 53 Resolver query logs (no query_name); it starts {:?}",
            &first_line[..floor_char(first_line, 60)]
        ));
    }
    let first = t.lines().next().unwrap_or("");
    if FlowLayout::from_header(first).is_some() {
        return Ok(Format::VpcFlow);
    }
    match flow::parse_line(&FlowLayout::default_v2(), first) {
        Ok(_) | Err(FlowSkip::NoData) if first.split_ascii_whitespace().count() == 14 => {
            Ok(Format::VpcFlow)
        }
        _ if t.is_empty() => Err("the file is empty".into()),
        _ => Err(format!(
            "not CloudTrail, VPC Flow Logs or Route 53 Resolver query logs; it starts {:?} (use --format-hint to say which it is)",
            &first[..floor_char(first, 60)]
        )),
    }
}

fn floor_char(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Line number (1-based) of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset.min(text.len())]).count() + 1
}

/// One CloudTrail record's JSON text: borrowed from the file, or assembled
/// (CloudTrail Lake rows).
pub enum RecordText<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl RecordText<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            RecordText::Borrowed(s) => s,
            RecordText::Owned(s) => s,
        }
    }
}

/// Where a record sits in its file, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub index: usize,
    pub line: Option<usize>,
    pub offset: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}"),
            None => write!(f, "record {} (byte offset {})", self.index + 1, self.offset),
        }
    }
}

type Sink<'s, 'a> = &'s mut dyn FnMut(RecordText<'a>, Position);

/// Splits CloudTrail text into records. Whole-document shapes
/// (`{"Records":[…]}`, `[…]`, `{"QueryResultRows":[…]}`) are streamed, so a
/// truncated document still yields every record before the damage.
pub fn cloudtrail_records<'a>(
    name: &str,
    text: &'a str,
    sink: Sink<'_, 'a>,
    diags: &mut Vec<Diagnostic>,
) {
    let t = text.trim_start();
    let first_line = t.lines().next().unwrap_or("");
    let whole_document = t.starts_with('[')
        || (t.starts_with('{')
            && (first_line.trim() == "{"
                || t[..floor_char(t, 200)].contains("\"Records\"")
                || t[..floor_char(t, 4096)].contains("\"QueryResultRows\"")));
    if !whole_document {
        json_lines(text, |line, pos| sink(RecordText::Borrowed(line), pos));
        return;
    }
    if let Some(rest) = records_array_start(t) {
        let start = text.len() - rest.len();
        // Records are parsed on the way (their ends are where the parser
        // stopped); callers of this function want only the text.
        parse_records(
            name,
            text,
            start,
            &mut |raw, _, pos| sink(RecordText::Borrowed(raw), pos),
            diags,
        );
        return;
    }
    let base = text.as_ptr() as usize;
    let mut index = 0usize;
    let mut saw_container = false;
    let mut deliver = |item: RecordText<'a>| {
        let offset = match &item {
            RecordText::Borrowed(s) => (s.as_ptr() as usize).saturating_sub(base),
            RecordText::Owned(_) => 0,
        };
        sink(
            item,
            Position {
                index,
                line: None,
                offset,
            },
        );
        index += 1;
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let result = DocSeed {
        sink: &mut deliver,
        saw_container: &mut saw_container,
    }
    .deserialize(&mut de);
    if let Err(e) = result {
        let kind = if e.is_eof() {
            "ends early"
        } else {
            "is malformed"
        };
        diags.push(Diagnostic::malformed(
            name,
            Some(format!("line {} column {}", e.line(), e.column())),
            format!("the JSON document {kind} ({e}); {index} records before it were read"),
        ));
        return;
    }
    if !saw_container {
        // A single pretty-printed event.
        let whole = text.trim();
        deliver(RecordText::Borrowed(whole));
    }
}

/// Receives each CloudTrail record's text with its typed event (or why it
/// did not parse), for one call: the text may not outlive it.
/// Events are lent, not handed over: a record is a large struct, and moving
/// it through each layer cost more than some rules.
pub type EventSink<'s> =
    &'s mut dyn for<'r> FnMut(&'r str, Result<&CtEvent<'r>, serde_json::Error>, Position);

/// Reads CloudTrail text into typed events. For the shape CloudTrail writes
/// to S3 (`{"Records":[…]}`), each record is parsed once, straight from the
/// document, and its end is where the parser stopped; other shapes are split
/// by [`cloudtrail_records`] first. One pass over the bytes instead of two is
/// most of the difference to a bare parse (see docs/benchmarks.md).
pub fn cloudtrail_events(name: &str, text: &str, sink: EventSink<'_>, diags: &mut Vec<Diagnostic>) {
    if let Some(rest) = records_array_start(text.trim_start()) {
        let start = text.len() - rest.len();
        parse_records(
            name,
            text,
            start,
            &mut |raw, ev, pos| sink(raw, ev, pos),
            diags,
        );
        return;
    }
    cloudtrail_records(
        name,
        text,
        &mut |rec, pos| {
            let raw = rec.as_str();
            match CtEvent::parse(raw) {
                Ok(ev) => sink(raw, Ok(&ev), pos),
                Err(e) => sink(raw, Err(e), pos),
            }
        },
        diags,
    );
}

/// Where [`parse_records`] hands each record: its text (borrowed from the
/// document, so callers may keep it) and the parsed event or the error.
type RecordSink<'s, 'a> =
    &'s mut dyn FnMut(&'a str, Result<&CtEvent<'a>, serde_json::Error>, Position);

/// Parses the elements of a `Records` array of objects starting at byte
/// `start` of `text`, one at a time: a truncated document still yields
/// every record before the damage, and a record that does not parse is
/// skipped by its braces and handed on with its error.
fn parse_records<'a>(
    name: &str,
    text: &'a str,
    start: usize,
    sink: RecordSink<'_, 'a>,
    diags: &mut Vec<Diagnostic>,
) {
    let b = text.as_bytes();
    let mut i = start;
    let mut index = 0usize;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            diags.push(Diagnostic::malformed(
                name,
                Some(format!("line {}", line_of(text, i))),
                format!("the JSON document ends early (no closing ]); {index} records before it were read"),
            ));
            return;
        }
        let position = Position {
            index,
            line: None,
            offset: i,
        };
        match b[i] {
            b']' => return,
            b'{' => {
                // `i` is at an ASCII brace, so a character boundary.
                let rest = &text[i..];
                let mut stream =
                    serde_json::Deserializer::from_str(rest).into_iter::<CloudTrailRecord<'_>>();
                let parsed = stream.next();
                let parsed_len = stream.byte_offset();
                match parsed {
                    Some(Ok(rec)) => {
                        let raw = &rest[..parsed_len];
                        let ev = CtEvent::from_record(rec, raw);
                        sink(raw, Ok(&ev), position);
                        i += parsed_len;
                    }
                    // Not a valid record: skip it by its braces and let
                    // the caller report it.
                    Some(Err(e)) => match object_end(rest.as_bytes()) {
                        Some(len) => {
                            sink(&rest[..len], Err(e), position);
                            i += len;
                        }
                        None => {
                            diags.push(Diagnostic::malformed(
                                name,
                                Some(format!("line {}", line_of(text, i))),
                                format!("the JSON document ends early inside record {}; {index} records before it were read", index + 1),
                            ));
                            return;
                        }
                    },
                    None => return,
                }
                index += 1;
            }
            other => {
                diags.push(Diagnostic::malformed(
                    name,
                    Some(format!("line {} (byte offset {i})", line_of(text, i))),
                    format!("the JSON document is malformed: expected a record or ], found {:?}; {index} records before it were read", other as char),
                ));
                return;
            }
        }
    }
}

/// For the shape CloudTrail writes to S3, `{"Records":[` first, the text
/// right after the `[`.
fn records_array_start(t: &str) -> Option<&str> {
    let rest = t
        .strip_prefix('{')?
        .trim_start()
        .strip_prefix("\"Records\"")?
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    rest.strip_prefix('[')
}

/// End (exclusive) of the JSON object starting at `bytes[0] == b'{'`: braces
/// are counted outside strings (escapes respected). The typed parser
/// validates the object afterwards; this only finds its end, faster than a
/// validating scan.
fn object_end(bytes: &[u8]) -> Option<usize> {
    // A plain loop beats memchr here: CloudTrail strings are short, and a
    // call per string costs more than it saves.
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Calls `f` for every non-empty line with its 1-based line number.
pub fn json_lines<'a>(text: &'a str, mut f: impl FnMut(&'a str, Position)) {
    let mut offset = 0usize;
    let mut index = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        let start = offset;
        offset += line.len() + 1;
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        f(
            l,
            Position {
                index,
                line: Some(i + 1),
                offset: start,
            },
        );
        index += 1;
    }
}

struct DocSeed<'s, F> {
    sink: &'s mut F,
    saw_container: &'s mut bool,
}

impl<'de, F: FnMut(RecordText<'de>)> DeserializeSeed<'de> for DocSeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(RecordText<'de>)> Visitor<'de> for DocSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a CloudTrail document: {\"Records\": [...]}, [...] or {\"QueryResultRows\": [...]}",
        )
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        *self.saw_container = true;
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            (self.sink)(RecordText::Borrowed(raw.get()));
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "Records" => {
                    *self.saw_container = true;
                    map.next_value_seed(ArraySeed {
                        sink: &mut *self.sink,
                    })?;
                }
                "QueryResultRows" => {
                    *self.saw_container = true;
                    map.next_value_seed(LakeSeed {
                        sink: &mut *self.sink,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ArraySeed<'s, F> {
    sink: &'s mut F,
}

impl<'de, F: FnMut(RecordText<'de>)> DeserializeSeed<'de> for ArraySeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(RecordText<'de>)> Visitor<'de> for ArraySeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            (self.sink)(RecordText::Borrowed(raw.get()));
        }
        Ok(())
    }
}

/// CloudTrail Lake `GetQueryResults` rows: each row is a list of one-key
/// objects (`[{"eventID":"…"},{"eventName":"…"}]`); columns are merged into
/// one record. Columns holding JSON text (`userIdentity`, `eventJson`) are
/// embedded as JSON.
struct LakeSeed<'s, F> {
    sink: &'s mut F,
}

impl<'de, F: FnMut(RecordText<'de>)> DeserializeSeed<'de> for LakeSeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(RecordText<'de>)> Visitor<'de> for LakeSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("CloudTrail Lake result rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) =
            seq.next_element::<Vec<serde_json::Map<String, serde_json::Value>>>()?
        {
            let mut obj = serde_json::Map::new();
            for cell in row {
                for (k, v) in cell {
                    let v = match v {
                        serde_json::Value::String(s)
                            if s.starts_with('{') || s.starts_with('[') =>
                        {
                            serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))
                        }
                        other => other,
                    };
                    if k.eq_ignore_ascii_case("eventJson") {
                        if let serde_json::Value::Object(m) = v {
                            obj.extend(m);
                        }
                    } else {
                        obj.insert(k, v);
                    }
                }
            }
            (self.sink)(RecordText::Owned(
                serde_json::Value::Object(obj).to_string(),
            ));
        }
        Ok(())
    }
}

/// Splits flow-log text into records: the layout comes from the header line,
/// or is the default version 2 format when there is none.
pub fn flow_records<'a>(
    name: &str,
    text: &'a str,
    mut sink: impl FnMut(FlowRecord<'a>),
    diags: &mut Vec<Diagnostic>,
) {
    let mut layout: Option<FlowLayout> = None;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let lay = match &layout {
            Some(l) => l,
            None => {
                if let Some(h) = FlowLayout::from_header(l) {
                    layout = Some(h);
                    continue;
                }
                layout.insert(FlowLayout::default_v2())
            }
        };
        match flow::parse_line(lay, l) {
            Ok(r) => sink(r),
            Err(FlowSkip::NoData) => {}
            Err(FlowSkip::Malformed(m)) => diags.push(Diagnostic::malformed(
                name,
                Some(format!("line {}", i + 1)),
                m,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> (Vec<String>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut d = Vec::new();
        cloudtrail_records(
            "f",
            text,
            &mut |r, _| out.push(r.as_str().to_owned()),
            &mut d,
        );
        (out, d)
    }

    #[test]
    fn records_are_parsed_in_one_pass_with_their_exact_text() {
        // The second record is not JSON (a colon is missing); the document
        // is cut off after the third.
        let text = r#"{"Records":[{"eventName":"A","eventSource":"s"}, {"eventName" 5,"x":"}"},
            {"eventName":"B","eventSource":"s","userIdentity":{"type":"Root"}}"#;
        let mut got = Vec::new();
        let mut d = Vec::new();
        cloudtrail_events(
            "f",
            text,
            &mut |raw, parsed, pos| {
                got.push((
                    raw.to_owned(),
                    parsed.map(|e| e.event_name().to_owned()).ok(),
                    pos.index,
                ))
            },
            &mut d,
        );
        assert_eq!(
            got,
            vec![
                (
                    r#"{"eventName":"A","eventSource":"s"}"#.to_owned(),
                    Some("A".to_owned()),
                    0
                ),
                (r#"{"eventName" 5,"x":"}"}"#.to_owned(), None, 1),
                (
                    r#"{"eventName":"B","eventSource":"s","userIdentity":{"type":"Root"}}"#
                        .to_owned(),
                    Some("B".to_owned()),
                    2
                ),
            ]
        );
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("3 records before it"), "{:?}", d[0]);
        // Other shapes are split by `cloudtrail_records` and parsed after it.
        let mut names = Vec::new();
        cloudtrail_events(
            "f",
            "{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n",
            &mut |_, parsed, _| names.push(parsed.map(|e| e.event_name().to_owned()).ok()),
            &mut d,
        );
        assert_eq!(names, vec![Some("A".to_owned()), Some("B".to_owned())]);
    }

    #[test]
    fn shapes() {
        let (r, d) = collect(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#);
        assert_eq!(r.len(), 2);
        assert!(d.is_empty());
        let (r, _) = collect("[{\"eventName\":\"A\"}]");
        assert_eq!(r.len(), 1);
        let (r, _) = collect("{\"eventName\":\"A\"}\n\n{\"eventName\":\"B\"}\n");
        assert_eq!(r, vec!["{\"eventName\":\"A\"}", "{\"eventName\":\"B\"}"]);
        let (r, _) = collect(
            r#"{"QueryResultRows":[[{"eventName":"A"},{"userIdentity":"{\"type\":\"Root\"}"}]]}"#,
        );
        assert_eq!(
            r,
            vec![r#"{"eventName":"A","userIdentity":{"type":"Root"}}"#]
        );
        let (r, _) = collect("{\n  \"eventName\": \"A\"\n}\n");
        assert_eq!(r.len(), 1);
    }

    fn gz_with(data: &[u8], name: Option<&str>) -> Vec<u8> {
        use std::io::Write;
        let mut b = flate2::GzBuilder::new();
        if let Some(n) = name {
            b = b.filename(n).comment("made by a test").extra(vec![1, 2, 3]);
        }
        let mut e = b.write(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_members_headers_and_checksums() {
        let body: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        // Two members, the first with every optional header field, then padding.
        let mut two = gz_with(&body, Some("a.json"));
        two.extend(gz_with(b"second member", None));
        two.extend([0u8; 16]);
        let mut out = Vec::new();
        let (gzipped, problem) = decompress_into("f.gz", &two, &mut out);
        assert!(gzipped && problem.is_none(), "{problem:?}");
        let mut want = body.clone();
        want.extend_from_slice(b"second member");
        assert!(out == want, "both members, in order");

        // A flipped byte in the stored CRC: reported, the data kept.
        let mut bad = gz_with(&body, None);
        let n = bad.len();
        bad[n - 6] ^= 0x40;
        let mut out = Vec::new();
        let d = gunzip_into("f.gz", &bad, &mut out).expect("a checksum error");
        assert!(
            d.message.contains("checksum does not match"),
            "{}",
            d.message
        );
        assert_eq!(out.len(), body.len());

        // Cut in the middle of the deflate data, and in the header.
        let good = gz_with(&body, Some("a.json"));
        for cut in [good.len() / 2, 12, 3] {
            let mut out = Vec::new();
            let d = gunzip_into("f.gz", &good[..cut], &mut out).expect("truncated");
            assert!(d.message.contains("truncated"), "{cut}: {}", d.message);
        }
        // Not deflate.
        let mut odd = good.clone();
        odd[2] = 7;
        let d = gunzip_into("f.gz", &odd, &mut Vec::new()).expect("corrupt");
        assert!(d.message.contains("not deflate"), "{}", d.message);
    }

    #[test]
    fn truncated_document_keeps_earlier_records() {
        let (r, d) = collect(r#"{"Records":[{"eventName":"A"},{"eventName":"B"},{"eventNa"#);
        assert_eq!(r.len(), 2);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("ends early"), "{}", d[0]);
    }

    #[test]
    fn object_ends() {
        assert_eq!(
            object_end(br#"{"a":"}\"{","b":{"c":[1,{}]}} tail"#),
            Some(29)
        );
        assert_eq!(object_end(br#"{"a":"unterminated"#), None);
        assert_eq!(object_end(b"{{}"), None);
        let (r, d) = collect(r#"{"Records":[{"eventName":"A"}, x]}"#);
        assert_eq!((r.len(), d.len()), (1, 1));
    }

    #[test]
    fn detection() {
        assert_eq!(detect(r#"{"Records":[]}"#), Ok(Format::CloudTrail));
        assert_eq!(
            detect(r#"{"query_name":"a.","srcaddr":"1.2.3.4"}"#),
            Ok(Format::Route53)
        );
        assert_eq!(
            detect(
                "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
            ),
            Ok(Format::VpcFlow)
        );
        assert_eq!(
            detect("2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n"),
            Ok(Format::VpcFlow)
        );
        assert!(
            detect("hello world")
                .expect_err("unknown")
                .contains("hello world")
        );
        assert!(detect(r#"{"foo":1}"#).is_err());
    }

    #[test]
    fn gzip_truncation_is_reported_and_keeps_data() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let body: String = (0..2000)
            .map(|i| format!("{{\"eventName\":\"E{i}\"}}\n"))
            .collect();
        enc.write_all(body.as_bytes()).expect("write");
        let gz = enc.finish().expect("finish");
        let (full, d) = decompress("f.gz", &gz);
        assert!(d.is_none());
        assert_eq!(full.len(), body.len());
        let (part, d) = decompress("f.gz", &gz[..gz.len() / 2]);
        assert!(d.is_some());
        assert!(!part.is_empty() && part.len() < body.len());
    }
}
