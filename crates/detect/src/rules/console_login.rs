//! `UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B`: successful console
//! logins of one identity from places so far apart, so close in time, that
//! one person cannot have made both. GuardDuty's wording: "multiple
//! successful console logins for the same IAM user were observed around the
//! same time in various geographical locations". Needs a geolocation file
//! (`--geoip`); without one the type is off and the run says so once.
//!
//! GuardDuty raises it for root, IAM users and federated users, not for
//! assumed roles: a role is shared (every SSO user of a permission set signs
//! in as the same role), so two places at once is normal for it. Rampart
//! follows that.
//!
//! The decision, per account and identity, for two logins at most
//! [`WINDOW_SECS`] apart from different addresses:
//! - both placed to a city (or within [`PRECISE_KM`]): the great-circle
//!   distance less both accuracy radii is over [`MIN_DISTANCE_KM`] and the
//!   implied speed over [`MAX_SPEED_KMH`] (faster than an airliner);
//! - otherwise, when both countries are known: the countries differ.
//!
//! Memory: per identity, the latest [`STRETCHES_KEPT`] stretches (logins
//! from one address, each within the window of the one before), for at most
//! [`IDENTITIES_KEPT`] identities; a stretch is a few hundred bytes.

use crate::catalog::{self, FindingType};
use crate::cloudtrail::CtEvent;
use crate::finding::Signal;
use crate::geoip::{GeoIp, Location, distance_km};
use crate::timefmt;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;

pub const TYPE: &str = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B";
/// "Around the same time": logins further apart are not compared. Within an
/// hour no flight explains two distant places; over longer spans a journey
/// can, and a country-only comparison would flag every trip abroad.
pub const WINDOW_SECS: i64 = 3600;
/// Closer than this is one metro area or a mislocated address, however fast.
pub const MIN_DISTANCE_KM: f64 = 500.0;
/// Faster than a commercial flight.
pub const MAX_SPEED_KMH: f64 = 1000.0;
/// Coordinates finer than this (or with a city) are compared by distance;
/// coarser ones (a country's middle) only by country.
pub const PRECISE_KM: f64 = 200.0;
/// Stretches kept per identity: the memory that lets a pair split over
/// two shards, or over files read out of order, still meet.
const STRETCHES_KEPT: usize = 16;
const IDENTITIES_KEPT: usize = 100_000;

/// Logins of one identity from one address, each less than [`WINDOW_SECS`]
/// after the one before: a stretch of use, from `first` to `last`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stretch {
    ip: IpAddr,
    place: Location,
    first: i64,
    last: i64,
    first_event: String,
    last_event: String,
    /// The longest time between two consecutive logins of the stretch (or
    /// more): a login inside the stretch is at most half of it from one.
    widest_gap: i64,
    /// Of the latest login.
    user_agent: String,
    region: String,
}

impl Stretch {
    fn precise(&self) -> Option<&crate::geoip::Coordinates> {
        let c = self.place.coordinates.as_ref()?;
        (self.place.city.is_some() || c.accuracy_km.is_some_and(|r| r <= PRECISE_KM)).then_some(c)
    }
    fn times(&self) -> String {
        if self.first == self.last {
            timefmt::format(self.first)
        } else {
            format!(
                "{} … {}",
                timefmt::format(self.first),
                timefmt::format(self.last)
            )
        }
    }
}

/// Why two stretches cannot be one person.
struct Verdict {
    distance_km: Option<f64>,
    /// Between the nearest logins of the two, or at most this when the
    /// stretches overlap (so the speed is never overstated).
    hours: f64,
}

/// Seconds between the nearest logins of `a` and `b`, or an upper bound.
fn apart(a: &Stretch, b: &Stretch) -> i64 {
    let gap = (a.first - b.last).max(b.first - a.last);
    if gap >= 0 {
        return gap;
    }
    // Overlapping: an end of one lies inside the other, so within half the
    // other's widest gap of one of its logins; the ends are real logins too.
    let ends = [
        (a.first - b.first).abs(),
        (a.first - b.last).abs(),
        (a.last - b.first).abs(),
        (a.last - b.last).abs(),
    ];
    let inside = a.widest_gap.max(b.widest_gap) / 2;
    ends.into_iter().min().unwrap_or(0).min(inside)
}

