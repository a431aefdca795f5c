//! Credentials for Rampart: password hashing, second factors and tokens.
//!
//! * Passwords are hashed with argon2id ([`PasswordHasher`]); the cost is a
//!   parameter so tests can run fast while production uses OWASP's settings.
//! * Session cookies, API tokens and one-time links are 256-bit random
//!   secrets. Only their SHA-256 is stored ([`token_digest`]): the secret has
//!   enough entropy that a slow hash would add nothing but latency.
//! * TOTP follows RFC 6238 (SHA-1, 6 digits, 30 s), the settings every
//!   authenticator app supports ([`Totp`]).
//!
//! ```
//! let hasher = rampart_auth::PasswordHasher::fast_for_tests();
//! let hash = hasher.hash("correct horse battery staple").unwrap();
//! assert!(hasher.verify("correct horse battery staple", &hash));
//! assert!(!hasher.verify("wrong", &hash));
//! ```

mod password;
mod secret;
mod totp;

pub use password::{PasswordHasher, PasswordPolicyError, check_password_policy};
pub use secret::{
    TokenKind, constant_time_eq, new_recovery_code, new_token, normalise_recovery_code,
    token_digest,
};
pub use totp::{Totp, TotpError};

/// Errors from credential handling.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}
