//! FMEA ratings and Action Priority, exactly as the AIAG & VDA FMEA Handbook (1st edition,
//! 2019) tabulates them; the same table serves DFMEA and PFMEA (see `domain/fmea.md`).
//!
//! [`action_priority`] is the plain entry point; [`assess`] also says which severity,
//! occurrence and detection bands decided the cell, so a person can see why a row is H, M or L.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// Error code: a rating is not a whole number from 1 to 10.
pub const RATING_OUT_OF_RANGE: &str = "rating_out_of_range";

/// The sentence for an FMEA error code, or `None` for other codes.
pub fn describe(code: &str) -> Option<&'static str> {
    match code {
        RATING_OUT_OF_RANGE => Some("Use a whole number from 1 to 10."),
        _ => None,
    }
}

/// Action Priority: how urgently the team must act on a failure chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum ActionPriority {
    /// The team must identify an action to improve prevention or detection, or justify why the
    /// current controls are adequate.
    High,
    /// The team should identify an action or justify the current controls.
    Medium,
    /// The team could identify an action.
    Low,
}

impl ActionPriority {
    /// `H`, `M` or `L`, as printed in the worksheet.
    pub fn letter(self) -> char {
        match self {
            ActionPriority::High => 'H',
            ActionPriority::Medium => 'M',
            ActionPriority::Low => 'L',
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ActionPriority::High => "High",
            ActionPriority::Medium => "Medium",
            ActionPriority::Low => "Low",
        }
    }
}

/// The severity bands of the AP table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum SeverityBand {
    /// S 9–10.
    S9To10,
    /// S 7–8.
    S7To8,
    /// S 4–6.
    S4To6,
    /// S 2–3.
    S2To3,
    /// S 1.
    S1,
}

/// The occurrence bands of the AP table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum OccurrenceBand {
    /// O 8–10.
    O8To10,
    /// O 6–7.
    O6To7,
    /// O 4–5.
    O4To5,
    /// O 2–3.
    O2To3,
    /// O 1.
    O1,
}

/// The detection bands of the AP table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum DetectionBand {
    /// D 7–10.
    D7To10,
    /// D 5–6.
    D5To6,
    /// D 2–4.
    D2To4,
    /// D 1.
    D1,
}

impl SeverityBand {
    /// The band of a severity of 1–10.
    pub fn of(s: u8) -> Option<Self> {
        Some(match s {
            9..=10 => Self::S9To10,
            7..=8 => Self::S7To8,
            4..=6 => Self::S4To6,
            2..=3 => Self::S2To3,
            1 => Self::S1,
            _ => return None,
        })
    }

    /// As printed: `S 9–10`.
    pub fn label(self) -> &'static str {
        match self {
            Self::S9To10 => "S 9–10",
            Self::S7To8 => "S 7–8",
            Self::S4To6 => "S 4–6",
            Self::S2To3 => "S 2–3",
            Self::S1 => "S 1",
        }
    }
}

impl OccurrenceBand {
    /// The band of an occurrence of 1–10.
    pub fn of(o: u8) -> Option<Self> {
        Some(match o {
            8..=10 => Self::O8To10,
            6..=7 => Self::O6To7,
            4..=5 => Self::O4To5,
            2..=3 => Self::O2To3,
            1 => Self::O1,
            _ => return None,
        })
    }

    /// As printed: `O 8–10`.
    pub fn label(self) -> &'static str {
        match self {
            Self::O8To10 => "O 8–10",
            Self::O6To7 => "O 6–7",
            Self::O4To5 => "O 4–5",
            Self::O2To3 => "O 2–3",
            Self::O1 => "O 1",
        }
    }
}

impl DetectionBand {
    /// The band of a detection of 1–10.
    pub fn of(d: u8) -> Option<Self> {
        Some(match d {
            7..=10 => Self::D7To10,
            5..=6 => Self::D5To6,
            2..=4 => Self::D2To4,
            1 => Self::D1,
            _ => return None,
        })
    }

    /// As printed: `D 7–10`.
    pub fn label(self) -> &'static str {
        match self {
            Self::D7To10 => "D 7–10",
            Self::D5To6 => "D 5–6",
            Self::D2To4 => "D 2–4",
            Self::D1 => "D 1",
        }
    }
}

/// An Action Priority with the table cell that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// The priority.
    pub priority: ActionPriority,
    /// The severity band of the cell.
    pub severity: SeverityBand,
    /// The occurrence band of the cell.
    pub occurrence: OccurrenceBand,
    /// The detection band of the cell.
    pub detection: DetectionBand,
}

