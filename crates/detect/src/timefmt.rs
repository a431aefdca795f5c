//! Timestamps: the logs write RFC 3339 (CloudTrail, Route 53) or Unix seconds
//! (flow logs); findings report RFC 3339.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Unix seconds from an RFC 3339 time, also accepting a space for the `T`
/// and a missing zone (taken as UTC), as some exports write.
pub fn parse(s: &str) -> Option<i64> {
    if let Some(t) = fast(s) {
        return Some(t);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fixed = s.replacen(' ', "T", 1);
    let fixed = if fixed.ends_with('Z') || fixed.len() < 20 && fixed.len() >= 19 {
        format!("{}Z", fixed.trim_end_matches('Z'))
    } else {
        fixed
    };
    OffsetDateTime::parse(&fixed, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the shape CloudTrail and Route 53 write, without
/// a general parser (this runs for every event).
fn fast(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

pub fn format(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = super::parse("2024-07-31T13:06:24Z").expect("rfc3339");
        assert_eq!(super::format(t), "2024-07-31T13:06:24Z");
        assert_eq!(super::parse("2024-07-31 13:06:24"), Some(t));
        assert_eq!(super::parse("yesterday"), None);
        for s in [
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00Z",
            "2026-03-01T12:34:56Z",
        ] {
            let slow = time::OffsetDateTime::parse(s, &Rfc3339)
                .expect("rfc3339")
                .unix_timestamp();
            assert_eq!(super::fast(s), Some(slow), "{s}");
        }
    }
}
