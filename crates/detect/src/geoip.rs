//! Where in the world an address is, from a database the user gives
//! (`rampart detect --geoip FILE`): no geolocation data ships with Rampart.
//!
//! Two shapes are read:
//! - MaxMind DB files (`.mmdb`): MaxMind's GeoLite2/GeoIP2 City and Country,
//!   DB-IP's lite databases (the same schema), and the ip-location-db
//!   project's mmdb files (`country_code`, `city`, `latitude`, `longitude` at
//!   the top of each record).
//! - ip-location-db CSV (plain or gzipped): `ip_range_start,ip_range_end,country_code`
//!   rows, or the city rows `ip_range_start,ip_range_end,country_code,city,state1,state2,latitude,longitude,…`.
//!
//! Private, loopback, shared and other non-public addresses are never
//! located, whatever the file says: they say nothing about where a person is.

use crate::intel::is_public;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

/// Largest decompressed CSV accepted: ip-location-db's biggest city file is
/// a few hundred MB; a larger result is a damaged or hostile file.
const MAX_CSV_BYTES: u64 = 2 << 30;

const HOW_TO_GET: &str = "Give a MaxMind DB file (GeoLite2-City.mmdb or GeoLite2-Country.mmdb from a free MaxMind account, or DB-IP's lite .mmdb) or an ip-location-db CSV or mmdb file (for example dbip-city-ipv4.csv.gz, or the CC0 geo-whois-asn-country files)";

/// Why a geolocation file could not be used. Each message names the file and
/// says what to do.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    // The I/O error is in the message, not a `source`: printed as a chain
    // it would be said twice.
    #[error(
        "could not read the GeoIP file {path}: {error}. Check the path and permissions. {HOW_TO_GET}."
    )]
    Read { path: String, error: std::io::Error },
    #[error("the GeoIP file {path} is empty. {HOW_TO_GET}.")]
    Empty { path: String },
    #[error(
        "the GeoIP file {path} looks like a MaxMind DB file but is damaged ({why}). Download it again; {HOW_TO_GET}."
    )]
    DamagedMmdb { path: String, why: String },
    #[error(
        "the GeoIP file {path} is a {database_type} database, which holds no countries or places. Give a City or Country database instead; {HOW_TO_GET}."
    )]
    NotLocations { path: String, database_type: String },
    #[error(
        "the GeoIP file {path} is not a MaxMind DB file, and line {line} is not an ip-location-db CSV row ({why}). Rows look like `1.0.0.0,1.0.0.255,AU` or `1.0.0.0,1.0.0.255,AU,Brisbane,Queensland,,-27.4679,153.0281,…`. {HOW_TO_GET}."
    )]
    BadCsv {
        path: String,
        line: usize,
        why: String,
    },
    #[error(
        "the GeoIP file {path} has {rows} rows, but none names a country or coordinates (an ASN file?). {HOW_TO_GET}."
    )]
    NoPlaces { path: String, rows: usize },
    #[error(
        "the GeoIP file {path} is a gzip file that could not be unpacked ({why}). Download it again; {HOW_TO_GET}."
    )]
    BadGzip { path: String, why: String },
}

/// A point on the globe, in degrees, with how far off it may be.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
    /// The database's accuracy radius (GeoIP2's `location.accuracy_radius`),
    /// when it gives one.
    pub accuracy_km: Option<f64>,
}

/// What the database knows of an address.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub city: Option<String>,
    pub coordinates: Option<Coordinates>,
}