impl Assessment {
    /// Why, in words: `S 9–10, O 4–5, D 1 → Medium`.
    pub fn reason(&self) -> String {
        format!(
            "{}, {}, {} → {}",
            self.severity.label(),
            self.occurrence.label(),
            self.detection.label(),
            self.priority.label()
        )
    }
}

/// The AP table cell for bands, row by row as printed in the handbook.
fn cell(s: SeverityBand, o: OccurrenceBand, d: DetectionBand) -> ActionPriority {
    use ActionPriority::{High as H, Low as L, Medium as M};
    use DetectionBand::*;
    use OccurrenceBand::*;
    use SeverityBand::*;
    // Columns: D 7–10, D 5–6, D 2–4, D 1.
    let row: [ActionPriority; 4] = match (s, o) {
        (S9To10, O8To10) => [H, H, H, H],
        (S9To10, O6To7) => [H, H, H, H],
        (S9To10, O4To5) => [H, H, H, M],
        (S9To10, O2To3) => [H, M, L, L],
        (S9To10, O1) => [L, L, L, L],
        (S7To8, O8To10) => [H, H, H, H],
        (S7To8, O6To7) => [H, H, H, M],
        (S7To8, O4To5) => [H, M, M, M],
        (S7To8, O2To3) => [M, M, L, L],
        (S7To8, O1) => [L, L, L, L],
        (S4To6, O8To10) => [H, H, M, M],
        (S4To6, O6To7) => [M, M, M, L],
        (S4To6, O4To5) => [M, L, L, L],
        (S4To6, O2To3 | O1) => [L, L, L, L],
        (S2To3, O8To10) => [M, M, L, L],
        (S2To3, _) => [L, L, L, L],
        (S1, _) => [L, L, L, L],
    };
    row[match d {
        D7To10 => 0,
        D5To6 => 1,
        D2To4 => 2,
        D1 => 3,
    }]
}

/// The Action Priority of a failure chain with severity, occurrence and detection ratings of
/// 1–10 (AIAG & VDA, DFMEA and PFMEA alike); `None` when any rating is outside 1–10.
pub fn action_priority(severity: u8, occurrence: u8, detection: u8) -> Option<ActionPriority> {
    assess(severity, occurrence, detection).map(|a| a.priority)
}

/// The Action Priority with the bands that decided it; `None` when any rating is outside 1–10.
pub fn assess(severity: u8, occurrence: u8, detection: u8) -> Option<Assessment> {
    let (s, o, d) = (SeverityBand::of(severity)?, OccurrenceBand::of(occurrence)?, DetectionBand::of(detection)?);
    Some(Assessment { priority: cell(s, o, d), severity: s, occurrence: o, detection: d })
}

/// The risk priority number S × O × D (1–1000), an optional secondary figure: the handbook does
/// not recommend an RPN threshold for deciding on action. `None` when a rating is outside 1–10.
pub fn rpn(severity: u8, occurrence: u8, detection: u8) -> Option<u16> {
    let valid = |r: u8| (1..=10).contains(&r);
    (valid(severity) && valid(occurrence) && valid(detection))
        .then(|| u16::from(severity) * u16::from(occurrence) * u16::from(detection))
}

/// Whether management should review the failure chain: severity 9–10 with AP High or Medium.
pub fn needs_management_review(severity: u8, priority: ActionPriority) -> bool {
    (9..=10).contains(&severity) && priority != ActionPriority::Low
}

