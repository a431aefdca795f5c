//! Looking inside archives (`--archives`): zip and its relatives (jar, war,
//! ear, apk, whl, nupkg, vsix), tar, and gzip (so `.tar.gz`/`.tgz` and
//! single gzipped files). Archives are recognised by their first bytes, not
//! their names, so a renamed jar is still opened.
//!
//! Archives are where build pipelines hide secrets (a `.env` baked into a
//! wheel, `application.properties` in a jar), and also where an attacker
//! hides a bomb: a few kilobytes that expand to terabytes, or archives nested
//! a thousand deep. Every read here is bounded by [`ArchiveLimits`]: the bytes
//! one top-level archive may expand to in total, the nesting depth, and the
//! number of entries. Crossing a limit is a warning naming the archive, and
//! what was read up to that point is still scanned.
//!
//! Entries are shown as `outer.zip!/inner/path`, the convention of Java's
//! `jar:` URLs, nested as `a.zip!/b.tar.gz!/c.env`.

use flate2::read::MultiGzDecoder;
use std::io::{Cursor, Read};

/// Bounds on what one top-level archive may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Archives inside archives: 1 opens only the outer one.
    pub max_depth: usize,
    /// Bytes all entries of one top-level archive may expand to, together.
    pub max_total_bytes: u64,
    /// Entries read from one top-level archive, at every depth together.
    pub max_entries: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 5,
            max_total_bytes: 256 * 1024 * 1024,
            max_entries: 100_000,
        }
    }
}

/// What kind of archive some bytes are, by their magic numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    Tar,
    Gzip,
}

/// Recognises an archive by its first bytes. A tar has no magic at the
/// start; its `ustar` marker sits at offset 257.
pub fn archive_kind(data: &[u8]) -> Option<ArchiveKind> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(ArchiveKind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Some(ArchiveKind::Gzip)
    } else if data.len() >= 262 && &data[257..262] == b"ustar" {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// One file found inside an archive, handed to the scanner.
pub struct Entry<'a> {
    /// `outer.zip!/inner/path`.
    pub path: &'a str,
    pub data: &'a [u8],
}

/// Where entries and problems go.
pub trait Sink {
    /// A regular file inside an archive (not itself an archive, or an
    /// archive too deep to open).
    fn entry(&mut self, entry: Entry<'_>);
    /// A problem with the archive at `path`; scanning goes on.
    fn warn(&mut self, path: &str, message: String);
    /// An entry larger than the per-file limit, not scanned.
    fn too_large(&mut self, path: &str, size: u64, limit: u64);
}

/// Walks one top-level archive (already read into memory, as every scanned
/// file is) and hands every file inside it to `sink`.
pub fn expand(
    path: &str,
    data: &[u8],
    kind: ArchiveKind,
    limits: ArchiveLimits,
    max_file_size: u64,
    sink: &mut dyn Sink,
) {
    let mut budget = Budget {
        limits,
        max_file_size,
        bytes_left: limits.max_total_bytes,
        entries_left: limits.max_entries,
        exhausted: false,
    };
    budget.open(path, data, kind, 1, sink);
}

struct Budget {
    limits: ArchiveLimits,
    max_file_size: u64,
    bytes_left: u64,
    entries_left: u64,
    /// Set once a total limit is crossed: nothing more is read from this
    /// top-level archive, and the warning is given once.
    exhausted: bool,
}

/// How reading one entry went.
enum EntryRead {
    Data(Vec<u8>),
    TooLarge(u64),
    Stop,
}

impl Budget {
    fn open(
        &mut self,
        path: &str,
        data: &[u8],
        kind: ArchiveKind,
        depth: usize,
        sink: &mut dyn Sink,
    ) {
        match kind {
            ArchiveKind::Zip => self.zip(path, data, depth, sink),
            ArchiveKind::Tar => self.tar(path, Cursor::new(data), depth, sink),
            ArchiveKind::Gzip => self.gzip(path, data, depth, sink),
        }
    }

    /// Takes one entry from the entry budget; false when it is spent.
    fn take_entry(&mut self, archive: &str, sink: &mut dyn Sink) -> bool {
        if self.exhausted {
            return false;
        }
        if self.entries_left == 0 {
            self.exhausted = true;
            sink.warn(
                archive,
                format!(
                    "archive holds more than {} entries; the rest were not scanned",
                    self.limits.max_entries
                ),
            );
            return false;
        }
        self.entries_left -= 1;
        true
    }

