//! JSON has no NaN or infinity: a number a file does not determine (NaN, or an infinity) is written as
//! null and read back as NaN. This is the one place that rule lives; every JSON writer of ceq (law
//! files, JSON tables) goes through it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An f64 written as a JSON number, or null when not finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            s.serialize_none()
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        Ok(Num(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN)))
    }
}

/// The JSON value of an f64 under the same rule.
pub fn value(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// For `#[serde(with = "crate::serde_nan")]` on an f64 field.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    Num(*v).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Num::deserialize(d)?.0)
}

/// The same for a (low, high) pair, written as a two-element array.
pub mod pair {
    use super::*;

    pub fn serialize<S: Serializer>(v: &(f64, f64), s: S) -> Result<S::Ok, S::Error> {
        (Num(v.0), Num(v.1)).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(f64, f64), D::Error> {
        let (a, b) = <(Num, Num)>::deserialize(d)?;
        Ok((a.0, b.0))
    }
}
