use totp_rs::{Algorithm, Builder, Secret};

/// Why a TOTP secret could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the stored two-factor secret is not valid base32")]
    BadSecret,
    #[error("two-factor setup failed: {0}")]
    Setup(String),
}

/// A time-based one-time password generator (RFC 6238: SHA-1, 6 digits,
/// 30-second steps, one step of clock drift accepted either way).
pub struct Totp {
    inner: totp_rs::Totp,
}

impl Totp {
    /// A new random 160-bit secret, base32-encoded as authenticator apps expect.
    pub fn generate_secret() -> Result<String, TotpError> {
        let mut bytes = [0u8; 20];
        getrandom::fill(&mut bytes).map_err(|e| TotpError::Setup(e.to_string()))?;
        Ok(Secret::new_stack(bytes).to_base32())
    }

    /// Builds a generator for a stored base32 secret; `account` and `issuer`
    /// appear in the user's authenticator app.
    pub fn new(secret_base32: &str, issuer: &str, account: &str) -> Result<Self, TotpError> {
        let secret = Secret::try_from_base32(secret_base32).map_err(|_| TotpError::BadSecret)?;
        // totp-rs refuses issuers or accounts containing ':'.
        let inner = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(secret)
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "))
            .build()
            .map_err(|e| TotpError::Setup(e.to_string()))?;
        Ok(Totp { inner })
    }

    /// The `otpauth://` URI to put in a QR code or paste into an app.
    pub fn otpauth_uri(&self) -> String {
        self.inner.to_url().unwrap_or_default()
    }

    /// The code for a given Unix time in seconds.
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.inner.generate(unix_seconds).to_string()
    }

    /// Checks a code typed by the user at `unix_seconds`, and returns the
    /// 30-second step it matched so the caller can refuse its reuse.
    pub fn verify(&self, code: &str, unix_seconds: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.inner.check(&code, unix_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T=59 -> 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = Secret::new_stack(*b"12345678901234567890").to_base32();
        let t = Totp::new(&secret, "Rampart", "a@example.com").unwrap();
        assert_eq!(t.code_at(59), "287082");
        assert_eq!(t.verify("287082", 59), Some(1));
        assert_eq!(t.verify("287 082", 75), Some(1));
        assert_eq!(t.verify("287082", 200), None);
        assert_eq!(t.verify("abcdef", 59), None);
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let s = Totp::generate_secret().unwrap();
        let t = Totp::new(&s, "Rampart", "admin@example.com").unwrap();
        let uri = t.otpauth_uri();
        assert!(
            uri.starts_with("otpauth://totp/Rampart:admin%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Rampart"));
    }
}
