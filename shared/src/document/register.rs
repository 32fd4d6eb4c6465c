//! The document register: the list of documents as a table filters, sorts and pages it, and its
//! CSV export (domain/documents.md, "What is controlled"). The query string is read here once,
//! so that a bad value is refused naming its parameter the same way for the JSON list and the
//! CSV, and so that the app builds the query the server reads.

use serde::{Deserialize, Serialize};

use super::{Document, DocumentType, RevisionStatus};
use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::ProcessId;
use crate::validation::{INVALID, TOO_LONG};

/// The most documents on one page.
pub const PAGE_MAX: u32 = 500;
/// The most characters of the number/title filter.
pub const TEXT_FILTER_MAX: usize = 200;

/// Where a document stands, as the register filters it. A document may stand in two places at
/// once: in force with its next revision in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// A revision is in force (not obsolete).
    InForce,
    /// A revision is in review (not obsolete).
    InReview,
    /// A draft is in progress (not obsolete).
    Draft,
    /// Nothing in force and nothing in progress: a new document, or one whose drafts were all
    /// cancelled (not obsolete).
    NoRevision,
    /// Made obsolete.
    Obsolete,
}

impl DocumentStatus {
    /// Every status, in the order a filter offers them.
    pub const ALL: [DocumentStatus; 5] = [
        DocumentStatus::InForce,
        DocumentStatus::InReview,
        DocumentStatus::Draft,
        DocumentStatus::NoRevision,
        DocumentStatus::Obsolete,
    ];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::InForce => "in_force",
            DocumentStatus::InReview => "in_review",
            DocumentStatus::Draft => "draft",
            DocumentStatus::NoRevision => "no_revision",
            DocumentStatus::Obsolete => "obsolete",
        }
    }

    /// Parses a query-string name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            DocumentStatus::InForce => "In force",
            DocumentStatus::InReview => "In review",
            DocumentStatus::Draft => "Draft",
            DocumentStatus::NoRevision => "No revision",
            DocumentStatus::Obsolete => "Obsolete",
        }
    }
}

impl Document {
    /// Whether the document stands at `status` (the register's filter, which the server applies
    /// in SQL to the same effect).
    pub fn has_status(&self, status: DocumentStatus) -> bool {
        let live = self.meta.retired_at.is_none();
        match status {
            DocumentStatus::Obsolete => !live,
            DocumentStatus::InForce => live && self.in_force.is_some(),
            DocumentStatus::InReview => live && self.in_progress == Some(RevisionStatus::InReview),
            DocumentStatus::Draft => live && self.in_progress == Some(RevisionStatus::Draft),
            DocumentStatus::NoRevision => live && self.in_force.is_none() && self.in_progress.is_none(),
        }
    }

    /// Where it stands in words, for a table cell or the CSV: "In force, In review", "Obsolete",
    /// "Approved" (approved, waiting for its effective date)…
    pub fn status_text(&self) -> String {
        if self.meta.retired_at.is_some() {
            return DocumentStatus::Obsolete.label().to_string();
        }
        let mut parts = Vec::new();
        if self.in_force.is_some() {
            parts.push(DocumentStatus::InForce.label());
        }
        if let Some(s) = self.in_progress {
            parts.push(s.label());
        }
        if parts.is_empty() {
            parts.push(DocumentStatus::NoRevision.label());
        }
        parts.join(", ")
    }
}

/// The register's orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentSort {
    /// By number (the default).
    #[default]
    Number,
    /// By title, ignoring case.
    Title,
    /// By the last change to the document or any of its revisions, oldest first.
    Updated,
}

impl DocumentSort {
    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentSort::Number => "number",
            DocumentSort::Title => "title",
            DocumentSort::Updated => "updated",
        }
    }

    /// Parses a query-string name.
    pub fn parse(s: &str) -> Option<Self> {
        [DocumentSort::Number, DocumentSort::Title, DocumentSort::Updated].into_iter().find(|t| t.as_str() == s)
    }
}

