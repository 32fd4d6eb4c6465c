//! A revision's text as HTML: the answer of `GET /api/v1/document-revisions/{id}/html`. The
//! server renders the Markdown (CommonMark with tables; HTML in the source shown as text, links
//! only to the web, `mailto:` and this site), so every reader sees the same, safe HTML.

use serde::{Deserialize, Serialize};

/// A revision's body rendered from Markdown to HTML that is safe to insert into a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RenderedText {
    /// The HTML.
    pub html: String,
}