impl Location {
    /// `Paris, FR`, `FR`, or `unknown`.
    pub fn label(&self) -> String {
        match (&self.city, &self.country) {
            (Some(c), Some(k)) => format!("{c}, {k}"),
            (Some(c), None) => c.clone(),
            (None, Some(k)) => k.clone(),
            (None, None) => "unknown".to_owned(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Great-circle distance in kilometres (haversine, mean Earth radius).
pub fn distance_km(a: &Coordinates, b: &Coordinates) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    let (la1, la2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().clamp(0.0, 1.0).asin()
}

/// A loaded geolocation database.
pub struct GeoIp {
    source: Source,
    /// What the file is, for the run's summary: `GeoLite2-City (MaxMind DB)`.
    kind: String,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp").field("kind", &self.kind).finish()
    }
}

enum Source {
    Mmdb(maxminddb::Reader<Vec<u8>>),
    Ranges(Ranges),
}

impl GeoIp {
    /// Reads a `.mmdb` or ip-location-db CSV file (gzipped or not).
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| GeoIpError::Read {
            path: name.clone(),
            error,
        })?;
        GeoIp::from_bytes(&name, bytes)
    }

    /// As [`GeoIp::open`], for bytes already read; `name` is used in errors.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<GeoIp, GeoIpError> {
        if bytes.is_empty() {
            return Err(GeoIpError::Empty {
                path: name.to_owned(),
            });
        }
        // The marker first: a MaxMind tree may happen to start with gzip's magic.
        if !has_mmdb_marker(&bytes) && bytes.starts_with(&[0x1f, 0x8b]) {
            let mut text = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes.as_slice())
                .take(MAX_CSV_BYTES + 1)
                .read_to_end(&mut text)
                .map_err(|e| GeoIpError::BadGzip {
                    path: name.to_owned(),
                    why: e.to_string(),
                })?;
            // Cut at the limit, the last row would be read short; say so.
            if text.len() as u64 > MAX_CSV_BYTES {
                return Err(GeoIpError::BadGzip {
                    path: name.to_owned(),
                    why: format!(
                        "it unpacks to more than {} GiB, more than any geolocation database",
                        MAX_CSV_BYTES >> 30
                    ),
                });
            }
            return GeoIp::from_unpacked(name, text);
        }
        GeoIp::from_unpacked(name, bytes)
    }

    fn from_unpacked(name: &str, bytes: Vec<u8>) -> Result<GeoIp, GeoIpError> {
        if has_mmdb_marker(&bytes) {
            return GeoIp::mmdb(name, bytes);
        }
        let ranges = Ranges::parse(name, &bytes)?;
        let kind = format!(
            "ip-location-db CSV, {} ranges{}",
            ranges.len(),
            if ranges.has_coordinates {
                " with coordinates"
            } else {
                ", countries only"
            }
        );
        Ok(GeoIp {
            source: Source::Ranges(ranges),
            kind,
        })
    }

    fn mmdb(name: &str, bytes: Vec<u8>) -> Result<GeoIp, GeoIpError> {
        let damaged = |e: maxminddb::MaxMindDbError| GeoIpError::DamagedMmdb {
            path: name.to_owned(),
            why: e.to_string(),
        };
        let reader = maxminddb::Reader::from_source(bytes).map_err(damaged)?;
        let database_type = reader.metadata().database_type.clone();
        let lower = database_type.to_ascii_lowercase();
        // By name, as MaxMind names them (GeoLite2-ASN, GeoIP2-ISP, …); a
        // name with "country" or "city" in it (ip-location-db's
        // geo-whois-asn-country) places addresses whatever else it says.
        let places = lower.contains("country") || lower.contains("city");
        if !places
            && ["asn", "isp", "anonymous", "connection-type", "domain"]
                .iter()
                .any(|w| lower.contains(w))
        {
            return Err(GeoIpError::NotLocations {
                path: name.to_owned(),
                database_type,
            });
        }
        // A few lookups walk the tree and decode records, so a damaged file
        // fails now rather than silently locating nothing all run.
        for probe in ["8.8.8.8", "1.1.1.1", "81.2.69.142", "2001:4860:4860::8888"] {
            let Ok(ip) = probe.parse::<IpAddr>() else {
                continue;
            };
            if ip.is_ipv6() && reader.metadata().ip_version == 4 {
                continue;
            }
            let found = reader.lookup(ip).map_err(damaged)?;
            found.decode::<MmdbRecord>().map_err(damaged)?;
        }
        Ok(GeoIp {
            kind: format!("{database_type} (MaxMind DB)"),
            source: Source::Mmdb(reader),
        })
    }

    /// What the file is, for messages: `GeoLite2-City (MaxMind DB)`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Where `ip` is, if it is a public address the database knows.
    pub fn locate(&self, ip: IpAddr) -> Option<Location> {
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        if !is_public(ip) {
            return None;
        }
        let found = match &self.source {
            Source::Mmdb(r) => {
                if ip.is_ipv6() && r.metadata().ip_version == 4 {
                    return None;
                }
                // A record that does not decode (a schema this reader does
                // not know) locates nothing rather than stopping the run.
                r.lookup(ip)
                    .ok()?
                    .decode::<MmdbRecord>()
                    .ok()??
                    .into_location()
            }
            Source::Ranges(t) => t.get(ip).cloned(),
        }?;
        (found.country.is_some() || found.coordinates.is_some()).then_some(found)
    }
}

