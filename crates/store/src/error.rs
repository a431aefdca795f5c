/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row asked for does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken, e.g. an email address already in use.
    #[error("{0}")]
    Conflict(String),
    /// The database URL names a backend Rampart does not support.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// This operation only exists on one backend.
    #[error("{0}")]
    Unsupported(String),
    /// Text the database cannot store (PostgreSQL refuses NUL characters
    /// and invalid encodings): the caller's input, not a server fault.
    #[error("{0}")]
    InvalidText(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value no longer parses (e.g. an unknown role name).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // 22021: character_not_in_repertoire (e.g. NUL in text).
            if db.code().as_deref() == Some("22021") {
                return StoreError::InvalidText(
                    "text contains a character that cannot be stored (such as NUL)".into(),
                );
            }
        }
        StoreError::Database(err)
    }
}

impl StoreError {
    /// Maps unique-constraint violations to [`StoreError::Conflict`].
    pub(crate) fn from_insert(err: sqlx::Error, what: &str) -> StoreError {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return StoreError::Conflict(what.to_owned());
        }
        StoreError::from(err)
    }
}
