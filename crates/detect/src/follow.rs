//! Checkpoints for `rampart detect --follow`: which inputs (files, S3
//! objects) have been read, by name and identity, kept in the state
//! directory so that a restart neither misses nor repeats one.
//!
//! The caller records an input only after the findings it raised have been
//! written out, then saves: a crash between the two reads that input again
//! (its findings were never emitted), never skips it.
//!
//! The engine's open threshold windows are saved in the same file, in the
//! same atomic write, so the windows always count exactly the inputs the
//! checkpoint says were read: a restart neither loses nor double-counts the
//! activity of a window that spans it.

use crate::engine::WindowState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

const FILE: &str = "follow.json";

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct CheckpointFile {
    version: u32,
    /// Per watched source (a directory or `s3://bucket/prefix`): input name
    /// to the identity it had when it was read.
    sources: BTreeMap<String, BTreeMap<String, String>>,
    /// The engine's state after the inputs above (absent in checkpoints
    /// written before windows were kept: those restart windows from zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    windows: Option<WindowState>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read or write the checkpoint {0}: {1}")]
    Io(String, std::io::Error),
    #[error(
        "the checkpoint {0} is damaged ({1}); move it away to read every input again, or restore it from a backup"
    )]
    Corrupt(String, serde_json::Error),
}

/// The inputs already read, per source.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
    data: CheckpointFile,
}

/// The identity of a local file version: size and modification time (to the
/// nanosecond, where the filesystem keeps it).
pub fn file_identity(meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    format!(
        "size:{} mtime:{}.{:09}",
        meta.len(),
        mtime.as_secs(),
        mtime.subsec_nanos()
    )
}

impl Checkpoint {
    /// Loads `DIR/follow.json`, or an empty checkpoint when there is none.
    pub fn load(dir: &Path) -> Result<Self, CheckpointError> {
        let path = dir.join(FILE);
        let data = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t)
                .map_err(|e| CheckpointError::Corrupt(path.display().to_string(), e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CheckpointFile {
                version: 1,
                ..CheckpointFile::default()
            },
            Err(e) => return Err(CheckpointError::Io(path.display().to_string(), e)),
        };
        Ok(Checkpoint { path, data })
    }

    /// Whether `name` of `source` was read in this very version.
    pub fn is_done(&self, source: &str, name: &str, identity: &str) -> bool {
        self.data
            .sources
            .get(source)
            .and_then(|s| s.get(name))
            .is_some_and(|i| i == identity)
    }

    /// Notes that `name` (in version `identity`) was read and its findings
    /// written; takes effect on disk at the next [`Checkpoint::save`].
    pub fn record(&mut self, source: &str, name: &str, identity: &str) {
        self.data
            .sources
            .entry(source.to_owned())
            .or_default()
            .insert(name.to_owned(), identity.to_owned());
    }

    /// Forgets inputs of `source` that a successful listing no longer shows
    /// (deleted or expired), so the checkpoint stays the size of the source.
    /// True when something was forgotten.
    pub fn retain(&mut self, source: &str, present: &HashSet<&str>) -> bool {
        let Some(s) = self.data.sources.get_mut(source) else {
            return false;
        };
        let before = s.len();
        s.retain(|name, _| present.contains(name.as_str()));
        s.len() != before
    }

    /// The engine state saved with the checkpoint, to restore before reading.
    pub fn take_windows(&mut self) -> Option<WindowState> {
        self.data.windows.take()
    }

    /// Sets the engine state to save with the inputs recorded so far.
    pub fn set_windows(&mut self, state: WindowState) {
        self.data.windows = Some(state);
    }

    /// How many inputs of `source` are recorded.
    pub fn len(&self, source: &str) -> usize {
        self.data.sources.get(source).map_or(0, BTreeMap::len)
    }

    /// Writes atomically (temporary file, then rename).
    pub fn save(&self) -> Result<(), CheckpointError> {
        let io = |p: &Path, e| CheckpointError::Io(p.display().to_string(), e);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string(&self.data)
            .map_err(|e| CheckpointError::Corrupt(tmp.display().to_string(), e))?;
        std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_reload_and_versions_differ() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut c = Checkpoint::load(dir.path()).expect("empty");
        assert!(!c.is_done("d", "a.json", "size:1"));
        c.record("d", "a.json", "size:1");
        c.record("d", "b.json", "size:2");
        c.save().expect("save");
        let mut c = Checkpoint::load(dir.path()).expect("load");
        assert!(c.is_done("d", "a.json", "size:1"));
        assert!(!c.is_done("d", "a.json", "size:9"), "a new version is new");
        assert!(!c.is_done("other", "a.json", "size:1"));
        assert!(c.retain("d", &HashSet::from(["b.json"])));
        assert!(!c.retain("d", &HashSet::from(["b.json"])));
        assert!(!c.is_done("d", "a.json", "size:1"));
        assert_eq!(c.len("d"), 1);
    }

    #[test]
    fn a_damaged_checkpoint_says_what_to_do() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join(FILE), "{nope").expect("write");
        let e = Checkpoint::load(dir.path())
            .expect_err("damaged")
            .to_string();
        assert!(e.contains("move it away"), "{e}");
    }

    #[test]
    fn file_identity_changes_with_content() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("x");
        std::fs::write(&p, "a").expect("write");
        let a = file_identity(&std::fs::metadata(&p).expect("meta"));
        std::fs::write(&p, "abc").expect("write");
        let b = file_identity(&std::fs::metadata(&p).expect("meta"));
        assert_ne!(a, b);
        assert!(b.starts_with("size:3 "), "{b}");
    }
}