/// The query string of `GET /api/v1/documents` and `/api/v1/documents.csv`, as sent (every value
/// text, so that a bad one is refused naming its parameter: [`DocumentListQuery::parse`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct DocumentListQuery {
    /// Only of this type (`sop`, `policy`…).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<DocumentType>))]
    pub doc_type: Option<String>,
    /// Only documents standing here: `in_force`, `in_review` (a revision in review), `draft` (a
    /// draft in progress), `no_revision` (nothing in force or in progress), `obsolete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<DocumentStatus>))]
    pub status: Option<String>,
    /// Obsolete documents too (`true`; without `status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<bool>))]
    pub include_obsolete: Option<String>,
    /// Only this owner's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<i64>))]
    pub owner_id: Option<String>,
    /// Only this process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<i64>))]
    pub process_id: Option<String>,
    /// Only documents whose periodic review is overdue (`true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<bool>))]
    pub review_overdue: Option<String>,
    /// Text in the number or the title (case-insensitive, at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `number` (default), `title` or `updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<DocumentSort>))]
    pub sort: Option<String>,
    /// Reverse the order (`true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<bool>))]
    pub desc: Option<String>,
    /// Page size, 1–500: the answer is then a page with the total (without it: every match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<u32>))]
    pub limit: Option<String>,
    /// Matches to skip (with `limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<u32>))]
    pub offset: Option<String>,
}

/// What the register lists, read from a [`DocumentListQuery`]. Every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Only of this type.
    pub doc_type: Option<DocumentType>,
    /// Only standing here.
    pub status: Option<DocumentStatus>,
    /// Obsolete documents too (ignored with `status`).
    pub include_obsolete: bool,
    /// Only this owner's.
    pub owner_id: Option<UserId>,
    /// Only this process's.
    pub process_id: Option<ProcessId>,
    /// Only those overdue for periodic review.
    pub review_overdue: bool,
    /// Text in the number or title (trimmed, not empty).
    pub text: Option<String>,
    /// Order.
    pub sort: DocumentSort,
    /// Reverse the order.
    pub desc: bool,
    /// Page size (none: every match, as a plain list).
    pub limit: Option<u32>,
    /// Matches skipped.
    pub offset: u32,
}

impl DocumentListQuery {
    /// The filter, or field errors naming each bad parameter (`type`, `status`,
    /// `include_obsolete`, `owner_id`, `process_id`, `review_overdue`, `q`, `sort`, `desc`,
    /// `limit`, `offset`).
    pub fn parse(&self) -> Result<DocumentFilter, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut f = DocumentFilter::default();
        fn flag(e: &mut FieldErrors, field: &str, v: &Option<String>) -> bool {
            match v.as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => {
                    e.add(field, INVALID);
                    false
                }
            }
        }
        fn id(e: &mut FieldErrors, field: &str, v: &Option<String>) -> Option<i64> {
            let v = v.as_deref()?;
            match v.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    e.add(field, INVALID);
                    None
                }
            }
        }
        if let Some(t) = &self.doc_type {
            f.doc_type = DocumentType::parse(t);
            if f.doc_type.is_none() {
                e.add("type", INVALID);
            }
        }
        if let Some(s) = &self.status {
            f.status = DocumentStatus::parse(s);
            if f.status.is_none() {
                e.add("status", INVALID);
            }
        }
        f.include_obsolete = flag(&mut e, "include_obsolete", &self.include_obsolete);
        f.owner_id = id(&mut e, "owner_id", &self.owner_id).map(UserId);
        f.process_id = id(&mut e, "process_id", &self.process_id).map(ProcessId);
        f.review_overdue = flag(&mut e, "review_overdue", &self.review_overdue);
        if let Some(q) = &self.q {
            if q.chars().count() > TEXT_FILTER_MAX {
                e.add("q", TOO_LONG);
            } else if q.chars().any(char::is_control) {
                e.add("q", INVALID);
            }
            f.text = Some(q.trim().to_string()).filter(|q| !q.is_empty());
        }
        if let Some(s) = &self.sort {
            match DocumentSort::parse(s) {
                Some(s) => f.sort = s,
                None => e.add("sort", INVALID),
            }
        }
        f.desc = flag(&mut e, "desc", &self.desc);
        if let Some(l) = &self.limit {
            match l.parse::<u32>() {
                Ok(l) if (1..=PAGE_MAX).contains(&l) => f.limit = Some(l),
                _ => e.add("limit", INVALID),
            }
        }
        if let Some(o) = &self.offset {
            match o.parse::<u32>() {
                Ok(o) => f.offset = o,
                Err(_) => e.add("offset", INVALID),
            }
        }
        e.into_result().map(|()| f)
    }
}

