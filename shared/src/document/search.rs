//! Full-text search of documents (domain/documents.md, "At the point of use": search finds
//! documents by number, title and the text of their effective revision).
//!
//! The server's two databases index the text their own way (SQLite FTS5, PostgreSQL tsvector);
//! what they are asked and what a person sees are decided here once: the words a query is made
//! of ([`search_terms`]: every run of letters and digits, lower-cased, each a prefix, all
//! required, so that the user's quotes, `*`, `-`, `:` and parentheses are never query syntax),
//! and the plain-text snippet around the first match ([`snippet`]).

use serde::{Deserialize, Serialize};

use super::{DocumentId, DocumentType, RevisionId};
use crate::FieldErrors;
use crate::validation::{REQUIRED, TOO_LONG};

/// The most characters of a search query.
pub const QUERY_MAX: usize = 200;
/// The most words a query is made of (more are ignored: every word must match, so a long
/// query finds less and costs more).
pub const TERMS_MAX: usize = 12;
/// Hits per answer by default.
pub const LIMIT_DEFAULT: u32 = 20;
/// The most hits per answer.
pub const LIMIT_MAX: u32 = 100;
/// About how many words a snippet holds.
pub const SNIPPET_WORDS: usize = 30;

/// A document found by a search, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DocumentHit {
    /// The document.
    pub document_id: DocumentId,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// Its type.
    pub doc_type: DocumentType,
    /// The revision in force, if one is.
    pub revision_id: Option<RevisionId>,
    /// That revision's label.
    pub label: Option<String>,
    /// About 30 words of the revision in force around the first match (its start when only the
    /// number or title matched); plain text, never HTML.
    pub snippet: Vec<SnippetPart>,
}

/// A piece of a snippet: the matching words have `hit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SnippetPart {
    /// Plain text.
    pub text: String,
    /// A word that matches the query.
    pub hit: bool,
}

/// The words of a query: every run of letters and digits, lower-cased, without repeats, at most
/// [`TERMS_MAX`]. Each is matched as a word prefix and all must match (`SOP-00` finds `SOP-0003`).
/// An empty query, or one longer than [`QUERY_MAX`], is refused naming `q`; a query of
/// punctuation alone has no terms (and finds nothing).
pub fn search_terms(q: &str) -> Result<Vec<String>, FieldErrors> {
    let mut e = FieldErrors::new();
    if q.trim().is_empty() {
        e.add("q", REQUIRED);
    } else if q.chars().count() > QUERY_MAX {
        e.add("q", TOO_LONG);
    }
    e.into_result()?;
    let mut terms: Vec<String> = Vec::new();
    for word in words(q) {
        let term = word.to_lowercase();
        if !terms.contains(&term) && terms.len() < TERMS_MAX {
            terms.push(term);
        }
    }
    Ok(terms)
}

/// The runs of letters and digits in `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// Whether `word` matches one of the (lower-case) `terms` as a prefix.
fn matches(word: &str, terms: &[String]) -> bool {
    let lower = word.to_lowercase();
    terms.iter().any(|t| lower.starts_with(t.as_str()))
}

