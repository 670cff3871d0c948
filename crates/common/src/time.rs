//! Conversions between protobuf timestamps and dates and chrono, with checks.

use assay_proto::common::v1 as pb;
use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Now, to the microsecond (what both databases store), in UTC.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

pub fn to_timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

pub fn opt_timestamp(time: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    time.map(to_timestamp)
}

/// A caller's timestamp, between years 1 and 9999.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Result<DateTime<Utc>, String> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err("nanos must be between 0 and 999999999".to_owned());
    }
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32)
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or_else(|| "is not a valid time".to_owned())
}

/// A required timestamp that is not in the future, e.g. the cut-off of a purge.
pub fn past_timestamp(ts: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>, String> {
    let time = from_timestamp(ts.ok_or_else(|| "must be set".to_owned())?)?;
    if time > now() {
        return Err("must not be in the future".to_owned());
    }
    Ok(time)
}

pub fn to_date(date: NaiveDate) -> pb::Date {
    pb::Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// A caller's calendar date.
pub fn from_date(date: &pb::Date) -> Result<NaiveDate, String> {
    if !(1..=9999).contains(&date.year) {
        return Err("year must be between 1 and 9999".to_owned());
    }
    let month = u32::try_from(date.month).map_err(|_| "month must be between 1 and 12")?;
    let day = u32::try_from(date.day).map_err(|_| "day must be between 1 and 31")?;
    NaiveDate::from_ymd_opt(date.year, month, day).ok_or_else(|| {
        format!(
            "{:04}-{:02}-{:02} is not a calendar date",
            date.year, date.month, date.day
        )
    })
}

/// A required date field.
pub fn required_date(date: Option<&pb::Date>) -> Result<NaiveDate, String> {
    match date {
        Some(date) => from_date(date),
        None => Err("must be set".to_owned()),
    }
}

/// Today in UTC.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The exclusive end of a day, in UTC: the first instant of the next day.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.succ_opt()
        .unwrap_or(NaiveDate::MAX)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_timestamps_are_required_and_not_ahead() {
        let ago = to_timestamp(now() - chrono::Duration::hours(1));
        assert!(past_timestamp(Some(&ago)).is_ok());
        assert_eq!(past_timestamp(None), Err("must be set".to_owned()));
        let ahead = to_timestamp(now() + chrono::Duration::hours(1));
        assert_eq!(
            past_timestamp(Some(&ahead)),
            Err("must not be in the future".to_owned())
        );
    }

    #[test]
    fn dates_are_checked() {
        let ok = pb::Date {
            year: 2024,
            month: 2,
            day: 29,
        };
        assert_eq!(
            from_date(&ok).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(to_date(from_date(&ok).unwrap()), ok);
        let bad = pb::Date {
            year: 2023,
            month: 2,
            day: 29,
        };
        assert!(from_date(&bad).is_err());
        assert!(from_date(&pb::Date::default()).is_err());
        assert!(required_date(None).is_err());
    }

    #[test]
    fn timestamps_are_checked() {
        let t = now();
        assert_eq!(from_timestamp(&to_timestamp(t)).unwrap(), t);
        assert!(
            from_timestamp(&prost_types::Timestamp {
                seconds: 0,
                nanos: -1
            })
            .is_err()
        );
        assert!(
            from_timestamp(&prost_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0
            })
            .is_err()
        );
    }
}