fn judge(a: &Stretch, b: &Stretch) -> Option<Verdict> {
    let secs = apart(a, b);
    if secs > WINDOW_SECS || a.ip == b.ip {
        return None;
    }
    let hours = secs as f64 / 3600.0;
    if let (Some(ca), Some(cb)) = (a.precise(), b.precise()) {
        let d = distance_km(ca, cb);
        let beyond = d - ca.accuracy_km.unwrap_or(0.0) - cb.accuracy_km.unwrap_or(0.0);
        // A minute at least: logins in the same second are not infinitely fast.
        let speed = beyond / hours.max(1.0 / 60.0);
        return (beyond > MIN_DISTANCE_KM && speed > MAX_SPEED_KMH).then_some(Verdict {
            distance_km: Some(d),
            hours,
        });
    }
    match (&a.place.country, &b.place.country) {
        (Some(x), Some(y)) if x != y => Some(Verdict {
            distance_km: None,
            hours,
        }),
        _ => None,
    }
}

/// The recent successful console logins per identity.
#[derive(Debug, Default)]
pub struct ConsoleLogins {
    by_identity: HashMap<String, Vec<Stretch>>,
    latest: i64,
    /// The `latest` of the last sweep for room.
    pruned_at: Option<i64>,
    /// Successful logins seen while no geolocation file was given.
    unplaced: u64,
    told: bool,
    /// Raised when shards merged; handed out at finish.
    pending: Vec<Signal>,
}

fn lookup() -> &'static FindingType {
    catalog::get(TYPE).unwrap_or_else(|| panic!("the catalog lacks {TYPE} (a test checks this)"))
}

fn signal(id: &str, account: &str, a: &Stretch, b: &Stretch, v: &Verdict) -> Signal {
    let (first, second) = if (a.first, a.last) <= (b.first, b.last) {
        (a, b)
    } else {
        (b, a)
    };
    let mut s = Signal::new(lookup(), account, &second.region, second.last, id)
        .principal(id)
        .address(&second.ip.to_string());
    for ev in [
        &first.first_event,
        &first.last_event,
        &second.first_event,
        &second.last_event,
    ] {
        if !s.events.contains(ev) {
            s = s.event(ev);
        }
    }
    s = s
        .detail("api", "signin:ConsoleLogin")
        .detail("first_login_ip", first.ip)
        .detail("first_login_location", first.place.label())
        .detail("first_login_time", first.times())
        .detail("second_login_ip", second.ip)
        .detail("second_login_location", second.place.label())
        .detail("second_login_time", second.times())
        .detail("hours_apart", format!("{:.2}", v.hours))
        .detail("user_agent", &second.user_agent);
    if first.user_agent != second.user_agent {
        s = s.detail("first_user_agent", &first.user_agent);
    }
    s = match v.distance_km {
        Some(d) => s
            .detail("distance_km", format!("{d:.0}"))
            .detail(
                "implied_speed_kmh",
                format!("{:.0}", d / v.hours.max(1.0 / 60.0)),
            )
            .detail(
                "why",
                "two successful console logins too far apart for the time between them",
            ),
        None => s.detail(
            "why",
            "two successful console logins from different countries within an hour",
        ),
    };
    s.since = Some(first.last.min(second.first));
    s
}

/// The kept stretch that `new` conflicts with, the farthest first.
fn conflict<'l>(kept: &'l [Stretch], new: &Stretch) -> Option<(&'l Stretch, Verdict)> {
    kept.iter()
        .filter_map(|old| judge(old, new).map(|v| (old, v)))
        .max_by(|a, b| {
            let da = a.1.distance_km.unwrap_or(0.0);
            let db = b.1.distance_km.unwrap_or(0.0);
            da.total_cmp(&db)
        })
}

/// Adds `new` to the stretch of its address it continues, else as a
/// stretch of its own; the most recent few are kept.
fn keep(list: &mut Vec<Stretch>, new: Stretch) {
    let joins = |s: &Stretch| {
        s.ip == new.ip && new.first <= s.last + WINDOW_SECS && new.last >= s.first - WINDOW_SECS
    };
    match list.iter_mut().find(|s| joins(s)) {
        Some(s) => {
            let gap = (s.first - new.last).max(new.first - s.last).max(0);
            s.widest_gap = s.widest_gap.max(new.widest_gap).max(gap);
            if new.first < s.first {
                s.first = new.first;
                s.first_event = new.first_event;
            }
            if new.last > s.last {
                s.last = new.last;
                s.last_event = new.last_event;
                s.user_agent = new.user_agent;
                s.region = new.region;
            }
        }
        None => {
            list.push(new);
            if list.len() > STRETCHES_KEPT
                && let Some((oldest, _)) = list.iter().enumerate().min_by_key(|(_, s)| s.last)
            {
                list.swap_remove(oldest);
            }
        }
    }
}

fn key(account: &str, id: &str) -> String {
    format!("{account}|{id}")
}

