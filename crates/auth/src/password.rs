use crate::AuthError;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Hashes and verifies passwords with argon2id.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .finish()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::owasp()
    }
}

impl PasswordHasher {
    /// OWASP's first recommended argon2id setting: 19 MiB, 2 passes, 1 lane.
    pub fn owasp() -> Self {
        PasswordHasher::with_cost(19 * 1024, 2)
    }

    /// Cheap parameters so test suites that create many users stay fast.
    /// Never use outside tests: the server config has no way to select it.
    pub fn fast_for_tests() -> Self {
        PasswordHasher::with_cost(64, 1)
    }

    fn with_cost(m_cost_kib: u32, t_cost: u32) -> Self {
        // These constant parameters are within argon2's limits.
        let params = Params::new(m_cost_kib, t_cost, 1, None).unwrap_or_default();
        PasswordHasher { params }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Returns a PHC string (`$argon2id$v=19$m=…`), which records its own
    /// parameters so hashes made with other costs still verify.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        use argon2::password_hash::PasswordHasher as _;
        let mut salt_bytes = [0u8; 16];
        getrandom::fill(&mut salt_bytes).map_err(|e| AuthError::Random(e.to_string()))?;
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    }

    /// True when `password` matches `phc`. A malformed stored hash is a
    /// mismatch, never a panic.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Burns the same time as a real verification, so that "no such user"
    /// and "wrong password" cannot be told apart by timing.
    pub fn verify_dummy(&self, password: &str) {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::encode_b64(b"rampart-dummy-salt").ok();
        if let Some(salt) = salt {
            let _ = self.argon2().hash_password(password.as_bytes(), &salt);
        }
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("use at least 12 characters")]
    TooShort,
    #[error("use at most 128 characters")]
    TooLong,
    #[error("this password is too common; pick something less guessable")]
    TooCommon,
}

/// ASVS 2.1: at least 12 characters, at most 128, no composition rules, and
/// refuse the passwords every attacker tries first.
pub fn check_password_policy(password: &str) -> Result<(), PasswordPolicyError> {
    const COMMON: [&str; 12] = [
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "passwordpassword",
        "changemechangeme",
        "letmeinletmein",
        "administrator",
        "iloveyou1234",
        "welcome12345",
        "password123!",
        "qwerty123456",
        "111111111111",
    ];
    let n = password.chars().count();
    if n < 12 {
        return Err(PasswordPolicyError::TooShort);
    }
    if n > 128 {
        return Err(PasswordPolicyError::TooLong);
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
        return Err(PasswordPolicyError::TooCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_salted() {
        let h = PasswordHasher::fast_for_tests();
        let a = h.hash("secret password").unwrap();
        let b = h.hash("secret password").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"));
        assert_ne!(a, b);
        assert!(h.verify("secret password", &a));
        assert!(!h.verify("secret passwore", &a));
    }

    #[test]
    fn production_cost_is_owasp() {
        let h = PasswordHasher::owasp();
        assert_eq!(h.params.m_cost(), 19 * 1024);
        assert_eq!(h.params.t_cost(), 2);
    }

    #[test]
    fn malformed_hash_is_a_mismatch() {
        let h = PasswordHasher::fast_for_tests();
        assert!(!h.verify("x", "not a hash"));
        assert!(!h.verify("x", ""));
    }

    #[test]
    fn policy() {
        assert_eq!(
            check_password_policy("short"),
            Err(PasswordPolicyError::TooShort)
        );
        assert_eq!(
            check_password_policy("aaaaaaaaaaaaaaa"),
            Err(PasswordPolicyError::TooCommon)
        );
        assert!(check_password_policy("correct horse battery").is_ok());
    }
}