/// The metadata marker that ends every MaxMind DB data section; the
/// metadata after it is at most 128 KiB.
fn has_mmdb_marker(bytes: &[u8]) -> bool {
    const MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";
    let tail = &bytes[bytes.len().saturating_sub(128 * 1024 + MARKER.len())..];
    memchr::memmem::rfind(tail, MARKER).is_some()
}

/// The fields Rampart reads from either schema; the rest are skipped.
#[derive(Deserialize)]
struct MmdbRecord {
    #[serde(default)]
    country: Option<Named>,
    /// Where the network is registered: the fallback when `country` is
    /// absent (GeoLite2 leaves it out for some anycast and satellite ranges).
    #[serde(default)]
    registered_country: Option<Named>,
    #[serde(default)]
    city: Option<Named>,
    #[serde(default)]
    location: Option<MmdbLocation>,
    /// ip-location-db's flat schema.
    #[serde(default)]
    country_code: Option<Named>,
    #[serde(default)]
    latitude: Option<Number>,
    #[serde(default)]
    longitude: Option<Number>,
}

#[derive(Deserialize)]
struct MmdbLocation {
    #[serde(default)]
    latitude: Option<Number>,
    #[serde(default)]
    longitude: Option<Number>,
    #[serde(default)]
    accuracy_radius: Option<Number>,
}

