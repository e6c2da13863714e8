//! How times read next to messages and in the conversation list, and how durations and other
//! counts read ("1 minute", "5 minutes", "1 hour").

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

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// How a time reads next to a message (`with_clock`) or in the conversation list: `14:03` today;
/// `26 Nov 14:03` (list: `26 Nov`) earlier this year; `26 Nov 2025 14:03` (list: `26 Nov 2025`)
/// before that.
pub fn time_label(now: LocalTime, at: LocalTime, with_clock: bool) -> String {
    let clock = format!("{:02}:{:02}", at.hour, at.minute);
    if (at.year, at.month, at.day) == (now.year, now.month, now.day) {
        return clock;
    }
    let month = MONTHS.get(at.month.wrapping_sub(1) as usize).copied().unwrap_or("?");
    let date =
        if at.year == now.year { format!("{} {month}", at.day) } else { format!("{} {month} {}", at.day, at.year) };
    if with_clock { format!("{date} {clock}") } else { date }
}

/// The plural category a number takes in the app's language, English: CLDR's rule (the one
/// `Intl.PluralRules("en")` gives for whole numbers) is "one" for exactly 1 and "other" for the
/// rest, 0 included ("0 minutes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plural {
    /// 1.
    One,
    /// Any other count.
    Other,
}

impl Plural {
    /// The category of `n`.
    pub fn of(n: u64) -> Plural {
        if n == 1 { Plural::One } else { Plural::Other }
    }
}

/// `n` followed by the noun in the form its plural category takes: `count(1, "minute",
/// "minutes")` is "1 minute", `count(5, …)` is "5 minutes".
pub fn count(n: u64, one: &str, other: &str) -> String {
    let noun = match Plural::of(n) {
        Plural::One => one,
        Plural::Other => other,
    };
    format!("{n} {noun}")
}

/// A length of time given in minutes, in the largest whole unit: "1 minute", "15 minutes",
/// "1 hour", "2 hours", "1 day". Zero reads "0 minutes".
pub fn minutes_label(minutes: u32) -> String {
    let minutes = u64::from(minutes);
    if minutes != 0 && minutes.is_multiple_of(24 * 60) {
        count(minutes / (24 * 60), "day", "days")
    } else if minutes != 0 && minutes.is_multiple_of(60) {
        count(minutes / 60, "hour", "hours")
    } else {
        count(minutes, "minute", "minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_singular_for_one_only() {
        assert_eq!(Plural::of(0), Plural::Other);
        assert_eq!(Plural::of(1), Plural::One);
        assert_eq!(Plural::of(2), Plural::Other);
        assert_eq!(Plural::of(11), Plural::Other);
        assert_eq!(Plural::of(21), Plural::Other);
        assert_eq!(count(1, "message", "messages"), "1 message");
        assert_eq!(count(0, "message", "messages"), "0 messages");
    }

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
    }

    #[test]
    fn time_labels_show_the_date_only_when_it_is_not_today() {
        let now = LocalTime { year: 2026, month: 11, day: 26, hour: 23, minute: 50 };
        let today = LocalTime { hour: 9, minute: 5, ..now };
        assert_eq!(time_label(now, today, true), "09:05");
        assert_eq!(time_label(now, today, false), "09:05");
        let earlier = LocalTime { month: 3, day: 2, ..today };
        assert_eq!(time_label(now, earlier, true), "2 Mar 09:05");
        assert_eq!(time_label(now, earlier, false), "2 Mar");
        let last_year = LocalTime { year: 2025, ..earlier };
        assert_eq!(time_label(now, last_year, true), "2 Mar 2025 09:05");
        assert_eq!(time_label(now, LocalTime { month: 13, ..last_year }, false), "2 ? 2025");
    }
}
