//! JSON Schema calls `79.0` an integer, and API clients (and fuzzers) send
//! it: these deserializers take whole-number floats wherever an integer is
//! expected, and refuse fractions with a message that says so.

use serde::{Deserialize, Deserializer, de::Error};

fn whole(v: serde_json::Number) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0)
            .map(|f| f as i64)
    })
}

pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole(serde_json::Number::deserialize(d)?)
        .ok_or_else(|| D::Error::custom("expected a whole number"))
}

pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(serde_json::Number::deserialize(d)?)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| D::Error::custom("expected a whole number from 0 to 4294967295"))
}

pub fn option_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole(n)
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected a whole number")),
    }
}

pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole(n)
            .and_then(|v| u32::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected a whole number from 0 to 4294967295")),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::u32")]
        a: u32,
        #[serde(default, deserialize_with = "super::option_i64")]
        b: Option<i64>,
    }

    #[test]
    fn whole_floats_are_integers_and_fractions_are_not() {
        let t: T = serde_json::from_str(r#"{"a": 79.0, "b": 5}"#).expect("whole");
        assert_eq!((t.a, t.b), (79, Some(5)));
        let t: T = serde_json::from_str(r#"{"a": 1, "b": null}"#).expect("null");
        assert_eq!(t.b, None);
        assert!(serde_json::from_str::<T>(r#"{"a": 1.5}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": -1}"#).is_err());
    }
}