impl DocumentFilter {
    /// The query string that asks for this filter ([`DocumentListQuery::parse`] reads it back).
    pub fn to_query(&self) -> DocumentListQuery {
        let yes = |b: bool| b.then(|| "true".to_string());
        DocumentListQuery {
            doc_type: self.doc_type.map(|t| t.as_str().to_string()),
            status: self.status.map(|s| s.as_str().to_string()),
            include_obsolete: yes(self.include_obsolete),
            owner_id: self.owner_id.map(|u| u.0.to_string()),
            process_id: self.process_id.map(|p| p.0.to_string()),
            review_overdue: yes(self.review_overdue),
            q: self.text.clone(),
            sort: (self.sort != DocumentSort::Number).then(|| self.sort.as_str().to_string()),
            desc: yes(self.desc),
            limit: self.limit.map(|l| l.to_string()),
            offset: (self.offset > 0).then(|| self.offset.to_string()),
        }
    }

    /// Whether `doc` passes every filter but the text (the server's SQL does the same; tests
    /// compare the two).
    pub fn admits(&self, doc: &Document) -> bool {
        let status = match self.status {
            Some(s) => doc.has_status(s),
            None => self.include_obsolete || doc.meta.retired_at.is_none(),
        };
        status
            && self.doc_type.is_none_or(|t| doc.doc_type == t)
            && self.owner_id.is_none_or(|o| doc.owner_id == o)
            && self.process_id.is_none_or(|p| doc.process_id == Some(p))
            && (!self.review_overdue || doc.review_overdue)
    }
}

/// One page of the register (`GET /api/v1/documents` with `limit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DocumentPage {
    /// The documents on this page.
    pub items: Vec<Document>,
    /// How many documents match the filters in all.
    pub total: i64,
}

/// The CSV export's columns.
pub const CSV_HEADER: [&str; 9] =
    ["Number", "Title", "Type", "Status", "Revision in force", "Owner", "Process", "Next review", "Overdue"];

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> DocumentListQuery {
        let json: serde_json::Map<String, serde_json::Value> =
            pairs.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
        serde_json::from_value(serde_json::Value::Object(json)).unwrap()
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let bad = query(&[
            ("type", "memo"),
            ("status", "effective"),
            ("include_obsolete", "yes"),
            ("owner_id", "x"),
            ("process_id", "-1"),
            ("review_overdue", "1"),
            ("sort", "owner"),
            ("desc", "TRUE"),
            ("limit", "501"),
            ("offset", "-3"),
        ]);
        let e = bad.parse().unwrap_err();
        for field in [
            "type",
            "status",
            "include_obsolete",
            "owner_id",
            "process_id",
            "review_overdue",
            "sort",
            "desc",
            "limit",
            "offset",
        ] {
            assert_eq!(e.get(field), Some(&[INVALID.to_string()][..]), "{field}: {e:?}");
        }
        assert!(query(&[("limit", "0")]).parse().unwrap_err().get("limit").is_some());
        let long = "x".repeat(201);
        assert_eq!(query(&[("q", &long)]).parse().unwrap_err().get("q"), Some(&[TOO_LONG.to_string()][..]));
    }

    #[test]
    fn a_filter_reads_back_from_its_query() {
        let f = DocumentFilter {
            doc_type: Some(DocumentType::WorkInstruction),
            status: Some(DocumentStatus::InReview),
            owner_id: Some(UserId(4)),
            process_id: Some(ProcessId(2)),
            review_overdue: true,
            text: Some("lathe".into()),
            sort: DocumentSort::Updated,
            desc: true,
            limit: Some(50),
            offset: 100,
            ..Default::default()
        };
        assert_eq!(f.to_query().parse().unwrap(), f);
        assert_eq!(DocumentListQuery::default().parse().unwrap(), DocumentFilter::default());
        assert_eq!(query(&[("q", "  ")]).parse().unwrap().text, None, "blank text filters nothing");
    }
}
