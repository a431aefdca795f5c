use crate::AuthError;
use sha2::{Digest, Sha256};

/// What a random token is for; the prefix makes leaked tokens recognisable
/// (secret scanners, including Rampart's own, can match `rmp_at_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An API token sent as `Authorization: Bearer`.
    Api,
    /// A browser session cookie.
    Session,
    /// A one-time link (first admin, set password).
    Link,
    /// An anti-CSRF token.
    Csrf,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Api => "rmp_at_",
            TokenKind::Session => "",
            TokenKind::Link => "",
            TokenKind::Csrf => "",
        }
    }
}

/// A fresh 256-bit random token, hex-encoded, with the kind's prefix.
pub fn new_token(kind: TokenKind) -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(format!("{}{}", kind.prefix(), hex::encode(bytes)))
}

/// What the database stores for a token: its SHA-256, hex-encoded.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A recovery code as shown to the user: ten base-32 characters in two
/// groups (`k7fq2-m9xrt`), easy to type from paper.
pub fn new_recovery_code() -> Result<String, AuthError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    Ok(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// Lower-cases and strips separators, so `K7FQ2 M9XRT` matches `k7fq2-m9xrt`.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_long() {
        let a = new_token(TokenKind::Api).unwrap();
        let b = new_token(TokenKind::Api).unwrap();
        assert!(a.starts_with("rmp_at_"));
        assert_eq!(a.len(), 7 + 64);
        assert_ne!(a, b);
        assert_eq!(token_digest(&a).len(), 64);
        assert_ne!(token_digest(&a), token_digest(&b));
    }

    #[test]
    fn recovery_codes_normalise() {
        let c = new_recovery_code().unwrap();
        assert_eq!(c.len(), 11);
        assert_eq!(
            normalise_recovery_code(&c.to_uppercase().replace('-', " ")),
            c.replace('-', "")
        );
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
