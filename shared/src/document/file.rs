//! A file attached to a revision (domain/documents.md: "a SHA-256 of the exact revision content
//! (text, attached file's hash, …)"): which files are accepted, how their name is checked and
//! how it is sent back. The bytes must be what their declared type says they are (a PDF starts
//! `%PDF-`, an Office file is a zip, …), so that a file is never served under a type that would
//! make a browser run or render it as something else.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation::{CONTROL_CHARACTERS, INVALID, REQUIRED, TOO_LONG};

/// The largest file, in bytes (20 MiB).
pub const FILE_MAX_BYTES: usize = 20 * 1024 * 1024;
/// The most characters of a file's name.
pub const FILE_NAME_MAX: usize = 200;

/// Error code: the media type is not one a revision may carry.
pub const FILE_TYPE_UNSUPPORTED: &str = "file_type_unsupported";
/// Error code: the bytes are not what the declared media type says.
pub const FILE_CONTENT_MISMATCH: &str = "file_content_mismatch";
/// Error code: a text file that is not UTF-8.
pub const FILE_NOT_UTF8: &str = "file_not_utf8";

/// The sentence for a file error code, or `None` for other codes.
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        FILE_TYPE_UNSUPPORTED => {
            "Attach a PDF, a Word, Excel or PowerPoint file (.docx, .xlsx, .pptx), a PNG or JPEG image, or plain text or Markdown."
        }
        FILE_CONTENT_MISMATCH => "The file's content is not of the type it was sent as.",
        FILE_NOT_UTF8 => "A text or Markdown file must be UTF-8.",
        _ => return None,
    })
}

/// The file attached to a revision: what the revision JSON says of it (the bytes are at
/// `GET /api/v1/document-revisions/{id}/file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RevisionFile {
    /// Its name as attached (a safe file name).
    pub name: String,
    /// Its media type (one of [`MEDIA_TYPES`]).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes (lower-case hex): what a signature binds.
    pub sha256: String,
}

/// How the bytes of a media type begin.
#[derive(Debug, Clone, Copy)]
enum Magic {
    /// These bytes first.
    Starts(&'static [u8]),
    /// UTF-8 text.
    Utf8,
}

/// The media types a revision may carry, with how their bytes begin.
const ACCEPTED: [(&str, Magic); 8] = [
    ("application/pdf", Magic::Starts(b"%PDF-")),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", Magic::Starts(b"PK\x03\x04")),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Magic::Starts(b"PK\x03\x04")),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", Magic::Starts(b"PK\x03\x04")),
    ("image/png", Magic::Starts(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", Magic::Starts(b"\xff\xd8\xff")),
    ("text/plain", Magic::Utf8),
    ("text/markdown", Magic::Utf8),
];

/// The media types a revision may carry.
pub const MEDIA_TYPES: [&str; 8] = [
    ACCEPTED[0].0,
    ACCEPTED[1].0,
    ACCEPTED[2].0,
    ACCEPTED[3].0,
    ACCEPTED[4].0,
    ACCEPTED[5].0,
    ACCEPTED[6].0,
    ACCEPTED[7].0,
];

/// Checks a file's bytes against its declared `Content-Type` (parameters such as `charset` are
/// ignored; case too): one of [`MEDIA_TYPES`], not empty, its bytes beginning as that type's do
/// (text: UTF-8). Returns the media type as stored; field errors name `file`.
pub fn check_file(content_type: &str, bytes: &[u8]) -> Result<&'static str, FieldErrors> {
    let mut e = FieldErrors::new();
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some((media_type, magic)) = ACCEPTED.iter().find(|(t, _)| *t == essence) else {
        e.add("file", FILE_TYPE_UNSUPPORTED);
        return Err(e);
    };
    if bytes.is_empty() {
        e.add("file", REQUIRED);
    } else if bytes.len() > FILE_MAX_BYTES {
        e.add("file", TOO_LONG);
    } else {
        match magic {
            Magic::Starts(m) if !bytes.starts_with(m) => e.add("file", FILE_CONTENT_MISMATCH),
            Magic::Utf8 if std::str::from_utf8(bytes).is_err() => e.add("file", FILE_NOT_UTF8),
            _ => {}
        }
    }
    e.into_result().map(|()| *media_type)
}

/// Checks a file's name: not blank, at most [`FILE_NAME_MAX`] characters, no path separators
/// (`/`, `\`), no control characters, not `.` or `..`. Returns it trimmed; field errors name
/// `name`.
pub fn check_file_name(name: &str) -> Result<String, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() {
        e.add("name", REQUIRED);
    } else if name.chars().count() > FILE_NAME_MAX {
        e.add("name", TOO_LONG);
    } else if name.chars().any(char::is_control) {
        e.add("name", CONTROL_CHARACTERS);
    } else if name.contains(['/', '\\']) || name == "." || name == ".." {
        e.add("name", INVALID);
    }
    e.into_result().map(|()| name.to_string())
}

