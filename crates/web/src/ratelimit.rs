//! Per-address rate limits (GCRA, via the governor crate). Login attempts
//! get a strict budget; anything without a session or token gets a generous
//! one, so that crawling or guessing from one address is slowed while
//! signed-in people never notice. Account lock-out (in the store) covers
//! guessing spread over many addresses.

use crate::WebConfig;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct Limits {
    login: DefaultKeyedRateLimiter<IpAddr>,
    anonymous: DefaultKeyedRateLimiter<IpAddr>,
    /// Per researcher account: a flood of reports is abuse whatever the address.
    submissions: DefaultKeyedRateLimiter<i64>,
    /// Per account: comments carry files, so a flood fills the disk.
    comments: DefaultKeyedRateLimiter<i64>,
    signups: DefaultKeyedRateLimiter<IpAddr>,
    /// Per token (or session): mail handed in over the API. A mail gate is a
    /// machine, so the anonymous budget per minute; floods of reports from
    /// one sender are the intake's per-sender limit.
    mail: DefaultKeyedRateLimiter<i64>,
    /// "Forgot your password?" per client address (the sign-up budget).
    resets: DefaultKeyedRateLimiter<IpAddr>,
    /// The same per email address (lower-cased), whoever asks: nobody can
    /// fill someone's mailbox with reset mail from many addresses.
    reset_addresses: DefaultKeyedRateLimiter<String>,
}

/// Reset mails one address may be sent per hour.
pub const RESETS_PER_ADDRESS_PER_HOUR: u32 = 3;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// `n` an hour, allowing a burst of up to `n` at once (a researcher may
/// file a few related reports together; a script may not file hundreds).
fn per_hour(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(std::time::Duration::from_secs(3600) / n.get())
        .unwrap_or_else(|| Quota::per_hour(n))
        .allow_burst(n)
}

impl Limits {
    pub fn new(config: &WebConfig) -> Self {
        Limits {
            login: RateLimiter::keyed(per_minute(config.login_per_minute)),
            anonymous: RateLimiter::keyed(per_minute(config.anonymous_per_minute)),
            submissions: RateLimiter::keyed(per_hour(config.reports_per_hour)),
            comments: RateLimiter::keyed(per_hour(config.reports_per_hour.saturating_mul(10))),
            signups: RateLimiter::keyed(per_hour(config.signups_per_hour)),
            mail: RateLimiter::keyed(per_minute(config.anonymous_per_minute)),
            resets: RateLimiter::keyed(per_hour(config.signups_per_hour)),
            reset_addresses: RateLimiter::keyed(per_hour(RESETS_PER_ADDRESS_PER_HOUR)),
        }
    }

    /// `Err(seconds)` to wait when the address is over its login budget.
    pub fn check_login(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.login, ip)
    }

    pub fn check_anonymous(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.anonymous, ip)
    }

    /// A researcher's report budget (web form and API share it).
    pub fn check_submission(&self, user_id: i64) -> Result<(), crate::AppError> {
        check(&self.submissions, user_id)
            .map_err(|retry_after_s| crate::AppError::TooManyRequests { retry_after_s })
    }

    /// Comments (with their files): ten times the report budget.
    pub fn check_comment(&self, user_id: i64) -> Result<(), crate::AppError> {
        check(&self.comments, user_id)
            .map_err(|retry_after_s| crate::AppError::TooManyRequests { retry_after_s })
    }

    pub fn check_signup(&self, ip: IpAddr) -> Result<(), crate::AppError> {
        check(&self.signups, ip)
            .map_err(|retry_after_s| crate::AppError::TooManyRequests { retry_after_s })
    }

    /// Mail handed in by one token (key: the token id, or minus the user id
    /// for a browser session).
    pub fn check_mail(&self, key: i64) -> Result<(), crate::AppError> {
        check(&self.mail, key)
            .map_err(|retry_after_s| crate::AppError::TooManyRequests { retry_after_s })
    }

    pub fn check_reset(&self, ip: IpAddr) -> Result<(), crate::AppError> {
        check(&self.resets, ip)
            .map_err(|retry_after_s| crate::AppError::TooManyRequests { retry_after_s })
    }

    /// Whether one more reset mail may go to `address` (lower-cased).
    pub fn reset_address_allowed(&self, address: &str) -> bool {
        check(&self.reset_addresses, address.to_owned()).is_ok()
    }

    /// Drops state for addresses that are back under their limits, so the
    /// maps don't grow without bound.
    pub fn housekeeping(&self) {
        self.login.retain_recent();
        self.anonymous.retain_recent();
        self.submissions.retain_recent();
        self.comments.retain_recent();
        self.signups.retain_recent();
        self.mail.retain_recent();
        self.resets.retain_recent();
        self.reset_addresses.retain_recent();
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: K,
) -> Result<(), u64> {
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs().max(1)
    })
}
