//! Writing CSV that spreadsheets read safely: RFC 4180 quoting, and cells that a spreadsheet
//! would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) prefixed
//! with `'` so they stay text (CSV/formula injection).

/// One cell, quoted when needed and neutralised when it looks like a formula.
pub fn cell(value: &str) -> String {
    let neutral =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    if neutral.contains([',', '"', '\n', '\r']) { format!("\"{}\"", neutral.replace('"', "\"\"")) } else { neutral }
}

/// One line: the cells joined by commas, ended by CRLF (RFC 4180, and what Excel writes).
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = cells.into_iter().map(|c| cell(c.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cells_stay_plain() {
        assert_eq!(cell("Tom Okafor"), "Tom Okafor");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn separators_quotes_and_newlines_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("=1,2"), "\"'=1,2\"");
    }

    #[test]
    fn rows_end_with_crlf() {
        assert_eq!(row(["a", "b,c"]), "a,\"b,c\"\r\n");
    }
}
