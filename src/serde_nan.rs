//! JSON has no NaN or infinity: numbers a file does not determine (NaN) are written as null and read
//! back as NaN, so every law file ceq writes can be read again.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The same for a (low, high) pair.
pub mod pair {
    use super::*;

    pub fn serialize<S: Serializer>(v: &(f64, f64), s: S) -> Result<S::Ok, S::Error> {
        let f = |x: f64| x.is_finite().then_some(x);
        serde::Serialize::serialize(&(f(v.0), f(v.1)), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(f64, f64), D::Error> {
        let (a, b) = <(Option<f64>, Option<f64>)>::deserialize(d)?;
        Ok((a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)))
    }
}
