//! Field rules shared by the browser forms and the API handlers, and the human text for every
//! error code they produce.

use crate::FieldErrors;

/// Error code: a required field is empty (after trimming).
pub const REQUIRED: &str = "required";
/// Error code: a field is longer than its limit.
pub const TOO_LONG: &str = "too_long";
/// Error code: a referenced record does not exist.
pub const NOT_FOUND: &str = "not_found";
/// Error code: a referenced record is retired and cannot be used for new work.
pub const RETIRED: &str = "retired";
/// Error code: another active record already uses this value.
pub const TAKEN: &str = "taken";
/// Error code: the value has the wrong type or shape (from the JSON decoder).
pub const INVALID: &str = "invalid";
/// Error code: the field is not part of this request.
pub const UNKNOWN_FIELD: &str = "unknown_field";
/// Error code: the value is not in the allowed format.
pub const FORMAT: &str = "format";
/// Error code: the text holds control characters (NUL and the like), which no person types
/// and PostgreSQL cannot store.
pub const CONTROL_CHARACTERS: &str = "control_characters";

/// The sentence the app shows for an error code.
pub fn describe(code: &str) -> &'static str {
    match code {
        REQUIRED => "This field is required.",
        TOO_LONG => "This is too long.",
        NOT_FOUND => "The selected record does not exist.",
        RETIRED => "The selected record is retired.",
        TAKEN => "Another active record already uses this value.",
        INVALID => "This value has the wrong type.",
        UNKNOWN_FIELD => "This field is not accepted here.",
        FORMAT => "This value is not in the expected format.",
        CONTROL_CHARACTERS => "This text contains invisible control characters; remove them.",
        _ => crate::auth::describe(code)
            .or_else(|| crate::fmea::describe(code))
            .or_else(|| crate::risk::describe(code))
            .or_else(|| crate::register::describe(code))
            .or_else(|| crate::worksheet::describe(code))
            .or_else(|| crate::quality::describe(code))
            .unwrap_or("This value is not valid."),
    }
}

/// Checks a free-text field: `required` fields must not be blank, no field may exceed
/// `max_chars` characters (counted as Unicode scalar values, as a person counts them), and
/// none may hold control characters other than tab and line breaks.
pub fn text(errors: &mut FieldErrors, field: &str, value: &str, required: bool, max_chars: usize) {
    if required && value.trim().is_empty() {
        errors.add(field, REQUIRED);
    } else if value.chars().count() > max_chars {
        errors.add(field, TOO_LONG);
    } else if value.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        errors.add(field, CONTROL_CHARACTERS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_required_text_is_required() {
        let mut e = FieldErrors::new();
        text(&mut e, "name", "   \t", true, 10);
        assert_eq!(e.get("name"), Some(&["required".to_string()][..]));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut e = FieldErrors::new();
        text(&mut e, "name", "ääääää", true, 6); // 12 bytes, 6 characters
        assert!(e.is_empty());
        text(&mut e, "name", "äääääää", true, 6);
        assert_eq!(e.get("name"), Some(&["too_long".to_string()][..]));
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_are_not() {
        let mut e = FieldErrors::new();
        text(&mut e, "description", "line one\r\nline two\tend", false, 100);
        assert!(e.is_empty());
        text(&mut e, "name", "bad\u{0}name", true, 100);
        text(&mut e, "owner", "esc\u{1b}[31m", true, 100);
        assert_eq!(e.get("name"), Some(&["control_characters".to_string()][..]));
        assert_eq!(e.get("owner"), Some(&["control_characters".to_string()][..]));
    }

    #[test]
    fn every_code_has_its_own_text() {
        let codes = [REQUIRED, TOO_LONG, NOT_FOUND, RETIRED, TAKEN, INVALID, UNKNOWN_FIELD, FORMAT, CONTROL_CHARACTERS];
        let texts: std::collections::BTreeSet<_> = codes.iter().map(|c| describe(c)).collect();
        assert_eq!(texts.len(), codes.len());
    }
}