/// Checks a rating field (S, O or D, initial or revised): a whole number from 1 to 10.
pub fn check_rating(errors: &mut FieldErrors, field: &str, value: i64) {
    if !(1..=10).contains(&value) {
        errors.add(field, RATING_OUT_OF_RANGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of `domain/fmea.md` as printed, parsed independently of [`cell`]: every one
    /// of the 1,000 (S, O, D) combinations is checked against it.
    const TABLE: &str = "\
| 9–10 | 8–10 | H | H | H | H |
| 9–10 | 6–7 | H | H | H | H |
| 9–10 | 4–5 | H | H | H | M |
| 9–10 | 2–3 | H | M | L | L |
| 9–10 | 1 | L | L | L | L |
| 7–8 | 8–10 | H | H | H | H |
| 7–8 | 6–7 | H | H | H | M |
| 7–8 | 4–5 | H | M | M | M |
| 7–8 | 2–3 | M | M | L | L |
| 7–8 | 1 | L | L | L | L |
| 4–6 | 8–10 | H | H | M | M |
| 4–6 | 6–7 | M | M | M | L |
| 4–6 | 4–5 | M | L | L | L |
| 4–6 | 2–3 | L | L | L | L |
| 4–6 | 1 | L | L | L | L |
| 2–3 | 8–10 | M | M | L | L |
| 2–3 | 1–7 | L | L | L | L |
| 1 | any | L | L | L | L |";

    fn range(text: &str) -> std::ops::RangeInclusive<u8> {
        if text == "any" {
            return 1..=10;
        }
        match text.split_once('–') {
            Some((a, b)) => a.parse().unwrap()..=b.parse().unwrap(),
            None => {
                let v = text.parse().unwrap();
                v..=v
            }
        }
    }

    fn expected(s: u8, o: u8, d: u8) -> char {
        let d_columns = [7..=10, 5..=6, 2..=4, 1..=1];
        let column = d_columns.iter().position(|r| r.contains(&d)).unwrap();
        let rows: Vec<Vec<&str>> =
            TABLE.lines().map(|l| l.trim().trim_matches('|').split('|').map(str::trim).collect()).collect();
        let row = rows.iter().filter(|r| range(r[0]).contains(&s) && range(r[1]).contains(&o)).collect::<Vec<_>>();
        assert_eq!(row.len(), 1, "exactly one table row covers S {s}, O {o}");
        row[0][2 + column].chars().next().unwrap()
    }

    #[test]
    fn all_1000_cells_match_the_handbook_table() {
        let mut counts = std::collections::BTreeMap::new();
        for s in 1..=10 {
            for o in 1..=10 {
                for d in 1..=10 {
                    let ap = action_priority(s, o, d).unwrap();
                    assert_eq!(ap.letter(), expected(s, o, d), "S {s}, O {o}, D {d}");
                    *counts.entry(ap.letter()).or_insert(0) += 1;
                }
            }
        }
        assert_eq!(counts.values().sum::<i32>(), 1000);
    }

    #[test]
    fn the_cells_public_tools_get_wrong() {
        // "S ≥ 9 is always H" is false.
        assert_eq!(action_priority(9, 1, 10), Some(ActionPriority::Low));
        assert_eq!(action_priority(10, 4, 1), Some(ActionPriority::Medium));
        assert_eq!(action_priority(10, 2, 4), Some(ActionPriority::Low));
        assert_eq!(action_priority(1, 10, 10), Some(ActionPriority::Low));
        assert_eq!(action_priority(2, 8, 7), Some(ActionPriority::Medium));
    }

    #[test]
    fn ratings_outside_1_to_10_have_no_priority() {
        for (s, o, d) in [(0, 5, 5), (11, 5, 5), (5, 0, 5), (5, 11, 5), (5, 5, 0), (5, 5, 11), (255, 1, 1)] {
            assert_eq!(action_priority(s, o, d), None, "{s} {o} {d}");
            assert_eq!(rpn(s, o, d), None);
        }
        let mut e = FieldErrors::new();
        check_rating(&mut e, "severity", 11);
        check_rating(&mut e, "occurrence", 0);
        check_rating(&mut e, "detection", 10);
        assert_eq!(e.get("severity"), Some(&[RATING_OUT_OF_RANGE.to_string()][..]));
        assert_eq!(e.get("occurrence"), Some(&[RATING_OUT_OF_RANGE.to_string()][..]));
        assert_eq!(e.get("detection"), None);
    }

    #[test]
    fn the_reason_names_the_bands() {
        assert_eq!(assess(10, 4, 1).unwrap().reason(), "S 9–10, O 4–5, D 1 → Medium");
        assert_eq!(assess(5, 7, 3).unwrap().reason(), "S 4–6, O 6–7, D 2–4 → Medium");
    }

    #[test]
    fn rpn_and_management_review() {
        assert_eq!((rpn(1, 1, 1), rpn(10, 10, 10), rpn(7, 4, 3)), (Some(1), Some(1000), Some(84)));
        let distinct: std::collections::BTreeSet<u16> =
            (1..=10).flat_map(|s| (1..=10).flat_map(move |o| (1..=10).map(move |d| rpn(s, o, d).unwrap()))).collect();
        assert_eq!(distinct.len(), 120);
        assert!(needs_management_review(9, ActionPriority::Medium));
        assert!(!needs_management_review(9, ActionPriority::Low));
        assert!(!needs_management_review(8, ActionPriority::High));
    }
}
