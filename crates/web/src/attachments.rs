//! Report attachments: the file store and the type list live in
//! `rampart_store::files` (shared with the mail intake); here they meet the
//! web layer's errors.

use crate::error::AppError;
pub use rampart_store::files::{FileStore, MAX_FILES, allowed_list, check_file, clean_filename};

impl From<rampart_store::files::FileError> for AppError {
    fn from(e: rampart_store::files::FileError) -> Self {
        match e {
            // Not a digest names no file: as missing as a wrong id.
            rampart_store::files::FileError::NotADigest => AppError::NotFound,
            other => AppError::Internal(other.to_string()),
        }
    }
}
