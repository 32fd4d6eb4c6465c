//! Risk matrices (ISO 14971, ISO 9001 6.1; see `domain/risk.md`): likelihood × severity, from
//! 3×3 to 5×5, each cell in exactly one zone. The score and zone rules live here, used alike by
//! the browser and the server.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation::{self, FORMAT, REQUIRED, TAKEN};

/// Error code: a matrix dimension is outside 3–5 levels.
pub const MATRIX_SIZE: &str = "matrix_size";
/// Error code: a cell has no zone.
pub const ZONE_MISSING: &str = "zone_missing";
/// Error code: a cell is in a less severe zone than a cell with lower likelihood and severity.
pub const ZONE_ORDER: &str = "zone_order";
/// Error code: the zones used are neither {acceptable, unacceptable} nor all three.
pub const ZONE_SET: &str = "zone_set";
/// Error code: a likelihood or severity outside the matrix.
pub const OUTSIDE_MATRIX: &str = "outside_matrix";

/// The sentence for a risk-matrix error code, or `None` for other codes.
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        MATRIX_SIZE => "A matrix has 3 to 5 levels on each axis.",
        ZONE_MISSING => "Every cell needs a zone.",
        ZONE_ORDER => "A cell cannot be in a milder zone than a cell of lower likelihood and severity.",
        ZONE_SET => "Use two zones (acceptable, unacceptable) or all three.",
        OUTSIDE_MATRIX => "This level is not on the matrix.",
        _ => return None,
    })
}

/// Smallest number of levels on an axis.
pub const MIN_LEVELS: usize = 3;
/// Largest number of levels on an axis.
pub const MAX_LEVELS: usize = 5;

/// A zone of the matrix, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// Acceptable without further reduction.
    Acceptable,
    /// Reduce as far as possible; acceptance needs a justification.
    ReduceAsFarAsPossible,
    /// Not acceptable; accepting it needs a signed benefit–risk rationale.
    Unacceptable,
}

impl Zone {
    /// What a person reads (also what a screen reader says for a cell).
    pub fn label(self) -> &'static str {
        match self {
            Zone::Acceptable => "acceptable",
            Zone::ReduceAsFarAsPossible => "reduce as far as possible",
            Zone::Unacceptable => "unacceptable",
        }
    }
}

/// One level of an axis: its value (1 = lowest), label and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Level {
    /// Short label, e.g. "Remote".
    pub label: String,
    /// What it means, e.g. "once in the product's life".
    #[serde(default)]
    pub description: String,
}

/// A zone's colour (`#rrggbb`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ZoneColour {
    /// The zone.
    pub zone: Zone,
    /// Its colour.
    pub colour: String,
}

/// A matrix as configured: the axes (lowest level first), the zone of every cell, the colours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MatrixDefinition {
    /// Its name, e.g. "Default 5×5".
    pub name: String,
    /// Likelihood levels, lowest first (3–5).
    pub likelihood: Vec<Level>,
    /// Severity levels, lowest first (3–5).
    pub severity: Vec<Level>,
    /// `zones[l - 1][s - 1]`: the zone of likelihood `l`, severity `s`; `None` is an unfilled
    /// cell (refused by [`MatrixDefinition::validate`]).
    pub zones: Vec<Vec<Option<Zone>>>,
    /// One colour per zone used.
    pub colours: Vec<ZoneColour>,
}

impl MatrixDefinition {
    /// The zone of a cell; `None` when the likelihood or severity is not on the matrix.
    pub fn zone(&self, likelihood: u8, severity: u8) -> Option<Zone> {
        let (l, s) = (usize::from(likelihood).checked_sub(1)?, usize::from(severity).checked_sub(1)?);
        if s >= self.severity.len() {
            return None;
        }
        *self.zones.get(l)?.get(s)?
    }

    /// The risk score, likelihood × severity; `None` outside the matrix.
    pub fn score(&self, likelihood: u8, severity: u8) -> Option<u16> {
        self.zone(likelihood, severity).map(|_| u16::from(likelihood) * u16::from(severity))
    }

    /// A cell as a screen reader says it, with `count` risks:
    /// "likelihood 4, severity 5: 3 risks, unacceptable".
    pub fn cell_label(&self, likelihood: u8, severity: u8, count: usize) -> Option<String> {
        let zone = self.zone(likelihood, severity)?;
        let risks = if count == 1 { "1 risk".to_string() } else { format!("{count} risks") };
        Some(format!("likelihood {likelihood}, severity {severity}: {risks}, {}", zone.label()))
    }

