//! Attachments from mail, kept where the web layer keeps report files:
//! `<data_dir>/attachments/<first two hex digits>/<sha256>`, written aside
//! and renamed so a crash never leaves half a file under its final name.
//! The web layer serves them (as downloads, to those allowed) from the same
//! layout; the type list is the one its upload form enforces, so a file
//! that arrives by mail is exactly as acceptable as one uploaded.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Most files one message may carry into a report.
pub const MAX_FILES: usize = 10;

/// File types a report may carry: screenshots, recordings, logs, requests,
/// proofs of concept as text, archives (the web form's list).
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

/// A file name safe to store and to put in a download header.
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

/// The stored content type of an acceptable file, or why it is refused.
pub fn check_file(name: &str, size: usize, max_bytes: usize) -> Result<&'static str, String> {
    if size == 0 {
        return Err(format!("{name} is empty"));
    }
    if size > max_bytes {
        return Err(format!(
            "{name} is {} MB; files may be at most {} MB",
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
        .ok_or_else(|| format!("{name}: files of this type are not accepted"))
}

/// Where attachment bytes live.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

/// A file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not store an attachment under {path}: {source}")]
pub struct FileError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileStore { root: root.into() }
    }

    fn path_for(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Stores `bytes` once per content and returns their SHA-256 (hex).
    pub async fn put(&self, bytes: &[u8]) -> Result<String, FileError> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path_for(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let err = |path: &Path| {
            let path = path.to_owned();
            move |source| FileError { path, source }
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await.map_err(err(dir))?;
        let tmp = path.with_extension("part");
        tokio::fs::write(&tmp, bytes).await.map_err(err(&tmp))?;
        tokio::fs::rename(&tmp, &path).await.map_err(err(&path))?;
        Ok(sha)
    }

    pub async fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a SHA-256 digest",
            ));
        }
        tokio::fs::read(self.path_for(sha256)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_types_checked() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\poc.py"), "poc.py");
        assert_eq!(clean_filename(".hidden\"; x"), "hidden x");
        assert_eq!(clean_filename(""), "attachment");
        assert_eq!(check_file("a.png", 10, 100), Ok("image/png"));
        assert!(check_file("a.exe", 10, 100).is_err());
        assert!(check_file("a.png", 0, 100).is_err());
        assert!(check_file("a.png", 101, 100).is_err());
    }

    #[tokio::test]
    async fn files_are_stored_once_by_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fs = FileStore::new(dir.path());
        let a = fs.put(b"hello").await.expect("stored");
        let b = fs.put(b"hello").await.expect("stored again");
        assert_eq!(a, b);
        assert_eq!(fs.get(&a).await.expect("read"), b"hello");
        assert!(fs.get("../../etc/passwd").await.is_err());
        assert!(dir.path().join(&a[..2]).join(&a).exists());
    }
}
