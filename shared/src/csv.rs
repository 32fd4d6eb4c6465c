//! CSV that spreadsheets read safely, and reading it back.
//!
//! Writing: RFC 4180 quoting, and cells that a spreadsheet would run as a formula (starting
//! with `=`, `+`, `-`, `@`, tab or carriage return) prefixed with `'` so they stay text
//! (CSV/formula injection). Reading: Excel's dialect (UTF-8 with or without a BOM, CRLF or LF,
//! quoted cells holding commas, quotes and line breaks), with the line each record starts on,
//! and the `'` of a neutralised formula taken off again, so that a file written by [`row`] reads
//! back to the same values.

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A UTF-8 byte-order mark: what Excel writes at the start of "CSV UTF-8", and what makes it
/// read the file as UTF-8 rather than the local code page. [`read`] skips it.
pub const BOM: char = '\u{feff}';

/// Apostrophes, then a formula character: a formula, or a value that would read back as one
/// once [`restore`] took an apostrophe off.
fn formula_like(value: &str) -> bool {
    value.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// One cell, quoted when needed and neutralised when it looks like a formula: one `'` more in
/// front of any run of apostrophes and a formula character, which [`restore`] takes off again,
/// so a value typed as `'=1` comes back as `'=1`.
pub fn cell(value: &str) -> String {
    let neutral = if formula_like(value) { format!("'{value}") } else { value.to_string() };
    if neutral.contains([',', '"', '\n', '\r']) { format!("\"{}\"", neutral.replace('"', "\"\"")) } else { neutral }
}

/// The first line of an exported file: the byte-order mark, then the header [`row`].
pub fn header<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = String::from(BOM);
    line.push_str(&row(cells));
    line
}