    /// Checks a likelihood and severity against this matrix (for a risk's scores).
    pub fn check_cell(&self, errors: &mut FieldErrors, likelihood_field: &str, severity_field: &str, l: i64, s: i64) {
        if !(1..=self.likelihood.len() as i64).contains(&l) {
            errors.add(likelihood_field, OUTSIDE_MATRIX);
        }
        if !(1..=self.severity.len() as i64).contains(&s) {
            errors.add(severity_field, OUTSIDE_MATRIX);
        }
    }

    /// The rules for saving a matrix: 3–5 levels per axis with distinct, non-blank labels; a
    /// zone for every cell; two zones (acceptable, unacceptable) or all three; zones never
    /// milder as likelihood or severity grows; a `#rrggbb` colour for each zone used.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "name", &self.name, true, 120);
        for (field, axis) in [("likelihood", &self.likelihood), ("severity", &self.severity)] {
            if !(MIN_LEVELS..=MAX_LEVELS).contains(&axis.len()) {
                e.add(field, MATRIX_SIZE);
            }
            for (i, level) in axis.iter().enumerate() {
                let at = format!("{field}[{i}].label");
                validation::text(&mut e, &at, &level.label, true, 60);
                validation::text(&mut e, &format!("{field}[{i}].description"), &level.description, false, 500);
                if axis[..i].iter().any(|other| other.label.trim().eq_ignore_ascii_case(level.label.trim())) {
                    e.add(at, TAKEN);
                }
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        let (rows, columns) = (self.likelihood.len(), self.severity.len());
        let mut used = Vec::new();
        for l in 0..rows {
            for s in 0..columns {
                match self.zones.get(l).and_then(|row| row.get(s)).copied().flatten() {
                    None => e.add(format!("zones[{l}][{s}]"), ZONE_MISSING),
                    Some(zone) => {
                        if !used.contains(&zone) {
                            used.push(zone);
                        }
                        // `get`, not indexing: a ragged `zones` (rows of different lengths) is
                        // reported below as a size error, never a panic.
                        let at = |l: usize, s: usize| self.zones.get(l).and_then(|row| row.get(s)).copied().flatten();
                        let below = l.checked_sub(1).and_then(|pl| at(pl, s));
                        let left = s.checked_sub(1).and_then(|ps| at(l, ps));
                        if below.is_some_and(|b| b > zone) || left.is_some_and(|b| b > zone) {
                            e.add(format!("zones[{l}][{s}]"), ZONE_ORDER);
                        }
                    }
                }
            }
        }
        if self.zones.len() != rows || self.zones.iter().any(|row| row.len() != columns) {
            e.add("zones", MATRIX_SIZE);
        }
        if e.is_empty() {
            used.sort();
            let two = [Zone::Acceptable, Zone::Unacceptable];
            let three = [Zone::Acceptable, Zone::ReduceAsFarAsPossible, Zone::Unacceptable];
            if used[..] != two[..] && used[..] != three[..] {
                e.add("zones", ZONE_SET);
            }
            for zone in used {
                match self.colours.iter().find(|c| c.zone == zone) {
                    None => e.add(format!("colours.{}", zone_key(zone)), REQUIRED),
                    Some(c) if !is_hex_colour(&c.colour) => e.add(format!("colours.{}", zone_key(zone)), FORMAT),
                    Some(_) => {}
                }
            }
        }
        e.into_result()
    }
}

fn zone_key(zone: Zone) -> &'static str {
    match zone {
        Zone::Acceptable => "acceptable",
        Zone::ReduceAsFarAsPossible => "reduce_as_far_as_possible",
        Zone::Unacceptable => "unacceptable",
    }
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn levels(items: &[(&str, &str)]) -> Vec<Level> {
    items
        .iter()
        .map(|(label, description)| Level { label: (*label).into(), description: (*description).into() })
        .collect()
}

fn colours(zones: &[Zone]) -> Vec<ZoneColour> {
    zones
        .iter()
        .map(|z| ZoneColour {
            zone: *z,
            colour: match z {
                Zone::Acceptable => "#2e7d32",
                Zone::ReduceAsFarAsPossible => "#f9a825",
                Zone::Unacceptable => "#c62828",
            }
            .into(),
        })
        .collect()
}

/// The default 5×5 matrix with three zones: score (likelihood × severity) up to 4 acceptable,
/// 5–12 reduce as far as possible, 15 and above unacceptable.
pub fn default_5x5() -> MatrixDefinition {
    let zone = |l: usize, s: usize| match l * s {
        0..=4 => Zone::Acceptable,
        5..=12 => Zone::ReduceAsFarAsPossible,
        _ => Zone::Unacceptable,
    };
    MatrixDefinition {
        name: "Default 5×5".into(),
        likelihood: levels(&[
            ("Rare", "Not expected in the life of the process"),
            ("Unlikely", "Could happen once in several years"),
            ("Possible", "Could happen about once a year"),
            ("Likely", "Expected several times a year"),
            ("Almost certain", "Expected monthly or more often"),
        ]),
        severity: levels(&[
            ("Negligible", "No effect on product, customer or compliance"),
            ("Minor", "Rework inside the plant; no customer effect"),
            ("Moderate", "Customer inconvenience or a minor nonconformity"),
            ("Major", "Customer complaint, recall of a lot, or a major nonconformity"),
            ("Critical", "Harm to people, regulatory action, or loss of certification"),
        ]),
        zones: (1..=5).map(|l| (1..=5).map(|s| Some(zone(l, s))).collect()).collect(),
        colours: colours(&[Zone::Acceptable, Zone::ReduceAsFarAsPossible, Zone::Unacceptable]),
    }
}

/// A medical-device matrix (ISO 14971 style): 5 probability levels × 4 severity levels, two
/// zones.
pub fn medical_5x4() -> MatrixDefinition {
    // Unacceptable cells, by (probability, severity): the top-right corner.
    let unacceptable = |p: usize, s: usize| (p >= 4 && s >= 2) || (p == 3 && s >= 3) || (p == 2 && s == 4);
    MatrixDefinition {
        name: "Medical device 5×4".into(),
        likelihood: levels(&[
            ("Improbable", "< 10⁻⁶ per use"),
            ("Remote", "10⁻⁶ to 10⁻⁴ per use"),
            ("Occasional", "10⁻⁴ to 10⁻³ per use"),
            ("Probable", "10⁻³ to 10⁻² per use"),
            ("Frequent", "≥ 10⁻² per use"),
        ]),
        severity: levels(&[
            ("Negligible", "Inconvenience or temporary discomfort"),
            ("Minor", "Temporary injury not requiring intervention"),
            ("Serious", "Injury requiring medical intervention"),
            ("Critical", "Permanent impairment or death"),
        ]),
        zones: (1..=5)
            .map(|p| {
                (1..=4).map(|s| Some(if unacceptable(p, s) { Zone::Unacceptable } else { Zone::Acceptable })).collect()
            })
            .collect(),
        colours: colours(&[Zone::Acceptable, Zone::Unacceptable]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Zone::{Acceptable as A, ReduceAsFarAsPossible as R, Unacceptable as U};

    #[test]
    fn every_cell_of_the_default_matrix() {
        let m = default_5x5();
        assert_eq!(m.validate(), Ok(()));
        // Rows: likelihood 5 (top) down to 1; columns: severity 1..5.
        let expected = [
            [R, R, U, U, U], // likelihood 5
            [A, R, R, U, U], // 4
            [A, R, R, R, U], // 3
            [A, A, R, R, R], // 2
            [A, A, A, A, R], // 1
        ];
        for (row, l) in expected.iter().zip((1..=5u8).rev()) {
            for (s, zone) in (1..=5u8).zip(row) {
                assert_eq!(m.zone(l, s), Some(*zone), "likelihood {l}, severity {s}");
                assert_eq!(m.score(l, s), Some(u16::from(l) * u16::from(s)));
            }
        }
    }

    #[test]
    fn every_cell_of_the_medical_matrix() {
        let m = medical_5x4();
        assert_eq!(m.validate(), Ok(()));
        let expected = [
            [A, U, U, U], // frequent
            [A, U, U, U], // probable
            [A, A, U, U], // occasional
            [A, A, A, U], // remote
            [A, A, A, A], // improbable
        ];
        for (row, p) in expected.iter().zip((1..=5u8).rev()) {
            for (s, zone) in (1..=4u8).zip(row) {
                assert_eq!(m.zone(p, s), Some(*zone), "probability {p}, severity {s}");
                assert_eq!(m.score(p, s), Some(u16::from(p) * u16::from(s)), "probability {p}, severity {s}");
            }
        }
        assert_eq!(m.zone(3, 5), None, "there is no severity 5 on a 5×4 matrix");
        assert_eq!(m.zone(0, 1), None);
        assert_eq!(m.zone(6, 1), None);
    }

    #[test]
    fn cells_are_labelled_for_screen_readers() {
        let m = default_5x5();
        assert_eq!(m.cell_label(4, 5, 3).as_deref(), Some("likelihood 4, severity 5: 3 risks, unacceptable"));
        assert_eq!(m.cell_label(1, 1, 1).as_deref(), Some("likelihood 1, severity 1: 1 risk, acceptable"));
    }

    #[test]
    fn bad_matrices_are_refused_naming_the_problem() {
        let mut m = default_5x5();
        m.severity.truncate(2);
        assert_eq!(m.validate().unwrap_err().get("severity"), Some(&[MATRIX_SIZE.to_string()][..]));

        let mut m = default_5x5();
        m.likelihood.push(Level { label: "Constant".into(), description: String::new() });
        assert_eq!(m.validate().unwrap_err().get("likelihood"), Some(&[MATRIX_SIZE.to_string()][..]));

        let mut m = default_5x5();
        m.zones[2][3] = None;
        assert_eq!(m.validate().unwrap_err().get("zones[2][3]"), Some(&[ZONE_MISSING.to_string()][..]));

        let mut m = default_5x5();
        m.zones[4][4] = Some(A);
        assert!(m.validate().unwrap_err().get("zones[4][4]").is_some_and(|c| c.contains(&ZONE_ORDER.to_string())));

        let mut m = medical_5x4();
        m.colours.retain(|c| c.zone != U);
        assert_eq!(m.validate().unwrap_err().get("colours.unacceptable"), Some(&[REQUIRED.to_string()][..]));

        let mut m = medical_5x4();
        m.likelihood[1].label = "improbable".into();
        assert_eq!(m.validate().unwrap_err().get("likelihood[1].label"), Some(&[TAKEN.to_string()][..]));

        // Only "reduce as far as possible" and "unacceptable": not a valid zone set.
        let mut m = default_5x5();
        for row in &mut m.zones {
            for cell in row.iter_mut() {
                if *cell == Some(A) {
                    *cell = Some(R);
                }
            }
        }
        assert_eq!(m.validate().unwrap_err().get("zones"), Some(&[ZONE_SET.to_string()][..]));
    }

    #[test]
    fn ragged_zones_and_bad_colours_are_field_errors_not_panics() {
        // A shorter row under a full one: the order check must not index past its end.
        let mut m = default_5x5();
        m.zones[0].truncate(2);
        let e = m.validate().unwrap_err();
        assert_eq!(e.get("zones[0][2]"), Some(&[ZONE_MISSING.to_string()][..]));
        assert!(e.get("zones").is_some_and(|c| c.contains(&MATRIX_SIZE.to_string())));

        let mut m = default_5x5();
        m.zones.truncate(3);
        assert!(m.validate().unwrap_err().get("zones[4][0]").is_some());

        let mut m = default_5x5();
        m.zones[2].push(Some(U));
        assert_eq!(m.validate().unwrap_err().get("zones"), Some(&[MATRIX_SIZE.to_string()][..]));

        let mut m = medical_5x4();
        m.colours[0].colour = "red".into();
        let zone = zone_key(m.colours[0].zone);
        assert_eq!(m.validate().unwrap_err().get(&format!("colours.{zone}")), Some(&[FORMAT.to_string()][..]));
    }

    #[test]
    fn the_smallest_matrix_is_three_by_three() {
        let three = |n: usize| Level { label: format!("Level {n}"), description: String::new() };
        let m = MatrixDefinition {
            likelihood: (1..=3).map(three).collect(),
            severity: (1..=3).map(three).collect(),
            zones: vec![vec![Some(A), Some(A), Some(U)], vec![Some(A), Some(U), Some(U)], vec![Some(U); 3]],
            ..default_5x5()
        };
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(m.zone(3, 3), Some(U));
        assert_eq!(m.zone(1, 1), Some(A));
        let mut small = m.clone();
        small.likelihood.pop();
        small.zones.pop();
        assert_eq!(small.validate().unwrap_err().get("likelihood"), Some(&[MATRIX_SIZE.to_string()][..]));
    }

    #[test]
    fn a_risk_s_cell_must_be_on_its_matrix() {
        let m = medical_5x4();
        let mut e = FieldErrors::new();
        m.check_cell(&mut e, "residual_likelihood", "residual_severity", 5, 5);
        assert_eq!(e.get("residual_severity"), Some(&[OUTSIDE_MATRIX.to_string()][..]));
        assert_eq!(e.get("residual_likelihood"), None);
    }
}
