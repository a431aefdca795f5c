//! Attachments from mail are kept exactly where, and as, the web layer keeps
//! report files: `rampart_store::files` is the one file store and the one
//! list of acceptable types for both.

pub use rampart_store::files::{FileError, FileStore, MAX_FILES, check_file, clean_filename};
