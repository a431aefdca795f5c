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
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub fn new(config: &WebConfig) -> Self {
        Limits {
            login: RateLimiter::keyed(per_minute(config.login_per_minute)),
            anonymous: RateLimiter::keyed(per_minute(config.anonymous_per_minute)),
        }
    }

    /// `Err(seconds)` to wait when the address is over its login budget.
    pub fn check_login(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.login, ip)
    }

    pub fn check_anonymous(&self, ip: IpAddr) -> Result<(), u64> {
        check(&self.anonymous, ip)
    }

    /// Drops state for addresses that are back under their limits, so the
    /// maps don't grow without bound.
    pub fn housekeeping(&self) {
        self.login.retain_recent();
        self.anonymous.retain_recent();
    }
}

fn check(limiter: &DefaultKeyedRateLimiter<IpAddr>, ip: IpAddr) -> Result<(), u64> {
    limiter.check_key(&ip).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs().max(1)
    })
}