    /// Reads one entry, bounded by the per-file limit and what is left of
    /// the total budget. The declared size is never trusted: a bomb lies.
    fn read(&mut self, archive: &str, reader: &mut dyn Read, sink: &mut dyn Sink) -> EntryRead {
        let cap = self.max_file_size.min(self.bytes_left);
        let mut out = Vec::new();
        match reader.take(cap + 1).read_to_end(&mut out) {
            Ok(_) => {}
            Err(e) => {
                sink.warn(archive, format!("could not read archive entry: {e}"));
                return EntryRead::Stop;
            }
        }
        let got = out.len() as u64;
        if got > cap {
            if cap < self.max_file_size {
                self.exhausted = true;
                sink.warn(
                    archive,
                    format!(
                        "archive expands to more than {} bytes in total; the rest was not \
                         scanned (a zip bomb, or raise the limit with --archive-max-bytes)",
                        self.limits.max_total_bytes
                    ),
                );
                return EntryRead::Stop;
            }
            // Count what the entry really expands to, within the budget.
            let mut seen = got;
            let mut sink_buf = [0u8; 64 * 1024];
            let left = self.bytes_left.saturating_sub(got);
            let mut bounded = reader.take(left);
            while let Ok(n) = bounded.read(&mut sink_buf) {
                if n == 0 {
                    break;
                }
                seen += n as u64;
            }
            self.bytes_left = self.bytes_left.saturating_sub(seen);
            return EntryRead::TooLarge(seen);
        }
        self.bytes_left -= got;
        EntryRead::Data(out)
    }

    /// An entry's bytes: opened again when they are an archive themselves.
    fn found(&mut self, path: &str, data: &[u8], depth: usize, sink: &mut dyn Sink) {
        match archive_kind(data) {
            Some(kind) if depth < self.limits.max_depth => {
                self.open(path, data, kind, depth + 1, sink)
            }
            Some(_) => sink.warn(
                path,
                format!(
                    "archive nested more than {} deep; not opened (raise with --archive-depth)",
                    self.limits.max_depth
                ),
            ),
            None => sink.entry(Entry { path, data }),
        }
    }

    fn zip(&mut self, path: &str, data: &[u8], depth: usize, sink: &mut dyn Sink) {
        let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
            Ok(a) => a,
            Err(e) => return sink.warn(path, format!("not a readable zip archive: {e}")),
        };
        for i in 0..archive.len() {
            if !self.take_entry(path, sink) {
                return;
            }
            let mut file = match archive.by_index(i) {
                Ok(f) => f,
                Err(zip::result::ZipError::UnsupportedArchive(what)) => {
                    sink.warn(path, format!("entry {i} not scanned: {what}"));
                    continue;
                }
                Err(e) => {
                    sink.warn(path, format!("entry {i} could not be read: {e}"));
                    continue;
                }
            };
            if !file.is_file() {
                continue;
            }
            let name = match file.name() {
                Ok(n) => clean_name(&n),
                Err(_) => format!("entry-{i}"),
            };
            let inner = format!("{path}!/{name}");
            match self.read(path, &mut file, sink) {
                EntryRead::Data(bytes) => {
                    drop(file);
                    self.found(&inner, &bytes, depth, sink);
                }
                EntryRead::TooLarge(size) => sink.too_large(&inner, size, self.max_file_size),
                EntryRead::Stop => return,
            }
        }
    }

