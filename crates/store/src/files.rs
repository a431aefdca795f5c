//! Report attachments on disk: files kept in the data directory (never
//! under a served path), named by their SHA-256 as
//! `<root>/<first two hex digits>/<sha256>`, with the one list of file types
//! a report may carry. The web form and the mail intake both store through
//! here, so a file is exactly as acceptable whichever way it arrives.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Most files one form or API call may carry.
pub const MAX_FILES: usize = 10;

/// File types researchers attach to reports: screenshots, recordings, logs,
/// requests, proofs of concept as text, archives. Anything else is refused
/// with the list, because an executable or an office macro file has no
/// business in a vulnerability report.
const ALLOWED: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mov", "video/quicktime"),
    ("txt", "text/plain"),
    ("log", "text/plain"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("har", "application/json"),
    ("html", "text/html"),
    ("py", "text/x-python"),
    ("js", "text/javascript"),
    ("sh", "text/x-shellscript"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("pcap", "application/vnd.tcpdump.pcap"),
];

/// The extensions accepted, for messages and hints.
pub fn allowed_list() -> String {
    ALLOWED
        .iter()
        .map(|(e, _)| *e)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file name safe to store and to put in a download header: the last path
/// component, without control characters or quotes, at most 120 characters.
pub fn clean_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | ';'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// The content type for an accepted file, or a refusal naming the reason.
pub fn check_file(name: &str, size: usize, max_bytes: usize) -> Result<&'static str, String> {
    if size == 0 {
        return Err(format!("{name} is empty."));
    }
    if size > max_bytes {
        return Err(format!(
            "{name} is {} MB; files may be at most {} MB.",
            size.div_ceil(1024 * 1024),
            max_bytes / (1024 * 1024)
        ));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    ALLOWED
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            format!(
                "{name}: files of this type are not accepted. Accepted: {}.",
                allowed_list()
            )
        })
}

/// Where files live on disk.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

/// A file could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The name asked for is not a SHA-256 digest (so names no file).
    #[error("not a SHA-256 digest")]
    NotADigest,
    #[error("attachment file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no randomness for a temporary file name: {0}")]
    Random(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_owned(),
        source,
    }
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileStore { root: root.into() }
    }

    fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        // Only ever a hex digest: a stored name can never walk out of root.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.root.join(&sha256[..2]).join(sha256))
    }

    /// Stores `bytes` (once per content) and returns their SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> Result<String, FileError> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path_for(&sha).ok_or(FileError::NotADigest)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(io_error(dir))?;
        // Write aside, then rename: a crash never leaves half a file under
        // the final name, and two uploads of the same bytes at once each
        // write their own temporary file.
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| FileError::Random(e.to_string()))?;
        let tmp = path.with_extension(format!("{}.part", hex::encode(nonce)));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(io_error(&tmp))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(io_error(&path))?;
        Ok(sha)
    }

    /// Deletes a file's bytes (once no record refers to them).
    pub async fn remove(&self, sha256: &str) {
        if let Some(path) = self.path_for(sha256)
            && let Err(e) = tokio::fs::remove_file(&path).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "Could not delete an unused attachment");
        }
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, FileError> {
        let path = self.path_for(sha256).ok_or(FileError::NotADigest)?;
        tokio::fs::read(&path).await.map_err(io_error(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_types_checked() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\shot.png"), "shot.png");
        assert_eq!(clean_filename("a\"b;c\r\n.png"), "abc.png");
        assert_eq!(clean_filename(".htaccess"), "htaccess");
        assert_eq!(clean_filename(""), "attachment");
        assert_eq!(check_file("poc.PNG", 10, 100), Ok("image/png"));
        assert!(
            check_file("evil.exe", 10, 100)
                .unwrap_err()
                .contains("not accepted")
        );
        assert!(
            check_file("big.png", 200, 100)
                .unwrap_err()
                .contains("at most")
        );
        assert!(check_file("empty.txt", 0, 100).is_err());
        assert!(check_file("noext", 5, 100).is_err());
    }

    #[tokio::test]
    async fn files_are_stored_by_content_and_never_outside_the_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fs = FileStore::new(dir.path());
        let a = fs.put(b"hello").await.expect("stored");
        assert_eq!(fs.put(b"hello").await.expect("again"), a);
        assert_eq!(fs.get(&a).await.expect("read"), b"hello");
        assert!(matches!(
            fs.get("../../etc/passwd").await,
            Err(FileError::NotADigest)
        ));
        assert!(dir.path().join(&a[..2]).join(&a).exists());
    }
}
