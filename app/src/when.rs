//! How times read next to messages and in the conversation list, and how durations read ("1
//! minute", "5 minutes", "1 hour"): which parts a time shows is decided here, the words and their
//! order come from `Intl` and the catalogue (`i18n`).

use crate::i18n::{DateShape, Text, tn};

/// A moment in the person's local calendar (month and day from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// Year.
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
}

/// Which parts a time shows next to a message (`with_clock`) or in the conversation list: the
/// clock today; day and month (and the clock next to a message) earlier this year; with the year
/// before that.
pub fn shape(now: LocalTime, at: LocalTime, with_clock: bool) -> DateShape {
    if (at.year, at.month, at.day) == (now.year, now.month, now.day) {
        DateShape::Clock
    } else if at.year == now.year {
        DateShape::DayMonth { clock: with_clock }
    } else {
        DateShape::DayMonthYear { clock: with_clock }
    }
}

/// How the moment `timestamp` (at `at`, local time) reads seen at `now`: as `Intl` writes it for
/// the person's locale ("14:03", "26 Nov", "Nov 26, 2025, 14:03"), or, without `Intl` (native
/// tests), in English: `14:03`, `26 Nov 14:03`, `26 Nov 2025`.
pub fn time_label(now: LocalTime, at: LocalTime, timestamp: u64, with_clock: bool) -> String {
    let shape = shape(now, at, with_clock);
    crate::i18n::date_time(timestamp, shape).unwrap_or_else(|| plain(at, shape))
}

/// `at` in `shape` without `Intl`: English month names natively, numbers in the browser (where
/// `Intl` failing is not expected).
fn plain(at: LocalTime, shape: DateShape) -> String {
    let clock = format!("{:02}:{:02}", at.hour, at.minute);
    #[cfg(not(target_arch = "wasm32"))]
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .get(at.month.wrapping_sub(1) as usize)
        .map_or_else(|| "?".to_owned(), |m| (*m).to_owned());
    #[cfg(target_arch = "wasm32")]
    let month = format!("{:02}", at.month);
    let (date, with_clock) = match shape {
        DateShape::Clock => return clock,
        DateShape::DayMonth { clock } => (format!("{} {month}", at.day), clock),
        DateShape::DayMonthYear { clock } => (format!("{} {month} {}", at.day, at.year), clock),
    };
    if with_clock { format!("{date} {clock}") } else { date }
}

/// A length of time given in seconds, in the largest whole unit: "5 minutes", "12 hours", "1 day",
/// "1 week", "2 weeks", "90 seconds". Zero reads "0 seconds".
pub fn seconds_label(seconds: u64) -> String {
    let unit = |n: u64| seconds != 0 && seconds.is_multiple_of(n);
    if unit(7 * 86_400) {
        tn(Text::TimeWeeks, seconds / (7 * 86_400), &[])
    } else if unit(86_400) {
        tn(Text::TimeDays, seconds / 86_400, &[])
    } else if unit(3_600) {
        tn(Text::TimeHours, seconds / 3_600, &[])
    } else if unit(60) {
        tn(Text::TimeMinutes, seconds / 60, &[])
    } else {
        tn(Text::TimeSeconds, seconds, &[])
    }
}

/// A length of time given in minutes, in the largest whole unit up to days: "1 minute", "15
/// minutes", "1 hour", "2 hours", "1 day". Zero reads "0 minutes".
pub fn minutes_label(minutes: u32) -> String {
    let minutes = u64::from(minutes);
    if minutes != 0 && minutes.is_multiple_of(24 * 60) {
        tn(Text::TimeDays, minutes / (24 * 60), &[])
    } else if minutes != 0 && minutes.is_multiple_of(60) {
        tn(Text::TimeHours, minutes / 60, &[])
    } else {
        tn(Text::TimeMinutes, minutes, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_largest_whole_unit() {
        assert_eq!(minutes_label(1), "1 minute");
        assert_eq!(minutes_label(5), "5 minutes");
        assert_eq!(minutes_label(15), "15 minutes");
        assert_eq!(minutes_label(60), "1 hour");
        assert_eq!(minutes_label(90), "90 minutes");
        assert_eq!(minutes_label(120), "2 hours");
        assert_eq!(minutes_label(24 * 60), "1 day");
        assert_eq!(minutes_label(0), "0 minutes");
        assert_eq!(minutes_label(u32::MAX), format!("{} minutes", u32::MAX));
        assert_eq!(seconds_label(1), "1 second");
        assert_eq!(seconds_label(90), "90 seconds");
        assert_eq!(seconds_label(7 * 86_400), "1 week");
        assert_eq!(seconds_label(30 * 86_400), "30 days");
        assert_eq!(seconds_label(0), "0 seconds");
    }

    #[test]
    fn time_labels_show_the_date_only_when_it_is_not_today() {
        let now = LocalTime { year: 2026, month: 11, day: 26, hour: 23, minute: 50 };
        let today = LocalTime { hour: 9, minute: 5, ..now };
        assert_eq!(shape(now, today, true), DateShape::Clock);
        assert_eq!(time_label(now, today, 0, true), "09:05");
        assert_eq!(time_label(now, today, 0, false), "09:05");
        let earlier = LocalTime { month: 3, day: 2, ..today };
        assert_eq!(shape(now, earlier, false), DateShape::DayMonth { clock: false });
        assert_eq!(time_label(now, earlier, 0, true), "2 Mar 09:05");
        assert_eq!(time_label(now, earlier, 0, false), "2 Mar");
        let last_year = LocalTime { year: 2025, ..earlier };
        assert_eq!(shape(now, last_year, true), DateShape::DayMonthYear { clock: true });
        assert_eq!(time_label(now, last_year, 0, true), "2 Mar 2025 09:05");
        assert_eq!(time_label(now, LocalTime { month: 13, ..last_year }, 0, false), "2 ? 2025");
    }
}