    fn tar<R: Read>(&mut self, path: &str, reader: R, depth: usize, sink: &mut dyn Sink) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return sink.warn(path, format!("not a readable tar archive: {e}")),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // A tar is a stream: after a broken header nothing
                    // further can be found reliably.
                    return sink.warn(path, format!("tar archive is damaged: {e}"));
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            if !self.take_entry(path, sink) {
                return;
            }
            let name = match entry.path() {
                Ok(p) => clean_name(&p.to_string_lossy()),
                Err(_) => clean_name(&String::from_utf8_lossy(&entry.path_bytes())),
            };
            let inner = format!("{path}!/{name}");
            match self.read(path, &mut entry, sink) {
                EntryRead::Data(bytes) => self.found(&inner, &bytes, depth, sink),
                EntryRead::TooLarge(size) => sink.too_large(&inner, size, self.max_file_size),
                EntryRead::Stop => return,
            }
        }
    }

    /// Gzip holds one file: a tar (then its entries are the files) or
    /// anything else (then it is the file, named without `.gz`).
    fn gzip(&mut self, path: &str, data: &[u8], depth: usize, sink: &mut dyn Sink) {
        if !self.take_entry(path, sink) {
            return;
        }
        let mut decoder = MultiGzDecoder::new(data);
        // The decompressed tar is bounded by the total budget, not the
        // per-file limit: a .tar.gz may be much larger than any one file.
        let cap = self.bytes_left;
        let mut out = Vec::new();
        if let Err(e) = (&mut decoder).take(cap + 1).read_to_end(&mut out) {
            sink.warn(
                path,
                format!("gzip stream is damaged ({e}); what could be read is scanned"),
            );
        }
        if out.len() as u64 > cap {
            self.exhausted = true;
            out.truncate(cap as usize);
            sink.warn(
                path,
                format!(
                    "archive expands to more than {} bytes in total; the rest was not scanned \
                     (a zip bomb, or raise the limit with --archive-max-bytes)",
                    self.limits.max_total_bytes
                ),
            );
        }
        self.bytes_left = self.bytes_left.saturating_sub(out.len() as u64);
        if archive_kind(&out) == Some(ArchiveKind::Tar) {
            // The tar's own entries are charged again as they are read;
            // give back what the decompressed stream took, so a .tar.gz
            // costs what its files weigh, once.
            self.bytes_left += out.len() as u64;
            let before = self.exhausted;
            self.exhausted = false;
            self.tar(path, Cursor::new(&out[..]), depth, sink);
            self.exhausted |= before;
            return;
        }
        let inner_name = gunzipped_name(path);
        if out.len() as u64 > self.max_file_size {
            return sink.too_large(&inner_name, out.len() as u64, self.max_file_size);
        }
        self.found(&inner_name, &out, depth, sink);
    }
}

