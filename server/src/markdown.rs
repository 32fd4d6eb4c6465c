//! A revision's Markdown as HTML that is safe to insert into a page: CommonMark with tables,
//! strikethrough and task lists; HTML written in the source is shown as text, never run; links
//! and images only to the web (`http`, `https`), `mailto:` and paths of this site.
//!
//! Rendered here, once, for every reader (`GET /api/v1/document-revisions/{id}/html`), rather
//! than in the browser: the same HTML everywhere, cleaned in one place, and the parser (about
//! 100 KB of WebAssembly) stays out of the app.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// `source` rendered to HTML (escaped where the source held HTML).
pub fn to_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: below_page_title(level), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(below_page_title(level))),
        other => other,
    });
    let mut out = String::with_capacity(source.len() + source.len() / 4);
    html::push_html(&mut out, events);
    out
}

/// A heading of the document one level down: the page's own title is the one `h1`, the
/// document's `#` headings are `h2` under it (`######` stays `h6`).
fn below_page_title(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// `url` when it leads to the web, a mail address or this site; otherwise `#` (no
/// `javascript:`, `data:` or other schemes).
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme = lower.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn renders_commonmark_with_tables() {
        let html = to_html("# Scope\n\nApplies to **all** lines.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h2>Scope</h2>"), "the page's title is the one h1: {html}");
        assert!(html.contains("<strong>all</strong>"), "{html}");
        assert!(html.contains("<table>") && html.contains("<td>2</td>"), "{html}");
    }

    #[test]
    fn html_in_the_source_is_text() {
        let html = to_html("<script>alert(1)</script>\n\nHello <img src=x onerror=alert(2)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_safe_links() {
        assert!(to_html("[x](javascript:alert(1))").contains("href=\"#\""));
        assert!(to_html("[x](JavaScript:alert(1))").contains("href=\"#\""));
        assert!(to_html("![x](data:image/png;base64,AAAA)").contains("src=\"#\""));
        assert!(to_html("[x](https://www.iso.org/)").contains("href=\"https://www.iso.org/\""));
        assert!(to_html("[x](/documents/3)").contains("href=\"/documents/3\""));
        assert!(to_html("[x](mailto:qa@example.com)").contains("href=\"mailto:qa@example.com\""));
        assert!(to_html("[x](notes.pdf?a=b:c)").contains("href=\"notes.pdf?a=b:c\""));
    }
}
