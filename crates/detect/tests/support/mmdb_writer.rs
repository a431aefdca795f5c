//! A tiny MaxMind DB writer for tests, written from the public format
//! specification (maxmind.github.io/MaxMind-DB): a binary search tree over
//! the address bits (IPv6 tree, 32-bit records, IPv4 under `::/96`), 16 zero
//! bytes, the data section, then the metadata marker and the metadata map.
//! Values are written without pointers; that is valid, only larger.
//!
//! Shared by the detection crate's unit and integration tests and by the
//! CLI's tests (through `#[path]`), so every one reads a real `.mmdb` file.
#![allow(dead_code)]

use std::net::IpAddr;

/// A data-section value.
#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

pub fn s(v: &str) -> Value {
    Value::Str(v.to_owned())
}

pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// A GeoIP2/GeoLite2-City style record (`country.iso_code`,
/// `city.names.en`, `location.{latitude,longitude,accuracy_radius}`).
pub fn city(country: &str, city: &str, lat: f64, lon: f64, radius_km: u16) -> Value {
    map(&[
        (
            "city",
            map(&[
                ("geoname_id", Value::U32(1)),
                ("names", map(&[("en", s(city))])),
            ]),
        ),
        ("country", map(&[("iso_code", s(country))])),
        (
            "location",
            map(&[
                ("accuracy_radius", Value::U16(radius_km)),
                ("latitude", Value::Double(lat)),
                ("longitude", Value::Double(lon)),
            ]),
        ),
    ])
}

/// A GeoLite2-Country style record.
pub fn country(code: &str) -> Value {
    map(&[("country", map(&[("iso_code", s(code))]))])
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65536 {
        let n = size - 285;
        (30, vec![(n >> 8) as u8, n as u8])
    } else {
        let n = size - 65821;
        (31, vec![(n >> 16) as u8, (n >> 8) as u8, n as u8])
    };
    if kind <= 7 {
        out.push((kind << 5) | low);
    } else {
        // Extended types: type bits 0, then the type less 7 in the next byte.
        out.push(low);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend(&bytes[skip..]);
}

pub fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(t) => {
            control(out, 2, t.len());
            out.extend(t.as_bytes());
        }
        Value::Double(d) => {
            control(out, 3, 8);
            out.extend(d.to_be_bytes());
        }
        Value::U16(n) => uint(out, 5, u64::from(*n)),
        Value::U32(n) => uint(out, 6, u64::from(*n)),
        Value::U64(n) => uint(out, 9, *n),
        Value::Map(pairs) => {
            control(out, 7, pairs.len());
            for (k, v) in pairs {
                encode(out, &Value::Str(k.clone()));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for v in items {
                encode(out, v);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Child {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds a database from `(network, prefix length, record)`; IPv4
/// networks go under `::/96` as the format's IPv6 trees hold them.
pub fn build(database_type: &str, networks: &[(IpAddr, u8, Value)]) -> Vec<u8> {
    let mut nodes: Vec<[Child; 2]> = vec![[Child::Empty, Child::Empty]];
    let mut data = Vec::new();
    for (ip, len, value) in networks {
        let (bits, len): (u128, u32) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(*v4)), 96 + u32::from(*len)),
            IpAddr::V6(v6) => (u128::from(*v6), u32::from(*len)),
        };
        let offset = data.len();
        encode(&mut data, value);
        let mut node = 0usize;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == len {
                nodes[node][bit] = Child::Data(offset);
                break;
            }
            node = match nodes[node][bit] {
                Child::Node(n) => n,
                other => {
                    // A wider network already here: the new node inherits it.
                    let inherit = match other {
                        Child::Data(_) => other,
                        _ => Child::Empty,
                    };
                    nodes.push([inherit, inherit]);
                    let n = nodes.len() - 1;
                    nodes[node][bit] = Child::Node(n);
                    n
                }
            };
        }
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for n in &nodes {
        for c in n {
            let v: u64 = match *c {
                Child::Empty => node_count as u64,
                Child::Node(i) => i as u64,
                Child::Data(off) => (node_count + 16 + off) as u64,
            };
            out.extend((v as u32).to_be_bytes());
        }
    }
    out.extend([0u8; 16]);
    out.extend(&data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    encode(
        &mut out,
        &map(&[
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(1_700_000_000)),
            ("database_type", s(database_type)),
            ("description", map(&[("en", s("Rampart test database"))])),
            ("ip_version", Value::U16(6)),
            ("languages", Value::Array(vec![s("en")])),
            ("node_count", Value::U32(node_count as u32)),
            ("record_size", Value::U16(32)),
        ]),
    );
    out
}

/// The places the tests use, as a GeoLite2-City database: documentation
/// ranges stand in for real networks (the locator does not care).
pub fn test_city_db() -> Vec<u8> {
    let v4 = |a: [u8; 4]| IpAddr::from(a);
    build(
        "GeoLite2-City",
        &[
            // Paris, Lyon (390 km away), Sydney, New York.
            (
                v4([198, 51, 100, 0]),
                24,
                city("FR", "Paris", 48.8566, 2.3522, 20),
            ),
            (
                v4([192, 0, 2, 0]),
                24,
                city("FR", "Lyon", 45.764, 4.8357, 20),
            ),
            (
                v4([203, 0, 113, 0]),
                24,
                city("AU", "Sydney", -33.8688, 151.2093, 20),
            ),
            (
                v4([45, 33, 0, 0]),
                16,
                city("US", "New York", 40.7128, -74.006, 20),
            ),
            // A private network: the locator must not place it, whatever the file says.
            (
                v4([10, 0, 0, 0]),
                8,
                city("DE", "Berlin", 52.52, 13.405, 20),
            ),
            // Only the country known: the country's middle, 1000 km wide.
            (
                v4([11, 0, 0, 0]),
                8,
                map(&[
                    ("country", map(&[("iso_code", s("DE"))])),
                    (
                        "location",
                        map(&[
                            ("accuracy_radius", Value::U16(1000)),
                            ("latitude", Value::Double(51.2993)),
                            ("longitude", Value::Double(9.491)),
                        ]),
                    ),
                ]),
            ),
            (
                "2001:db8::".parse().expect("literal"),
                32,
                city("JP", "Tokyo", 35.6762, 139.6503, 20),
            ),
        ],
    )
}
