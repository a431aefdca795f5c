//! Markdown for everything people write (policies, reports, comments),
//! rendered so that it can never carry script: raw HTML in the source is
//! shown as text, link targets are limited to web, mail and same-site
//! addresses, and images become links (an image from elsewhere would be an
//! external request, which the CSP refuses anyway).

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Whether a link target is harmless: http(s), mailto, or relative.
fn safe_url(url: &str) -> bool {
    // Browsers drop ASCII whitespace and control characters inside a scheme
    // ("java\tscript:"), so compare without them.
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme_end = squeezed.find(':');
    let path_start = squeezed.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        // No scheme at all, or a colon only after the path began: relative.
        (None, _) => true,
        (Some(c), Some(p)) if p < c => true,
        (Some(_), _) => {
            squeezed.starts_with("https:")
                || squeezed.starts_with("http:")
                || squeezed.starts_with("mailto:")
        }
    }
}

/// Renders Markdown to HTML that is safe to place in a page.
pub fn render(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let events = Parser::new_ext(source, options).map(|e| match e {
        // Raw HTML is text here, escaped by the renderer.
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_url(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#unsafe-link-removed")
            };
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            })
        }
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_url(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#unsafe-link-removed")
            };
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markdown_renders() {
        let html = render(
            "# Policy\n\n**Be kind.** See [scope](/programs/acme#scope).\n\n```\ncurl -v\n```",
        );
        assert!(html.contains("<h1>Policy</h1>"), "{html}");
        assert!(html.contains("<strong>Be kind.</strong>"));
        assert!(html.contains(r#"<a href="/programs/acme#scope">scope</a>"#));
        assert!(html.contains("<pre><code>curl -v\n</code></pre>"));
        let table = render("| a | b |\n|---|---|\n| 1 | 2 |");
        assert!(table.contains("<table>"), "{table}");
    }

    /// Every tag in rendered output, as `<…>` segments. User text reaches
    /// the output escaped (`&lt;`), so any `<` is one the renderer wrote.
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or("").to_ascii_lowercase())
            .collect()
    }

    fn assert_inert(source: &str) {
        let html = render(source);
        for tag in tags(&html) {
            let name = tag
                .trim_start_matches('/')
                .split([' ', '/'])
                .next()
                .unwrap_or("");
            assert!(
                [
                    "p",
                    "a",
                    "h1",
                    "h2",
                    "h3",
                    "h4",
                    "h5",
                    "h6",
                    "strong",
                    "em",
                    "code",
                    "pre",
                    "ul",
                    "ol",
                    "li",
                    "blockquote",
                    "table",
                    "thead",
                    "tbody",
                    "tr",
                    "th",
                    "td",
                    "del",
                    "hr",
                    "br",
                    "input",
                    ""
                ]
                .contains(&name),
                "{source:?} produced <{tag}>: {html}"
            );
            for bad in [" on", "javascript:", "vbscript:", "data:", "src=", "style="] {
                assert!(!tag.contains(bad), "{source:?} produced <{tag}>: {html}");
            }
        }
    }

    /// Payloads from the usual XSS cheat sheets, in every place Markdown
    /// lets them go. None may leave a tag, attribute or URL that runs script.
    #[test]
    fn xss_payloads_never_become_markup() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg/onload=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](<javascript:alert(1)>)",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "![x](javascript:alert(1))",
            "![x](https://evil.example/track.png)",
            "[x]: javascript:alert(1)\n\n[x]",
            "<iframe src=https://evil.example></iframe>",
            "<details open ontoggle=alert(1)>",
            "`<script>` in code is fine",
            "<<script>script>alert(1)<</script>/script>",
            "[x](\"onmouseover=alert(1))",
            "<style>body{display:none}</style>",
            "- [ ] task <b onclick=alert(1)>",
            "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
        ];
        for p in payloads {
            assert_inert(p);
        }
        assert!(render("[x](javascript:alert(1))").contains("#unsafe-link-removed"));
    }

    #[test]
    fn link_schemes() {
        assert!(safe_url("https://example.com/a:b"));
        assert!(safe_url("mailto:security@example.com"));
        assert!(safe_url("/reports/1"));
        assert!(safe_url("#top"));
        assert!(safe_url("page?x=a:b"));
        assert!(!safe_url("javascript:alert(1)"));
        assert!(!safe_url("file:///etc/passwd"));
    }

    proptest::proptest! {
        #[test]
        fn any_text_renders_inert(s in "(<[a-z]{1,6}( on[a-z]{2,8}=x)?>|\\[x\\]\\([a-z:]{0,12}\\)|[ -~\n]){0,40}") {
            assert_inert(&s);
        }
    }
}