/// A number of whichever MaxMind DB type the writer chose: the format's
/// decoder is strict (a uint16 does not read as a u32, a float not as an
/// f64), and databases differ (GeoIP2 writes `accuracy_radius` as uint16 and
/// coordinates as double; other writers pick other widths).
#[derive(Clone, Copy)]
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            /// Text that is no number becomes NaN, which no check accepts.
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                Ok(Number(v.trim().parse().unwrap_or(f64::NAN)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A place's name as the schemas give it: a map in GeoIP2 (`iso_code` for
/// countries, localised `names` for cities, English preferred), a plain
/// string in ip-location-db's and other flat files. Whatever else the map
/// holds is skipped; a value of another type names nothing.
#[derive(Default)]
struct Named {
    iso_code: Option<String>,
    name: Option<String>,
}

impl<'de> Deserialize<'de> for Named {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Named;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a map with iso_code or names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Named, E> {
                Ok(Named {
                    iso_code: Some(v.to_owned()),
                    name: Some(v.to_owned()),
                })
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Named, E> {
                Ok(Named::default())
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Named, E> {
                Ok(Named::default())
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Named, E> {
                Ok(Named::default())
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Named, E> {
                Ok(Named::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Named, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Named::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Named, A::Error> {
                let mut out = Named::default();
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "iso_code" => out.iso_code = m.next_value::<Named>()?.name,
                        "names" => {
                            let names: HashMap<String, Named> = m.next_value()?;
                            let mut names: Vec<(String, String)> = names
                                .into_iter()
                                .filter_map(|(lang, n)| n.name.map(|n| (lang, n)))
                                .collect();
                            names.sort();
                            out.name = names
                                .iter()
                                .find(|(lang, _)| lang == "en")
                                .or(names.first())
                                .map(|(_, n)| n.clone());
                        }
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

fn country_code(code: &str) -> Option<String> {
    let code = code.trim();
    // ZZ and XX are "unknown" in several databases; EU and AP are regions.
    (code.len() == 2
        && code.bytes().all(|b| b.is_ascii_alphabetic())
        && !["ZZ", "XX", "EU", "AP", "--"].contains(&code.to_ascii_uppercase().as_str()))
    .then(|| code.to_ascii_uppercase())
}

fn coordinates(lat: f64, lon: f64, accuracy_km: Option<f64>) -> Option<Coordinates> {
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some(Coordinates {
        latitude: lat,
        longitude: lon,
        // A negative radius would inflate distances (false findings), NaN
        // would silence every comparison: such radii are dropped.
        accuracy_km: accuracy_km.filter(|r| r.is_finite() && *r >= 0.0),
    })
}

impl MmdbRecord {
    fn into_location(self) -> Option<Location> {
        let country = [self.country, self.country_code, self.registered_country]
            .into_iter()
            .flatten()
            .find_map(|c| c.iso_code.as_deref().and_then(country_code));
        let city = self
            .city
            .and_then(|c| c.name)
            .filter(|c| !c.trim().is_empty());
        let coords = match self.location {
            Some(l) => l
                .latitude
                .zip(l.longitude)
                .and_then(|(la, lo)| coordinates(la.0, lo.0, l.accuracy_radius.map(|r| r.0))),
            None => self
                .latitude
                .zip(self.longitude)
                .and_then(|(la, lo)| coordinates(la.0, lo.0, None)),
        };
        Some(Location {
            country,
            city,
            coordinates: coords,
        })
    }
}

/// Address ranges from a CSV file, sorted by start, each pointing at one of
/// the distinct locations (a city file repeats each place thousands of times).
struct Ranges {
    v4: Vec<(u32, u32, u32)>,
    v6: Vec<(u128, u128, u32)>,
    places: Vec<Location>,
    has_coordinates: bool,
}

/// Splits one CSV line; `"` quotes a field, `""` inside quotes is a quote.
fn csv_fields(line: &str) -> Result<Vec<Cow<'_, str>>, &'static str> {
    // Most rows quote nothing: borrow them (a city file has millions).
    if !line.contains('"') {
        return Ok(line.split(',').map(Cow::Borrowed).collect());
    }
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => fields.push(Cow::Owned(std::mem::take(&mut cur))),
            (_, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed");
    }
    fields.push(Cow::Owned(cur));
    Ok(fields)
}

fn parse_coordinate(v: &str, what: &'static str) -> Result<Option<f64>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<f64>()
        .map(Some)
        .map_err(|_| format!("the {what} {v:?} is not a number"))
}

impl Ranges {
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn parse(name: &str, bytes: &[u8]) -> Result<Ranges, GeoIpError> {
        let bad = |line: usize, why: String| GeoIpError::BadCsv {
            path: name.to_owned(),
            line,
            why,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            bad(
                1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count(),
                "it is not text".to_owned(),
            )
        })?;
        let mut table = Ranges {
            v4: Vec::new(),
            v6: Vec::new(),
            places: Vec::new(),
            has_coordinates: false,
        };
        let mut place_ids: HashMap<String, u32> = HashMap::new();
        let mut rows = 0usize;
        // The fields that make a place, as written: one allocation per place, not per row.
        let mut key = String::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let f = csv_fields(line).map_err(|w| bad(n, w.to_owned()))?;
            if f.len() < 3 {
                return Err(bad(n, format!("{} fields, at least 3 expected", f.len())));
            }
            let (start, end) = match (f[0].trim().parse::<IpAddr>(), f[1].trim().parse::<IpAddr>())
            {
                (Ok(a), Ok(b)) => (a, b),
                // A header line, as some exports add.
                _ if n == 1 && f[0].contains("ip") => continue,
                _ => {
                    return Err(bad(
                        n,
                        format!("{:?} to {:?} is not a range of IP addresses", f[0], f[1]),
                    ));
                }
            };
            rows += 1;
            let country = country_code(&f[2]);
            let (city, coords) = if f.len() >= 8 {
                let lat = parse_coordinate(&f[6], "latitude").map_err(|w| bad(n, w))?;
                let lon = parse_coordinate(&f[7], "longitude").map_err(|w| bad(n, w))?;
                let city = Some(f[3].trim()).filter(|c| !c.is_empty());
                (
                    city,
                    lat.zip(lon).and_then(|(a, b)| coordinates(a, b, None)),
                )
            } else {
                (None, None)
            };
            if country.is_none() && coords.is_none() {
                continue;
            }
            table.has_coordinates |= coords.is_some();
            key.clear();
            for part in [
                &f[2],
                f.get(3).unwrap_or(&Cow::Borrowed("")),
                f.get(6).unwrap_or(&Cow::Borrowed("")),
                f.get(7).unwrap_or(&Cow::Borrowed("")),
            ] {
                key.push_str(part);
                key.push('\u{1f}');
            }
            let id = match place_ids.get(key.as_str()) {
                Some(id) => *id,
                None => {
                    let id = u32::try_from(table.places.len())
                        .map_err(|_| bad(n, "too many distinct places".to_owned()))?;
                    table.places.push(Location {
                        country,
                        city: city.map(str::to_owned),
                        coordinates: coords,
                    });
                    place_ids.insert(key.clone(), id);
                    id
                }
            };
            match (start, end) {
                (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                    table.v4.push((u32::from(a), u32::from(b), id));
                }
                (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                    table.v6.push((u128::from(a), u128::from(b), id));
                }
                _ => {
                    return Err(bad(
                        n,
                        format!(
                            "{start} to {end} is not a range (start after end, or IPv4 with IPv6)"
                        ),
                    ));
                }
            }
        }
        if table.len() == 0 {
            return Err(if rows == 0 {
                GeoIpError::Empty {
                    path: name.to_owned(),
                }
            } else {
                GeoIpError::NoPlaces {
                    path: name.to_owned(),
                    rows,
                }
            });
        }
        table.v4.sort_unstable();
        table.v6.sort_unstable();
        Ok(table)
    }

    fn get(&self, ip: IpAddr) -> Option<&Location> {
        fn find<T: Ord + Copy>(rows: &[(T, T, u32)], x: T) -> Option<u32> {
            let i = rows.partition_point(|r| r.0 <= x).checked_sub(1)?;
            let (_, end, id) = rows.get(i)?;
            (x <= *end).then_some(*id)
        }
        let id = match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => find(&self.v6, u128::from(v6)),
        }?;
        self.places.get(id as usize)
    }
}

#[cfg(test)]
#[path = "../tests/support/mmdb_writer.rs"]
mod mmdb_writer;

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn accuracy_radii_that_are_not_distances_are_dropped() {
        for bad in [-50.0, f64::NAN, f64::INFINITY] {
            let c = coordinates(48.0, 2.0, Some(bad)).expect("a place");
            assert_eq!(c.accuracy_km, None, "{bad}");
        }
        assert_eq!(
            coordinates(48.0, 2.0, Some(20.0)).and_then(|c| c.accuracy_km),
            Some(20.0)
        );
        assert!(coordinates(91.0, 2.0, None).is_none());
    }

    #[test]
    fn reads_a_geolite2_city_database() {
        let db = GeoIp::from_bytes("test.mmdb", mmdb_writer::test_city_db()).expect("opens");
        assert_eq!(db.kind(), "GeoLite2-City (MaxMind DB)");
        let paris = db.locate(ip("198.51.100.7")).expect("located");
        assert_eq!(paris.label(), "Paris, FR");
        let c = paris.coordinates.expect("coordinates");
        assert!((c.latitude - 48.8566).abs() < 1e-9 && c.accuracy_km == Some(20.0));
        assert_eq!(
            db.locate(ip("2001:db8::1")).expect("v6").label(),
            "Tokyo, JP"
        );
        // IPv4-mapped IPv6 is the IPv4 address.
        assert_eq!(
            db.locate(ip("::ffff:203.0.113.9")).expect("mapped").label(),
            "Sydney, AU"
        );
        let de = db.locate(ip("11.1.2.3")).expect("country only");
        assert_eq!((de.city, de.country.as_deref()), (None, Some("DE")));
        // Not in the file, and private (though the file has it).
        assert_eq!(db.locate(ip("9.9.9.9")), None);
        assert_eq!(db.locate(ip("10.1.2.3")), None);
        assert_eq!(db.locate(ip("127.0.0.1")), None);
    }

    #[test]
    fn reads_the_flat_ip_location_db_schema_and_country_files() {
        use mmdb_writer::{Value, build, country, map, s};
        let bytes = build(
            "ip-location-db",
            &[
                (
                    ip("198.51.100.0"),
                    24,
                    map(&[
                        ("city", s("Brisbane")),
                        ("country_code", s("AU")),
                        ("latitude", Value::Double(-27.4679)),
                        ("longitude", Value::Double(153.0281)),
                    ]),
                ),
                (ip("192.0.2.0"), 24, country("nz")),
                // A flat file naming the country with a plain string.
                (
                    ip("203.0.113.0"),
                    24,
                    map(&[("country", s("JP")), ("latitude", s("n/a"))]),
                ),
            ],
        );
        let db = GeoIp::from_bytes("flat.mmdb", bytes).expect("opens");
        let b = db.locate(ip("198.51.100.1")).expect("located");
        assert_eq!(b.label(), "Brisbane, AU");
        assert!(b.coordinates.is_some_and(|c| c.accuracy_km.is_none()));
        assert_eq!(db.locate(ip("192.0.2.1")).expect("nz").label(), "NZ");
        let jp = db.locate(ip("203.0.113.1")).expect("jp");
        assert_eq!((jp.label().as_str(), jp.coordinates), ("JP", None));
        // ip-location-db names its country files after their sources.
        let named = build(
            "geo-whois-asn-country",
            &[(ip("198.51.100.0"), 24, map(&[("country_code", s("AU"))]))],
        );
        let db = GeoIp::from_bytes("asn-country.mmdb", named).expect("a country file");
        assert_eq!(db.locate(ip("198.51.100.1")).expect("au").label(), "AU");
    }

    #[test]
    fn refuses_asn_databases_and_damaged_files_with_the_fix() {
        let asn = mmdb_writer::build(
            "GeoLite2-ASN",
            &[(ip("198.51.100.0"), 24, mmdb_writer::map(&[]))],
        );
        let e = GeoIp::from_bytes("asn.mmdb", asn).expect_err("asn");
        assert!(matches!(e, GeoIpError::NotLocations { .. }), "{e}");
        assert!(e.to_string().contains("City or Country"), "{e}");

        let whole = mmdb_writer::test_city_db();
        let marker = memchr::memmem::rfind(&whole, b"\xAB\xCD\xEFMaxMind.com").expect("marker");
        // The metadata survives, the tree and data it describes do not.
        let cut = whole[marker - 40..].to_vec();
        let e = GeoIp::from_bytes("cut.mmdb", cut).expect_err("damaged");
        assert!(matches!(e, GeoIpError::DamagedMmdb { .. }), "{e}");
        assert!(e.to_string().contains("Download it again"), "{e}");

        let e = GeoIp::from_bytes("g.bin", vec![0xff, 0xfe, 0, 1]).expect_err("binary");
        assert!(matches!(e, GeoIpError::BadCsv { line: 1, .. }), "{e}");
        let e = GeoIp::from_bytes("e.mmdb", Vec::new()).expect_err("empty");
        assert!(matches!(e, GeoIpError::Empty { .. }));
        let e = GeoIp::open(Path::new("/nonexistent/GeoLite2-City.mmdb")).expect_err("missing");
        assert!(matches!(e, GeoIpError::Read { .. }));
        assert!(e.to_string().contains("GeoLite2-City.mmdb"), "{e}");
    }

    #[test]
    fn reads_ip_location_db_csv_country_and_city_rows() {
        let country = "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n";
        let db = GeoIp::from_bytes("c.csv", country.as_bytes().to_vec()).expect("opens");
        assert_eq!(db.locate(ip("1.0.2.9")).expect("cn").label(), "CN");
        assert_eq!(db.locate(ip("2001:200::5")).expect("jp").label(), "JP");
        assert_eq!(db.locate(ip("1.0.4.0")), None);
        assert!(db.kind().contains("countries only"), "{}", db.kind());

        let city = "ip_range_start,ip_range_end,country_code,city,state1,state2,latitude,longitude,postcode,timezone\n\
                    1.0.0.0,1.0.0.255,AU,\"Brisbane, QLD\",Queensland,,-27.4679,153.0281,4000,Australia/Brisbane\n\
                    8.8.8.0,8.8.8.255,US,Mountain View,California,,37.4056,-122.0775,,\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, city.as_bytes()).expect("gzip");
        let db = GeoIp::from_bytes("c.csv.gz", gz.finish().expect("gzip")).expect("opens");
        let b = db.locate(ip("1.0.0.1")).expect("brisbane");
        assert_eq!(b.label(), "Brisbane, QLD, AU");
        assert!(b.coordinates.is_some());
        assert!(db.kind().contains("with coordinates"));

        let e = GeoIp::from_bytes("x.csv", b"1.0.0.0,1.0.0.255,AU\nhello world\n".to_vec())
            .expect_err("bad row");
        assert!(matches!(e, GeoIpError::BadCsv { line: 2, .. }), "{e}");
        let e = GeoIp::from_bytes("x.csv", b"1.0.0.9,1.0.0.1,AU\n".to_vec()).expect_err("order");
        assert!(matches!(e, GeoIpError::BadCsv { line: 1, .. }), "{e}");
        let asn = b"1.0.0.0,1.0.0.255,13335,Cloudflare\n1.0.4.0,1.0.7.255,38803,GTelecom\n";
        let e = GeoIp::from_bytes("asn.csv", asn.to_vec()).expect_err("asn");
        assert!(matches!(e, GeoIpError::NoPlaces { rows: 2, .. }), "{e}");
        let e = GeoIp::from_bytes("x.gz", vec![0x1f, 0x8b, 0, 1, 2]).expect_err("gz");
        assert!(matches!(e, GeoIpError::BadGzip { .. }), "{e}");
    }

    #[test]
    fn distances() {
        let p = |la, lo| Coordinates {
            latitude: la,
            longitude: lo,
            accuracy_km: None,
        };
        let paris_lyon = distance_km(&p(48.8566, 2.3522), &p(45.764, 4.8357));
        assert!((paris_lyon - 392.0).abs() < 5.0, "{paris_lyon}");
        let paris_sydney = distance_km(&p(48.8566, 2.3522), &p(-33.8688, 151.2093));
        assert!((paris_sydney - 16_960.0).abs() < 60.0, "{paris_sydney}");
        assert_eq!(distance_km(&p(10.0, 10.0), &p(10.0, 10.0)), 0.0);
        // Antipodes: no NaN from rounding past 1.
        assert!((distance_km(&p(0.0, 0.0), &p(0.0, 180.0)) - 20_015.0).abs() < 5.0);
    }

    mod no_panics {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), a in any::<u32>()) {
                if let Ok(db) = GeoIp::from_bytes("fuzz", bytes) {
                    let _ = db.locate(IpAddr::from(a.to_be_bytes()));
                }
            }

            #[test]
            fn arbitrary_text(text in "[0-9a-f.:,\"\\n -]{0,400}") {
                let _ = GeoIp::from_bytes("fuzz.csv", text.into_bytes());
            }

            /// A real database with bytes overwritten: the tree, the data and
            /// the metadata all get damaged somewhere.
            #[test]
            fn damaged_mmdb(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
                            probes in proptest::collection::vec(any::<u32>(), 1..8)) {
                let mut bytes = mmdb_writer::test_city_db();
                for (at, b) in flips {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
                if let Ok(db) = GeoIp::from_bytes("fuzz.mmdb", bytes) {
                    for known in ["198.51.100.7", "192.0.2.1", "203.0.113.9", "45.33.1.1", "11.1.1.1", "2001:db8::1"] {
                        let _ = db.locate(ip(known));
                    }
                    for p in probes {
                        let _ = db.locate(IpAddr::from(p.to_be_bytes()));
                        let _ = db.locate(IpAddr::from(u128::from(p).rotate_left(96).to_be_bytes()));
                    }
                }
            }
        }
    }
}