impl ConsoleLogins {
    /// Looks at one event; only successful console logins of users count.
    pub fn on_event(
        &mut self,
        geoip: Option<&GeoIp>,
        e: &CtEvent,
        ip: Option<IpAddr>,
        time: i64,
        out: &mut Vec<Signal>,
    ) {
        if e.event_name() != "ConsoleLogin"
            || e.event_source() != "signin.amazonaws.com"
            || !matches!(e.identity_type(), "IAMUser" | "Root" | "FederatedUser")
            || e.response()
                .and_then(|r| r.get("ConsoleLogin"))
                .and_then(Value::as_str)
                != Some("Success")
        {
            return;
        }
        let Some(geoip) = geoip else {
            self.unplaced += 1;
            return;
        };
        // "AWS Internal" and service names are no address; private ones are
        // not located.
        let Some(ip) = ip else { return };
        let Some(place) = geoip.locate(ip) else {
            return;
        };
        let login = Stretch {
            ip,
            place,
            first: time,
            last: time,
            first_event: e.event_id().to_owned(),
            last_event: e.event_id().to_owned(),
            widest_gap: 0,
            user_agent: e.user_agent().to_owned(),
            region: e.region().to_owned(),
        };
        self.latest = self.latest.max(time);
        let id = e.actor();
        let k = key(e.account_id(), id);
        if let Some(kept) = self.by_identity.get(&k)
            && let Some((old, v)) = conflict(kept, &login)
        {
            out.push(signal(id, e.account_id(), old, &login, &v));
        }
        self.store(k, login);
    }

    fn store(&mut self, k: String, login: Stretch) {
        if !self.by_identity.contains_key(&k) && self.by_identity.len() >= IDENTITIES_KEPT {
            // Once per advance of time, so a flood of identities costs one
            // sweep, not one per login.
            if self.pruned_at != Some(self.latest) {
                self.pruned_at = Some(self.latest);
                let horizon = self.latest - WINDOW_SECS;
                self.by_identity
                    .retain(|_, v| v.iter().any(|l| l.last >= horizon));
            }
            if self.by_identity.len() >= IDENTITIES_KEPT {
                return;
            }
        }
        keep(self.by_identity.entry(k).or_default(), login);
    }

