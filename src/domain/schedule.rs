//! A program's weekly schedule: on which weekdays it meets.
//!
//! Written as `daily`, `Mon-Fri`, or a list such as `Mon,Wed,Fri` (ranges and days may mix:
//! `Mon-Wed,Sat`). Day names are the English three-letter abbreviations, in any letter case.

use chrono::Weekday;
use std::fmt;
use std::str::FromStr;

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Indexed by `Weekday::num_days_from_monday`.
    meets: [bool; 7],
}

impl Schedule {
    pub fn meets_on(&self, day: Weekday) -> bool {
        self.meets[day.num_days_from_monday() as usize]
    }

    pub fn days_per_week(&self) -> usize {
        self.meets.iter().filter(|m| **m).count()
    }
}

fn day_index(name: &str) -> Result<usize, String> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| format!("'{}' is not a day: expected Mon, Tue, Wed, Thu, Fri, Sat or Sun", name.trim()))
}

impl FromStr for Schedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("daily") {
            return Ok(Schedule { meets: [true; 7] });
        }
        if text.is_empty() {
            return Err("empty schedule: expected daily, Mon-Fri or days such as Mon,Wed,Fri".into());
        }
        let mut meets = [false; 7];
        for part in text.split(',') {
            match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (day_index(from)?, day_index(to)?);
                    if from > to {
                        return Err(format!("'{}' runs backwards: write ranges Mon-first, e.g. Mon-Fri", part.trim()));
                    }
                    meets[from..=to].iter_mut().for_each(|m| *m = true);
                }
                None => meets[day_index(part)?] = true,
            }
        }
        Ok(Schedule { meets })
    }
}

impl fmt::Display for Schedule {
    /// The shortest canonical spelling: `daily`, a single range such as `Mon-Fri`, or a list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.meets.iter().all(|m| *m) {
            return f.write_str("daily");
        }
        let days: Vec<usize> = (0..7).filter(|i| self.meets[*i]).collect();
        let contiguous = days.windows(2).all(|w| w[1] == w[0] + 1);
        if days.len() >= 3 && contiguous {
            return write!(f, "{}-{}", DAY_NAMES[days[0]], DAY_NAMES[days[days.len() - 1]]);
        }
        let names: Vec<&str> = days.iter().map(|i| DAY_NAMES[*i]).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(schedule: &str) -> Vec<Weekday> {
        let s: Schedule = schedule.parse().unwrap();
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun]
            .into_iter()
            .filter(|d| s.meets_on(*d))
            .collect()
    }

    #[test]
    fn reads_the_three_spellings() {
        assert_eq!(days("daily").len(), 7);
        assert_eq!(days("Mon-Fri"), vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]);
        assert_eq!(days("Mon,Wed,Fri"), vec![Weekday::Mon, Weekday::Wed, Weekday::Fri]);
        assert_eq!(days("mon-wed, sat"), vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Sat]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!("".parse::<Schedule>().is_err());
        assert!("Fri-Mon".parse::<Schedule>().unwrap_err().contains("backwards"));
        assert!("Mon,Funday".parse::<Schedule>().unwrap_err().contains("'Funday' is not a day"));
        assert!("weekdays".parse::<Schedule>().is_err());
    }

    #[test]
    fn prints_canonically() {
        for (input, shown) in [
            ("DAILY", "daily"),
            ("Mon,Tue,Wed,Thu,Fri", "Mon-Fri"),
            ("Tue,Thu", "Tue,Thu"),
            ("Mon-Wed,Sat", "Mon,Tue,Wed,Sat"),
        ] {
            assert_eq!(input.parse::<Schedule>().unwrap().to_string(), shown);
        }
    }
}