/// Archive member names as shown: forward slashes, no leading `/` or `./`.
fn clean_name(name: &str) -> String {
    let name = name.replace('\\', "/");
    let trimmed = name.trim_start_matches("./").trim_start_matches('/');
    trimmed
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `logs/app.log.gz` → `logs/app.log.gz!/app.log`.
fn gunzipped_name(path: &str) -> String {
    let base = path.rsplit(['/', '!']).next().unwrap_or(path);
    let inner = base
        .strip_suffix(".gz")
        .or_else(|| base.strip_suffix(".GZ"))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{base}.contents"));
    format!("{path}!/{inner}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Default)]
    struct Collect {
        entries: Vec<(String, Vec<u8>)>,
        warnings: Vec<(String, String)>,
        too_large: Vec<(String, u64)>,
    }

    impl Sink for Collect {
        fn entry(&mut self, e: Entry<'_>) {
            self.entries.push((e.path.to_owned(), e.data.to_vec()));
        }
        fn warn(&mut self, path: &str, message: String) {
            self.warnings.push((path.to_owned(), message));
        }
        fn too_large(&mut self, path: &str, size: u64, _limit: u64) {
            self.too_large.push((path.to_owned(), size));
        }
    }

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn run(path: &str, data: &[u8], limits: ArchiveLimits, max_file: u64) -> Collect {
        let mut c = Collect::default();
        let kind = archive_kind(data).expect("an archive");
        expand(path, data, kind, limits, max_file, &mut c);
        c
    }

    #[test]
    fn recognises_archives_by_their_bytes() {
        assert_eq!(
            archive_kind(&zip_of(&[("a", b"x")])),
            Some(ArchiveKind::Zip)
        );
        assert_eq!(
            archive_kind(&tar_of(&[("a", b"x")])),
            Some(ArchiveKind::Tar)
        );
        assert_eq!(archive_kind(&gz(b"x")), Some(ArchiveKind::Gzip));
        assert_eq!(archive_kind(b"plain text"), None);
        assert_eq!(archive_kind(b""), None);
    }

    #[test]
    fn nested_archives_are_opened_with_their_paths() {
        let inner = gz(&tar_of(&[
            ("conf/app.env", b"TOKEN=1\n"),
            ("./b.txt", b"b"),
        ]));
        let outer = zip_of(&[("lib/inner.tgz", &inner), ("README", b"hello")]);
        let c = run("dist/app.zip", &outer, ArchiveLimits::default(), 1 << 20);
        let names: Vec<&str> = c.entries.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "dist/app.zip!/lib/inner.tgz!/conf/app.env",
                "dist/app.zip!/lib/inner.tgz!/b.txt",
                "dist/app.zip!/README"
            ]
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_single_gzipped_file_is_named_without_gz() {
        let c = run(
            "logs/app.log.gz",
            &gz(b"line\n"),
            ArchiveLimits::default(),
            1 << 20,
        );
        assert_eq!(c.entries[0].0, "logs/app.log.gz!/app.log");
        assert_eq!(c.entries[0].1, b"line\n");
    }

    #[test]
    fn a_bomb_stops_at_the_total_budget_with_a_warning() {
        // 64 MiB of zeros compress to about 64 KiB.
        let zeros = vec![0u8; 64 << 20];
        let bomb = zip_of(&[("a", &zeros), ("b", &zeros), ("c", b"never read")]);
        assert!(bomb.len() < 1 << 20);
        let limits = ArchiveLimits {
            max_total_bytes: 100 << 20,
            ..ArchiveLimits::default()
        };
        let c = run("bomb.zip", &bomb, limits, 128 << 20);
        assert_eq!(
            c.entries.len(),
            1,
            "the first entry fits, the second does not"
        );
        assert!(
            c.warnings
                .iter()
                .any(|(p, m)| p == "bomb.zip" && m.contains("zip bomb")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn an_entry_over_the_file_limit_is_reported_not_read() {
        let big = vec![b'a'; 3000];
        let c = run(
            "a.zip",
            &zip_of(&[("big.txt", &big), ("ok", b"x")]),
            ArchiveLimits::default(),
            1000,
        );
        assert_eq!(c.too_large, [("a.zip!/big.txt".to_owned(), 3000)]);
        assert_eq!(c.entries.len(), 1);
    }

    #[test]
    fn nesting_past_the_depth_limit_is_a_warning() {
        let mut data = b"SECRET=1\n".to_vec();
        let mut names = vec![];
        for i in 0..8 {
            let name = format!("level{i}.zip");
            data = zip_of(&[(&name, &data)]);
            names.push(name);
        }
        let limits = ArchiveLimits {
            max_depth: 3,
            ..ArchiveLimits::default()
        };
        let c = run("deep.zip", &data, limits, 1 << 20);
        assert!(c.entries.is_empty());
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].1.contains("nested more than 3 deep"));
    }

    #[test]
    fn entry_count_limit_holds() {
        let files: Vec<(String, Vec<u8>)> =
            (0..50).map(|i| (format!("f{i}"), b"x".to_vec())).collect();
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let limits = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::default()
        };
        let c = run("many.tar", &tar_of(&refs), limits, 1 << 20);
        assert_eq!(c.entries.len(), 10);
        assert!(c.warnings[0].1.contains("more than 10 entries"));
    }

    #[test]
    fn damaged_archives_are_warnings_and_keep_what_was_read() {
        let mut z = zip_of(&[("a.env", b"A=1\n")]);
        z.truncate(z.len() / 2);
        let c = run("broken.zip", &z, ArchiveLimits::default(), 1 << 20);
        assert!(
            c.warnings[0].1.contains("not a readable zip"),
            "{:?}",
            c.warnings
        );

        let mut g = gz(&tar_of(&[("a.env", b"A=1\n"), ("b.env", &[b'b'; 5000])]));
        g.truncate(g.len() - 12);
        let c = run("broken.tgz", &g, ArchiveLimits::default(), 1 << 20);
        assert!(
            c.warnings
                .iter()
                .any(|(_, m)| m.contains("gzip stream is damaged"))
        );
        assert_eq!(c.entries[0].0, "broken.tgz!/a.env");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), kind in 0..3u8) {
            let kind = [ArchiveKind::Zip, ArchiveKind::Tar, ArchiveKind::Gzip][kind as usize];
            let mut c = Collect::default();
            expand("x", &data, kind, ArchiveLimits::default(), 1 << 20, &mut c);
        }

        #[test]
        fn mangled_real_archives_never_panic(cut in 0usize..400, flip in 0usize..400, byte in proptest::num::u8::ANY) {
            let z = zip_of(&[("a.env", b"TOKEN=abc\n"), ("b/c.txt", b"hello world")]);
            for mut data in [z, gz(&tar_of(&[("a", b"1"), ("b", b"2")]))] {
                let n = data.len();
                data[flip % n] = byte;
                data.truncate(n - cut.min(n));
                let mut c = Collect::default();
                if let Some(kind) = archive_kind(&data) {
                    expand("x", &data, kind, ArchiveLimits::default(), 1 << 20, &mut c);
                }
            }
        }
    }
}
