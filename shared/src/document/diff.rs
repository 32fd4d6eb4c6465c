//! The line-by-line difference between two revisions: Myers' shortest edit script.

use serde::{Deserialize, Serialize};

/// The difference between two revisions of a document, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RevisionDiff {
    /// The older side's label.
    pub from_label: String,
    /// The newer side's label.
    pub to_label: String,
    /// Every line, in order: kept, removed from the older, added in the newer.
    pub lines: Vec<DiffLine>,
}

/// One line of a diff between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum DiffLine {
    /// In both.
    Same(String),
    /// Only in the older revision.
    Removed(String),
    /// Only in the newer revision.
    Added(String),
}

/// The line-by-line difference from `old` to `new`: a shortest edit script, by Myers' O(ND)
/// algorithm in linear space (the middle snake, divide and conquer) over lines interned as
/// numbers. Lines end at `\n` (a `\r` before it is not part of the line).
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let (a, b) = (split_lines(old), split_lines(new));
    let mut ids = std::collections::HashMap::new();
    let mut intern = |l: &str| {
        let next = ids.len() as u32;
        *ids.entry(l.to_string()).or_insert(next)
    };
    let ai: Vec<u32> = a.iter().map(|l| intern(l)).collect();
    let bi: Vec<u32> = b.iter().map(|l| intern(l)).collect();
    let mut script = Vec::with_capacity(a.len().max(b.len()));
    edit_script(&ai, &bi, 0, 0, &mut script);
    // Within each run of changed lines, the removed ones first, as a reader expects a
    // replacement (still a shortest script: only the order inside a run changes).
    let mut lines = Vec::with_capacity(script.len());
    let mut added = Vec::new();
    for op in script {
        match op {
            Op::Removed(i) => lines.push(DiffLine::Removed(a[i].to_string())),
            Op::Added(j) => added.push(DiffLine::Added(b[j].to_string())),
            Op::Same(i) => {
                lines.append(&mut added);
                lines.push(DiffLine::Same(a[i].to_string()));
            }
        }
    }
    lines.append(&mut added);
    lines
}

fn split_lines(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    s.strip_suffix('\n').unwrap_or(s).split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect()
}

/// One step of an edit script, by line index in the old (`Same`, `Removed`) or new text.
enum Op {
    Same(usize),
    Removed(usize),
    Added(usize),
}

/// Appends the edit script of `a` → `b`, whose first lines are old line `a0` and new line `b0`.
fn edit_script(a: &[u32], b: &[u32], a0: usize, b0: usize, out: &mut Vec<Op>) {
    // The common prefix and suffix first: cheap, and most revisions change little.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    out.extend((0..prefix).map(|i| Op::Same(a0 + i)));
    let (a, b, a0, b0) = (&a[prefix..], &b[prefix..], a0 + prefix, b0 + prefix);
    let suffix = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    let (am, bm) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    let (n, m) = (am.len(), bm.len());
    if n == 0 || m == 0 {
        out.extend((0..n).map(|i| Op::Removed(a0 + i)));
        out.extend((0..m).map(|j| Op::Added(b0 + j)));
    } else {
        let (x, y, u, v) = middle_snake(am, bm);
        if (x, y, u, v) == (0, 0, 0, 0) || (x, y) == (n, m) {
            // No split (cannot happen for a shortest path; kept so that recursion always ends).
            out.extend((0..n).map(|i| Op::Removed(a0 + i)));
            out.extend((0..m).map(|j| Op::Added(b0 + j)));
        } else {
            edit_script(&am[..x], &bm[..y], a0, b0, out);
            out.extend((x..u).map(|i| Op::Same(a0 + i)));
            edit_script(&am[u..], &bm[v..], a0 + u, b0 + v, out);
        }
    }
    out.extend((0..suffix).map(|i| Op::Same(a0 + n + i)));
}

