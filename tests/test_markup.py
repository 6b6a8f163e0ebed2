"""Property-based test (hypothesis) of greenweb.markup: rendered Markdown is safe."""

from __future__ import annotations

import re
import string

from hypothesis import example, given
from hypothesis import strategies as st

from greenweb.markup import render_markdown
from support.hostile import active_content
from support.raw_text import examples, texts

markdown_sources = st.one_of(
    texts,
    st.builds(
        lambda label, scheme, rest, image: f"{'!' if image else ''}[{label}]({scheme}{rest})",
        st.text(max_size=8),
        st.sampled_from(
            [
                "javascript:",
                "JaVaScRiPt:",
                "data:image/png;base64,",
                "data:text/html,",
                "vbscript:",
                "file:",
                "java\tscript:",
                " javascript:",
                "&#106;avascript:",
                "https://",
                "http://",
                "mailto:",
                "/",
                "#",
                "ftp://",
                "//",
                "tel:",
            ]
        ),
        st.text(alphabet=string.ascii_letters + "()/:.%&#;", max_size=20),
        st.booleans(),
    ),
    st.builds(lambda url: f"<{url}>", st.text(max_size=30)),
    st.builds(
        lambda tag: f"<{tag} onload=alert(1)>x</{tag}>",
        st.sampled_from(["img", "svg", "a", "script"]),
    ),
)

HREF = re.compile(r'href="([^"]*)"')

SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


@examples
@given(markdown_sources)
@example("[x](data:image/png;base64,AAAA)")
@example("![x](data:image/gif;base64,R0lGOD)")
@example("[x](tel:+390111234567)")
def test_rendered_markdown_has_no_active_content_and_only_web_or_mail_links(source: str) -> None:
    html = render_markdown(source)
    assert active_content(html) == []
    for href in HREF.findall(html):
        scheme = SCHEME.match(href)
        assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto", "tel"}, href
