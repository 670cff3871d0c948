//! Money as exact nanos of a currency, converted from and to `assay.common.v1.Money`.

use assay_proto::common::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::validate;

const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// An exact amount of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// ISO 4217 code.
    pub currency: CurrencyCode,
    /// The amount in billionths of a unit.
    pub nanos: i128,
}

/// A validated ISO 4217 code, stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn parse(code: &str) -> Result<Self, String> {
        validate::currency_code(code)?;
        let bytes = code.as_bytes();
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters get in through `parse`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<CurrencyCode> for String {
    fn from(code: CurrencyCode) -> String {
        code.as_str().to_owned()
    }
}

impl std::fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Money {
    /// Checks a caller's money: a known currency, `nanos` in range and of the sign of `units`.
    pub fn from_proto(money: &pb::Money) -> Result<Self, String> {
        let currency =
            CurrencyCode::parse(&money.currency_code).map_err(|e| format!("currency_code: {e}"))?;
        if money.nanos.unsigned_abs() >= NANOS_PER_UNIT as u32 {
            return Err("nanos must be between -999999999 and 999999999".to_owned());
        }
        if (money.units > 0 && money.nanos < 0) || (money.units < 0 && money.nanos > 0) {
            return Err("units and nanos must have the same sign".to_owned());
        }
        Ok(Self {
            currency,
            nanos: i128::from(money.units) * NANOS_PER_UNIT + i128::from(money.nanos),
        })
    }

    /// Like [`Money::from_proto`], and the amount must be above zero.
    pub fn positive_from_proto(money: &pb::Money) -> Result<Self, String> {
        let value = Self::from_proto(money)?;
        if value.nanos <= 0 {
            return Err("must be greater than zero".to_owned());
        }
        Ok(value)
    }

    pub fn to_proto(&self) -> pb::Money {
        pb::Money {
            currency_code: self.currency.as_str().to_owned(),
            units: (self.nanos / NANOS_PER_UNIT) as i64,
            nanos: (self.nanos % NANOS_PER_UNIT) as i32,
        }
    }

    /// The amount in units, as a float, for ratios and comparisons.
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / NANOS_PER_UNIT as f64
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} {}", self.as_f64(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(code: &str, units: i64, nanos: i32) -> pb::Money {
        pb::Money {
            currency_code: code.to_owned(),
            units,
            nanos,
        }
    }

    #[test]
    fn round_trips_exactly() {
        let m = Money::from_proto(&money("EUR", 1299, 990_000_000)).unwrap();
        assert_eq!(m.to_proto(), money("EUR", 1299, 990_000_000));
        assert_eq!(m.to_string(), "1299.99 EUR");
        let neg = Money::from_proto(&money("USD", -3, -500_000_000)).unwrap();
        assert_eq!(neg.to_proto(), money("USD", -3, -500_000_000));
    }

    #[test]
    fn refuses_bad_money() {
        assert!(Money::from_proto(&money("ZZZ", 1, 0)).is_err());
        assert!(Money::from_proto(&money("USD", 1, -1)).is_err());
        assert!(Money::from_proto(&money("USD", 0, 1_000_000_000)).is_err());
        assert!(Money::positive_from_proto(&money("USD", 0, 0)).is_err());
        assert!(Money::positive_from_proto(&money("USD", -5, 0)).is_err());
        assert!(Money::positive_from_proto(&money("USD", 0, 1)).is_ok());
    }
}