    /// Folds another shard's logins in: pairs split across shards (logins
    /// recorded in two regions) are judged here and raised at finish.
    pub fn merge(&mut self, other: ConsoleLogins) {
        self.unplaced += other.unplaced;
        self.told |= other.told;
        self.latest = self.latest.max(other.latest);
        self.pending.extend(other.pending);
        for (k, logins) in other.by_identity {
            if let Some(kept) = self.by_identity.get(&k) {
                let (account, id) = k.split_once('|').unwrap_or(("", k.as_str()));
                for l in &logins {
                    if let Some((old, v)) = conflict(kept, l) {
                        self.pending.push(signal(id, account, old, l, &v));
                    }
                }
            }
            for l in logins {
                self.store(k.clone(), l);
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<Signal>) {
        out.append(&mut self.pending);
    }

    /// The recent logins, for a `--follow` checkpoint (taken after
    /// [`ConsoleLogins::finish`]): a pair split by a restart still meets.
    pub fn carried(&self) -> Vec<(String, Vec<Stretch>)> {
        // Logins that can no longer pair with a new one stay behind.
        let horizon = self.latest - 2 * WINDOW_SECS;
        let mut v: Vec<_> = self
            .by_identity
            .iter()
            .map(|(k, s)| {
                let recent: Vec<Stretch> =
                    s.iter().filter(|l| l.last >= horizon).cloned().collect();
                (k.clone(), recent)
            })
            .filter(|(_, s)| !s.is_empty())
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Takes back what [`ConsoleLogins::carried`] saved.
    pub fn restore(&mut self, carried: Vec<(String, Vec<Stretch>)>) {
        for (k, stretches) in carried {
            for s in stretches {
                self.latest = self.latest.max(s.last);
                self.store(k.clone(), s);
            }
        }
    }

    /// Once per engine: the note that the type was off although the run had
    /// logins it would have judged.
    pub fn take_notice(&mut self) -> Option<String> {
        if self.told || self.unplaced == 0 {
            return None;
        }
        self.told = true;
        Some(format!(
            "{TYPE} is off: it needs --geoip FILE to place the {} successful console logins seen (see `rampart detect --help`)",
            self.unplaced
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geoip::Coordinates;

    fn at(
        time: i64,
        ip: &str,
        country: &str,
        city: Option<&str>,
        ll: Option<(f64, f64)>,
    ) -> Stretch {
        Stretch {
            ip: ip.parse().expect("ip"),
            place: Location {
                country: Some(country.to_owned()),
                city: city.map(str::to_owned),
                coordinates: ll.map(|(latitude, longitude)| Coordinates {
                    latitude,
                    longitude,
                    accuracy_km: Some(20.0),
                }),
            },
            first: time,
            last: time,
            first_event: format!("ev-{time}"),
            last_event: format!("ev-{time}"),
            widest_gap: 0,
            user_agent: "Mozilla/5.0".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }

    const PARIS: Option<(f64, f64)> = Some((48.8566, 2.3522));
    const LYON: Option<(f64, f64)> = Some((45.764, 4.8357));
    const SYDNEY: Option<(f64, f64)> = Some((-33.8688, 151.2093));
    const BRUSSELS: Option<(f64, f64)> = Some((50.8503, 4.3517));

    #[test]
    fn far_and_fast_is_impossible_near_or_slow_is_not() {
        let paris = at(0, "198.51.100.1", "FR", Some("Paris"), PARIS);
        let sydney = at(1800, "203.0.113.1", "AU", Some("Sydney"), SYDNEY);
        let v = judge(&paris, &sydney).expect("Paris then Sydney in 30 min");
        assert!(v.distance_km.is_some_and(|d| d > 16_000.0));
        // Lyon is 390 km from Paris: too close whatever the time.
        assert!(judge(&paris, &at(60, "192.0.2.1", "FR", Some("Lyon"), LYON)).is_none());
        // Brussels, another country 260 km away: coordinates win over countries.
        assert!(
            judge(
                &paris,
                &at(60, "192.0.2.2", "BE", Some("Brussels"), BRUSSELS)
            )
            .is_none()
        );
        // Outside the window, however far.
        assert!(
            judge(
                &paris,
                &at(WINDOW_SECS + 1, "203.0.113.1", "AU", Some("Sydney"), SYDNEY)
            )
            .is_none()
        );
        // Same address twice.
        assert!(judge(&paris, &at(10, "198.51.100.1", "FR", Some("Paris"), PARIS)).is_none());
        // Country only: different countries within the window.
        let de = at(600, "11.0.0.1", "DE", None, None);
        assert!(judge(&paris, &de).is_some_and(|v| v.distance_km.is_none()));
        assert!(judge(&paris, &at(600, "11.0.0.2", "FR", None, None)).is_none());
    }

    #[test]
    fn stretches_join_and_memory_stays_bounded() {
        let mut list = Vec::new();
        // One address every 50 minutes all day: one stretch.
        for i in 0..30 {
            keep(
                &mut list,
                at(i * 3000, "198.51.100.1", "FR", Some("Paris"), PARIS),
            );
        }
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].first, list[0].last), (0, 29 * 3000));
        assert_eq!(list[0].last_event, format!("ev-{}", 29 * 3000));
        // A login read late, inside the stretch: judged against it.
        let sydney = at(40_000, "203.0.113.1", "AU", Some("Sydney"), SYDNEY);
        let v = judge(&list[0], &sydney).expect("inside a stretch of Paris logins");
        assert!(v.hours <= 1500.0 / 3600.0, "{}", v.hours);
        assert_eq!(list[0].widest_gap, 3000);
        // Many addresses, far apart in time: only the latest few are kept.
        for i in 0..50u8 {
            let t = 100_000 + i64::from(i) * 10_000;
            keep(
                &mut list,
                at(t, &format!("192.0.2.{i}"), "FR", Some("Paris"), PARIS),
            );
        }
        assert_eq!(list.len(), STRETCHES_KEPT);
        assert!(
            list.iter()
                .all(|s| s.last >= 100_000 + (50 - STRETCHES_KEPT as i64) * 10_000)
        );
    }

    #[test]
    fn identities_are_bounded_and_old_ones_make_room() {
        let mut c = ConsoleLogins::default();
        for i in 0..IDENTITIES_KEPT + 10 {
            c.store(
                format!("a|u{i}"),
                at(0, "198.51.100.1", "FR", Some("Paris"), PARIS),
            );
        }
        assert_eq!(c.by_identity.len(), IDENTITIES_KEPT);
        c.latest = 10 * WINDOW_SECS;
        let late = at(c.latest, "198.51.100.1", "FR", Some("Paris"), PARIS);
        c.store("a|late".to_owned(), late);
        assert_eq!(c.by_identity.len(), 1);
        assert!(c.by_identity.contains_key("a|late"));
    }

    #[test]
    fn the_notice_is_given_once_and_only_when_logins_were_missed() {
        let mut c = ConsoleLogins::default();
        assert_eq!(c.take_notice(), None);
        c.unplaced = 3;
        let n = c.take_notice().expect("notice");
        assert!(n.contains("--geoip") && n.contains(TYPE), "{n}");
        assert_eq!(c.take_notice(), None);
    }

    #[test]
    fn the_type_is_in_the_catalog() {
        assert_eq!(lookup().name, TYPE);
    }
}
