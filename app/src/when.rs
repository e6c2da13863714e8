//! How times read next to messages and in the conversation list.

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

#[cfg(test)]
mod tests {
    use super::*;

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