/// Myers' middle snake of two non-empty sequences: `(x, y, u, v)`, the diagonal run from
/// `(x, y)` to `(u, v)` in the middle of a shortest edit path.
fn middle_snake(a: &[u32], b: &[u32]) -> (usize, usize, usize, usize) {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let delta = n - m;
    let odd = delta % 2 != 0;
    let max = (n + m + 1) / 2 + 1;
    let offset = max + 1;
    let size = (2 * offset + 1) as usize;
    // The furthest x reached on each diagonal k = x - y, forwards and (in reversed
    // coordinates) backwards.
    let (mut vf, mut vb) = (vec![0_isize; size], vec![0_isize; size]);
    for d in 0..max {
        let mut k = -d;
        while k <= d {
            let i = (k + offset) as usize;
            let mut x = if k == -d || (k != d && vf[i - 1] < vf[i + 1]) { vf[i + 1] } else { vf[i - 1] + 1 };
            let mut y = x - k;
            let (x0, y0) = (x, y);
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            vf[i] = x;
            let kb = delta - k;
            if odd && (-(d - 1)..=d - 1).contains(&kb) && x + vb[(kb + offset) as usize] >= n {
                return (x0 as usize, y0 as usize, x as usize, y as usize);
            }
            k += 2;
        }
        let mut k = -d;
        while k <= d {
            let i = (k + offset) as usize;
            let mut x = if k == -d || (k != d && vb[i - 1] < vb[i + 1]) { vb[i + 1] } else { vb[i - 1] + 1 };
            let mut y = x - k;
            let (x0, y0) = (x, y);
            while x < n && y < m && a[(n - x - 1) as usize] == b[(m - y - 1) as usize] {
                x += 1;
                y += 1;
            }
            vb[i] = x;
            let kf = delta - k;
            if !odd && (-d..=d).contains(&kf) && x + vf[(kf + offset) as usize] >= n {
                return ((n - x) as usize, (m - y) as usize, (n - x0) as usize, (m - y0) as usize);
            }
            k += 2;
        }
    }
    (0, 0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuilds both texts from a diff.
    fn sides(d: &[DiffLine]) -> (Vec<&str>, Vec<&str>) {
        let old = d.iter().filter_map(|l| match l {
            DiffLine::Same(t) | DiffLine::Removed(t) => Some(t.as_str()),
            DiffLine::Added(_) => None,
        });
        let new = d.iter().filter_map(|l| match l {
            DiffLine::Same(t) | DiffLine::Added(t) => Some(t.as_str()),
            DiffLine::Removed(_) => None,
        });
        (old.collect(), new.collect())
    }

    fn edits(d: &[DiffLine]) -> usize {
        d.iter().filter(|l| !matches!(l, DiffLine::Same(_))).count()
    }

    #[test]
    fn the_diff_is_a_shortest_edit_script_that_rebuilds_both_revisions() {
        let d = diff_lines(
            "a
b
c
d
", "a
c
d
e
",
        );
        assert_eq!(
            d,
            vec![
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Same("c".into()),
                DiffLine::Same("d".into()),
                DiffLine::Added("e".into()),
            ]
        );
        assert_eq!(diff_lines("", ""), vec![]);
        assert_eq!(diff_lines("", "x"), vec![DiffLine::Added("x".into())]);
        assert_eq!(
            diff_lines(
                "x
", "x
"
            ),
            vec![DiffLine::Same("x".into())],
            "line endings are not content"
        );
        // Myers' own example: ABCABBA → CBABAC takes 5 edits.
        let (a, b) = (
            "A
B
C
A
B
B
A",
            "C
B
A
B
A
C",
        );
        assert_eq!(edits(&diff_lines(a, b)), 5);
        // Generated pairs: the diff rebuilds both sides, and is never longer than the
        // edits a dynamic-programming LCS says are needed.
        let mut seed = 7_u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..300 {
            let old: Vec<String> = (0..next() % 12).map(|_| ["p", "q", "r", "s"][next() % 4].to_string()).collect();
            let new: Vec<String> = (0..next() % 12).map(|_| ["p", "q", "r", "s"][next() % 4].to_string()).collect();
            let d = diff_lines(&old.join("\n"), &new.join("\n"));
            let (o, n) = sides(&d);
            assert_eq!((o, n), (old.iter().map(String::as_str).collect(), new.iter().map(String::as_str).collect()));
            let mut lcs = vec![vec![0_usize; new.len() + 1]; old.len() + 1];
            for i in (0..old.len()).rev() {
                for j in (0..new.len()).rev() {
                    lcs[i][j] = if old[i] == new[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
                }
            }
            assert_eq!(edits(&d), old.len() + new.len() - 2 * lcs[0][0], "{old:?} → {new:?}");
            // In every run of changes, removals come before additions.
            for pair in d.windows(2) {
                assert!(!matches!(pair, [DiffLine::Added(_), DiffLine::Removed(_)]), "{d:?}");
            }
        }
    }
}