/// About [`SNIPPET_WORDS`] words of `body` around the first word that matches a term (a few
/// words before it for context), with every matching word marked; the body's start when no word
/// matches. Whitespace runs (line breaks included) become one space; `…` marks cut ends.
pub fn snippet(body: &str, terms: &[String]) -> Vec<SnippetPart> {
    // Tokens: (text, is_word). Words are runs of letters and digits; the rest is kept between them.
    let mut tokens: Vec<(&str, bool)> = Vec::new();
    let mut start = 0;
    let mut in_word = None;
    for (i, c) in body.char_indices() {
        let w = c.is_alphanumeric();
        match in_word {
            Some(prev) if prev != w => {
                tokens.push((&body[start..i], prev));
                start = i;
            }
            _ => {}
        }
        in_word = Some(w);
    }
    if let Some(w) = in_word {
        tokens.push((&body[start..], w));
    }
    let word_positions: Vec<usize> = tokens.iter().enumerate().filter(|(_, t)| t.1).map(|(i, _)| i).collect();
    if word_positions.is_empty() {
        return Vec::new();
    }
    let first = word_positions.iter().position(|&i| matches(tokens[i].0, terms)).unwrap_or(0);
    let from = first.saturating_sub(SNIPPET_WORDS / 4);
    let to = (from + SNIPPET_WORDS).min(word_positions.len());
    let t0 = word_positions[from];
    // To the body's end (its closing full stop) when the last word is in.
    let t1 = if to == word_positions.len() { tokens.len() - 1 } else { word_positions[to - 1] };
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &str, hit: bool| match parts.last_mut() {
        Some(last) if last.hit == hit => last.text.push_str(text),
        _ => parts.push(SnippetPart { text: text.to_string(), hit }),
    };
    if from > 0 {
        push("… ", false);
    }
    for &(text, is_word) in &tokens[t0..=t1] {
        if is_word {
            push(text, matches(text, terms));
        } else {
            push(&collapse(text), false);
        }
    }
    if to < word_positions.len() {
        push(" …", false);
    }
    if let Some(last) = parts.last_mut() {
        last.text.truncate(last.text.trim_end().len());
    }
    parts
}

/// A separator with its whitespace runs made one space.
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_words_never_syntax() {
        assert_eq!(search_terms("SOP-0003").unwrap(), ["sop", "0003"]);
        assert_eq!(search_terms("\"torque\" AND (wrench*) -x: Torque").unwrap(), ["torque", "and", "wrench", "x"]);
        assert_eq!(search_terms("Prüfung").unwrap(), ["prüfung"]);
        assert!(search_terms("*:()\"-").unwrap().is_empty(), "punctuation alone finds nothing");
        assert_eq!(search_terms("  ").unwrap_err().get("q"), Some(&[REQUIRED.to_string()][..]));
        assert_eq!(search_terms(&"a".repeat(201)).unwrap_err().get("q"), Some(&[TOO_LONG.to_string()][..]));
        let many = (0..30).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(search_terms(&many).unwrap().len(), TERMS_MAX);
    }

    fn text(parts: &[SnippetPart]) -> String {
        parts.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn a_snippet_marks_the_matching_words_around_the_first_match() {
        let body: String = (1..=100).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ") + "\n\nTorque wrench.";
        let terms = vec!["torq".to_string()];
        let parts = snippet(&body, &terms);
        let hits: Vec<_> = parts.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
        assert_eq!(hits, ["Torque"]);
        let t = text(&parts);
        assert!(t.starts_with("… ") && t.ends_with("Torque wrench."), "{t}");
        assert!(t.split_whitespace().count() <= SNIPPET_WORDS + 1, "{t}");
        assert!(!t.contains('\n'), "whitespace runs become one space: {t:?}");

        // No match in the body (the number or title matched): the body's start.
        let parts = snippet("# Purpose\nTo calibrate gauges.", &["sop".to_string()]);
        assert_eq!(text(&parts), "Purpose To calibrate gauges.");
        assert!(parts.iter().all(|p| !p.hit));
        assert!(snippet("", &terms).is_empty());
        // Several terms, each word marked; neighbouring parts of one kind are merged.
        let parts = snippet("Set the torque wrench to 12 Nm.", &["torque".into(), "wrench".into()]);
        assert_eq!(
            parts,
            vec![
                SnippetPart { text: "Set the ".into(), hit: false },
                SnippetPart { text: "torque".into(), hit: true },
                SnippetPart { text: " ".into(), hit: false },
                SnippetPart { text: "wrench".into(), hit: true },
                SnippetPart { text: " to 12 Nm.".into(), hit: false },
            ]
        );
    }
}