/// One line: the cells joined by commas, ended by CRLF (RFC 4180, and what Excel writes).
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = cells.into_iter().map(|c| cell(c.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// A record read from a CSV file: the line it starts on (1-based) and its cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line the record starts on (a quoted cell may run over several lines).
    pub line: usize,
    /// The cells, with neutralised formulas restored (see [`restore`]).
    pub cells: Vec<String>,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The line of the problem (1-based).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A cell's value as written by [`cell`]: the `'` put before a formula is removed.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// The most cells one record may have: no worksheet, register or measurement file comes close,
/// and a line of commas is not data.
pub const MAX_CELLS_PER_RECORD: usize = 500;
/// The most cells one file may have (a 20,000-row worksheet of every column is about 600,000):
/// a bound on the memory a read takes, whatever the file holds (20 MB of commas would
/// otherwise be 21 million cells).
pub const MAX_CELLS_PER_FILE: usize = 2_000_000;

/// Reads CSV text (a leading UTF-8 BOM is skipped). Blank lines are skipped. A quote inside an
/// unquoted cell, text after a closing quote, a quote left open, a record of more than
/// [`MAX_CELLS_PER_RECORD`] cells or a file of more than [`MAX_CELLS_PER_FILE`] is an error
/// naming its line.
pub fn read(text: &str) -> Result<Vec<Record>, ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut total = 0usize;
    loop {
        if chars.peek().is_none() {
            break;
        }
        let start = line;
        let mut cells = Vec::new();
        let mut current = String::new();
        let mut quoted_cell = false;
        loop {
            match chars.next() {
                None => {
                    cells.push(current);
                    break;
                }
                Some('"') if current.is_empty() && !quoted_cell => {
                    quoted_cell = true;
                    let opened = line;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(ReadError { line: opened, reason: "a quoted cell is never closed".into() });
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                current.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                current.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',' | '\r' | '\n') => {}
                        Some(_) => {
                            return Err(ReadError { line, reason: "text after the closing quote of a cell".into() });
                        }
                    }
                }
                Some('"') => return Err(ReadError { line, reason: "a quote inside an unquoted cell".into() }),
                Some(',') => {
                    cells.push(std::mem::take(&mut current));
                    quoted_cell = false;
                    if cells.len() >= MAX_CELLS_PER_RECORD {
                        return Err(ReadError {
                            line: start,
                            reason: format!("more than {MAX_CELLS_PER_RECORD} cells in one record"),
                        });
                    }
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') | Some('\r') => {
                    line += 1;
                    cells.push(current);
                    break;
                }
                Some(c) => current.push(c),
            }
        }
        let blank = cells.len() == 1 && cells[0].is_empty() && !quoted_cell;
        total += cells.len();
        if total > MAX_CELLS_PER_FILE {
            return Err(ReadError {
                line: start,
                reason: format!("more than {MAX_CELLS_PER_FILE} cells in the file; import it in parts"),
            });
        }
        if !blank {
            let cells = cells.iter().map(|c| restore(c).to_string()).collect();
            records.push(Record { line: start, cells });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 9 of the security review: a file of commas is refused by its size in cells,
    /// not read into millions of empty strings.
    #[test]
    fn cells_are_bounded_per_record_and_per_file() {
        let wide = format!("a,b\r\n{}\r\n", ",".repeat(20_000_000 / 2));
        let e = read(&wide).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("more than 500 cells in one record"), "{e:?}");
        assert!(read(&format!("{}x\r\n", "y,".repeat(MAX_CELLS_PER_RECORD - 1))).is_ok(), "exactly the limit");

        let long = "a,b,c,d\r\n".repeat(MAX_CELLS_PER_FILE / 4 + 1);
        let e = read(&long).unwrap_err();
        assert_eq!(e.line, MAX_CELLS_PER_FILE / 4 + 1);
        assert!(e.reason.contains("more than 2000000 cells in the file"), "{e:?}");
        assert_eq!(read(&"a,b,c,d\r\n".repeat(MAX_CELLS_PER_FILE / 4)).unwrap().len(), MAX_CELLS_PER_FILE / 4);
    }

    /// A small deterministic generator, so the round trip is tested on many varied files
    /// without a property-testing dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn value(rng: &mut Rng) -> String {
        const PIECES: &[&str] = &[
            "a", "Z", "7", " ", ",", "\"", "\n", "\r\n", "=", "+", "-", "@", "'", "ä", "⌀", "😀", "\t", "x;y", "S 9–10",
        ];
        (0..rng.below(6)).map(|_| PIECES[rng.below(PIECES.len())]).collect()
    }

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
        // Typed with the apostrophe already: kept, not taken for a neutralised formula.
        assert_eq!(cell("'=1"), "''=1");
        assert_eq!(restore(&cell("'=1")), "'=1");
        assert_eq!(cell("'quoted"), "'quoted");
        assert_eq!(restore(&cell("''@x")), "''@x");
        assert_eq!(restore("'quoted"), "'quoted");
    }

    #[test]
    fn rows_end_with_crlf() {
        assert_eq!(row(["a", "b,c"]), "a,\"b,c\"\r\n");
    }

    #[test]
    fn what_is_written_reads_back_the_same_for_many_generated_files() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let columns = 2 + rng.below(6);
            let table: Vec<Vec<String>> =
                (0..1 + rng.below(8)).map(|_| (0..columns).map(|_| value(&mut rng)).collect()).collect();
            let mut text = header(&table[0]);
            text.extend(table[1..].iter().map(row));
            let read: Vec<Vec<String>> = read(&text).unwrap().into_iter().map(|r| r.cells).collect();
            // Rows of nothing but empty cells are still rows when there are several columns.
            assert_eq!(read, table, "{text:?}");
            // And writing what was read gives the same bytes.
            let mut again = header(&read[0]);
            again.extend(read[1..].iter().map(row));
            assert_eq!(again, text);
        }
    }

    #[test]
    fn excel_s_dialect_is_read() {
        let text = "\u{feff}Name,Note\r\n\"Smith, J.\",\"said \"\"hi\"\"\nthen left\"\r\n\r\nlast,'=1+1\n";
        let records = read(text).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].cells, ["Name", "Note"]);
        assert_eq!(
            (records[1].line, records[1].cells.clone()),
            (2, vec!["Smith, J.".into(), "said \"hi\"\nthen left".into()])
        );
        assert_eq!((records[2].line, records[2].cells.clone()), (5, vec!["last".into(), "=1+1".into()]));
    }

    #[test]
    fn malformed_files_name_the_line() {
        assert_eq!(
            read("a,b\r\nc,\"open\r\n").unwrap_err(),
            ReadError { line: 2, reason: "a quoted cell is never closed".into() }
        );
        assert_eq!(read("a,b\nc,d\"e\n").unwrap_err().line, 2);
        assert_eq!(read("a,\"b\"c\n").unwrap_err().reason, "text after the closing quote of a cell");
    }
}
