//! The periods of a trend: a KPI is watched per week, month or quarter (its cadence, chosen with
//! its target), and its trend shows the last 12 of them.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::Period;

/// How often a KPI is judged: the length of its trend's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// ISO weeks, Monday to Sunday (`2026-W48`).
    Week,
    /// Calendar months (`2026-11`).
    #[default]
    Month,
    /// Calendar quarters (`2026-Q4`).
    Quarter,
}

impl Cadence {
    /// Every cadence, shortest first.
    pub const ALL: [Cadence; 3] = [Cadence::Week, Cadence::Month, Cadence::Quarter];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Week => "week",
            Cadence::Month => "month",
            Cadence::Quarter => "quarter",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<Cadence> {
        Cadence::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Its periods in words: "weeks".
    pub fn plural(self) -> &'static str {
        match self {
            Cadence::Week => "weeks",
            Cadence::Month => "months",
            Cadence::Quarter => "quarters",
        }
    }

    /// In words, for a select: "Weekly".
    pub fn label(self) -> &'static str {
        match self {
            Cadence::Week => "Weekly",
            Cadence::Month => "Monthly",
            Cadence::Quarter => "Quarterly",
        }
    }
}

/// One period of a trend: a week, a month or a quarter. On the wire `2026-W48` (the ISO week
/// and its year), `2026-11` or `2026-Q4` (fields of this type are documented as strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Span {
    /// Its first day (a Monday, the 1st of a month, or the 1st of a quarter's first month).
    start: NaiveDate,
    /// Its length.
    cadence: Cadence,
}

impl Span {
    /// The period of `cadence` holding `day`.
    pub fn of(cadence: Cadence, day: NaiveDate) -> Span {
        let start = match cadence {
            Cadence::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Cadence::Month => Period::of(day).first_day(),
            Cadence::Quarter => NaiveDate::from_ymd_opt(day.year(), (day.month() - 1) / 3 * 3 + 1, 1).unwrap_or(day),
        };
        Span { start, cadence }
    }

    /// A month as a period.
    pub fn month(p: Period) -> Span {
        Span { start: p.first_day(), cadence: Cadence::Month }
    }

    /// Its cadence.
    pub fn cadence(self) -> Cadence {
        self.cadence
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        self.start
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().start.pred_opt().unwrap_or(self.start)
    }

    /// Whether `day` is in it.
    pub fn contains(self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.last_day()
    }

    /// The period after.
    pub fn next(self) -> Span {
        let start = match self.cadence {
            Cadence::Week => self.start + Days::new(7),
            Cadence::Month => Period::of(self.start).next().first_day(),
            Cadence::Quarter => Period::of(self.start).next().next().next().first_day(),
        };
        Span { start, ..self }
    }

    /// The period before.
    pub fn prev(self) -> Span {
        Span::of(self.cadence, self.start.pred_opt().unwrap_or(self.start))
    }

    /// The `n` periods ending with this one, oldest first.
    pub fn last(self, n: usize) -> Vec<Span> {
        let mut out = Vec::with_capacity(n);
        let mut p = self;
        for _ in 0..n {
            out.push(p);
            p = p.prev();
        }
        out.reverse();
        out
    }

    /// The months it covers (a week: the month it ends in).
    pub fn months(self) -> Vec<Period> {
        match self.cadence {
            Cadence::Week => vec![Period::of(self.last_day())],
            Cadence::Month => vec![Period::of(self.start)],
            Cadence::Quarter => {
                let first = Period::of(self.start);
                vec![first, first.next(), first.next().next()]
            }
        }
    }

    /// Its name in words: "Nov 2026", "Q4 2026", "Week 49, 2026 (from 30 Nov)".
    pub fn label(self) -> String {
        match self.cadence {
            Cadence::Week => {
                let w = self.start.iso_week();
                format!("Week {}, {} (from {})", w.week(), w.year(), self.start.format("%-d %b"))
            }
            Cadence::Month => self.start.format("%b %Y").to_string(),
            Cadence::Quarter => format!("Q{} {}", (self.start.month() - 1) / 3 + 1, self.start.year()),
        }
    }

    /// A short name for an axis, twelve fitting under a chart: "Nov 26", "Q4 26", "W49".
    pub fn short(self) -> String {
        match self.cadence {
            Cadence::Week => format!("W{}", self.start.iso_week().week()),
            Cadence::Month => self.start.format("%b %y").to_string(),
            Cadence::Quarter => format!("Q{} {}", (self.start.month() - 1) / 3 + 1, self.start.format("%y")),
        }
    }

    /// Parses `2026-W48`, `2026-11` or `2026-Q4`.
    pub fn parse(s: &str) -> Option<Span> {
        let s = s.trim();
        let (y, rest) = s.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        if !(1900..=9999).contains(&year) {
            return None;
        }
        if let Some(q) = rest.strip_prefix('Q') {
            let q: u32 = (q.len() == 1).then(|| q.parse().ok()).flatten()?;
            let start = NaiveDate::from_ymd_opt(year, (q.checked_sub(1)? * 3) + 1, 1).filter(|_| q <= 4)?;
            return Some(Span { start, cadence: Cadence::Quarter });
        }
        if let Some(w) = rest.strip_prefix('W') {
            let w: u32 = (w.len() == 2).then(|| w.parse().ok()).flatten()?;
            let start = NaiveDate::from_isoywd_opt(year, w, Weekday::Mon)?;
            return Some(Span { start, cadence: Cadence::Week });
        }
        Period::parse(s).map(Span::month)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cadence {
            Cadence::Week => {
                let w = self.start.iso_week();
                write!(f, "{:04}-W{:02}", w.year(), w.week())
            }
            Cadence::Month => write!(f, "{}", Period::of(self.start)),
            Cadence::Quarter => write!(f, "{:04}-Q{}", self.start.year(), (self.start.month() - 1) / 3 + 1),
        }
    }
}

impl TryFrom<String> for Span {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Span::parse(&s).ok_or_else(|| format!("`{s}` is not a period (YYYY-MM, YYYY-Qn or YYYY-Wnn)"))
    }
}

impl From<Span> for String {
    fn from(p: Span) -> String {
        p.to_string()
    }
}