/// The `Content-Disposition` that sends a file back as a download under its name (RFC 6266):
/// `attachment; filename="…"` with an ASCII stand-in (anything else, `"` and `\` become `_`),
/// and `filename*=UTF-8''…` with the name itself, percent-encoded (RFC 8187).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_must_be_what_their_type_says() {
        assert_eq!(check_file("application/pdf", b"%PDF-1.7\n..."), Ok("application/pdf"));
        assert_eq!(check_file("Application/PDF; name=x", b"%PDF-1.4"), Ok("application/pdf"));
        assert_eq!(check_file("image/png", b"\x89PNG\r\n\x1a\n...."), Ok("image/png"));
        assert_eq!(check_file("image/jpeg", b"\xff\xd8\xff\xe0"), Ok("image/jpeg"));
        assert_eq!(check_file("text/markdown; charset=utf-8", "# Über".as_bytes()), Ok("text/markdown"));
        let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        assert_eq!(check_file(docx, b"PK\x03\x04rest"), Ok(docx));
        let code = |t: &str, b: &[u8]| check_file(t, b).unwrap_err().get("file").map(|c| c[0].clone());
        assert_eq!(code("application/pdf", b"PK\x03\x04"), Some(FILE_CONTENT_MISMATCH.into()));
        assert_eq!(code(docx, b"%PDF-1.7"), Some(FILE_CONTENT_MISMATCH.into()));
        assert_eq!(code("application/pdf", b""), Some(REQUIRED.into()));
        assert_eq!(code("text/plain", b"\xff\xfe"), Some(FILE_NOT_UTF8.into()));
        assert_eq!(code("text/html", b"<p>"), Some(FILE_TYPE_UNSUPPORTED.into()));
        assert_eq!(code("application/octet-stream", b"%PDF-"), Some(FILE_TYPE_UNSUPPORTED.into()));
        assert_eq!(code("image/svg+xml", b"<svg"), Some(FILE_TYPE_UNSUPPORTED.into()));
        for code in [FILE_TYPE_UNSUPPORTED, FILE_CONTENT_MISMATCH, FILE_NOT_UTF8] {
            assert!(describe(code).is_some());
        }
    }

    #[test]
    fn a_name_is_a_safe_file_name() {
        assert_eq!(check_file_name("  SOP-0001 Torque.pdf "), Ok("SOP-0001 Torque.pdf".into()));
        assert_eq!(check_file_name("Prüfplan «B».pdf"), Ok("Prüfplan «B».pdf".into()));
        for bad in ["", "  ", "../etc/passwd", "a/b.pdf", "a\\b.pdf", "..", ".", "a\nb.pdf", "a\u{7f}.pdf"] {
            assert!(check_file_name(bad).unwrap_err().get("name").is_some(), "{bad:?}");
        }
        assert!(check_file_name(&"x".repeat(201)).is_err());
        assert!(check_file_name(&"x".repeat(200)).is_ok());
    }

    #[test]
    fn the_disposition_names_the_file_safely() {
        assert_eq!(
            content_disposition("Torque settings.pdf"),
            "attachment; filename=\"Torque settings.pdf\"; filename*=UTF-8''Torque%20settings.pdf"
        );
        assert_eq!(
            content_disposition("Prüf \"plan\".pdf"),
            "attachment; filename=\"Pr_f _plan_.pdf\"; filename*=UTF-8''Pr%C3%BCf%20%22plan%22.pdf"
        );
    }
}
