"""Tests of crawlers/urls.py: the canonical form every stored URL takes."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawlers.urls import canonical_url, host_of, is_tracking_param
from tests._profiles import property_settings

# Deterministic examples, no example database written next to the project (profile "ci";
# HYPOTHESIS_PROFILE=fuzz for many more, see tests/_profiles.py).
PROPERTY = property_settings(300)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://WWW.Example.COM/a", "https://www.example.com/a", id="host-lower-cased"),
        pytest.param("HTTPS://example.com/a", "https://example.com/a", id="scheme-lower-cased"),
        pytest.param("https://example.com/Path/To", "https://example.com/Path/To", id="path-case-kept"),
        pytest.param("https://example.com/a#comments", "https://example.com/a", id="fragment-dropped"),
        pytest.param("https://example.com/a?id=3#x", "https://example.com/a?id=3", id="fragment-dropped-query-kept"),
        pytest.param("https://example.com", "https://example.com/", id="empty-path-becomes-slash"),
        pytest.param("  https://example.com/a \n", "https://example.com/a", id="surrounding-space-stripped"),
    ],
)
def test_canonical_url_normalises_scheme_host_and_fragment(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "param",
    [
        pytest.param("utm_source=rss", id="utm_source"),
        pytest.param("utm_medium=social", id="utm_medium"),
        pytest.param("utm_campaign=spring", id="utm_campaign"),
        pytest.param("utm_content=top", id="utm_content"),
        pytest.param("utm_term=x", id="utm_term"),
        pytest.param("UTM_Source=rss", id="utm-upper-case"),
        pytest.param("fbclid=IwAR0abc", id="fbclid"),
        pytest.param("gclid=EAIaIQ", id="gclid"),
        pytest.param("xtor=RSS-3208", id="xtor"),
    ],
)
def test_canonical_url_drops_tracking_parameter(param: str) -> None:
    assert canonical_url(f"https://example.com/a?id=7&{param}") == "https://example.com/a?id=7"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://x.org/a?id=3", "https://x.org/a?id=3", id="id-kept"),
        pytest.param("https://x.org/a?amp=1", "https://x.org/a?amp=1", id="amp-kept"),
        pytest.param("https://x.org/a?z=1&id=3&amp=1", "https://x.org/a?amp=1&id=3&z=1", id="sorted"),
        pytest.param(
            "https://x.org/a?z=1&utm_source=x&id=3&fbclid=f&amp=1&gclid=g&xtor=RSS",
            "https://x.org/a?amp=1&id=3&z=1",
            id="mixed-trackers-dropped-rest-sorted",
        ),
        pytest.param("https://x.org/a?page=2&page=1", "https://x.org/a?page=1&page=2", id="repeated-param-kept"),
        pytest.param("https://x.org/a?utm_source=x", "https://x.org/a", id="only-trackers-no-question-mark"),
    ],
)
def test_canonical_url_keeps_and_sorts_other_parameters(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        pytest.param("utm_source", True, id="utm_source"),
        pytest.param("fbclid", True, id="fbclid"),
        pytest.param("gclid", True, id="gclid"),
        pytest.param("xtor", True, id="xtor"),
        pytest.param("at_medium", True, id="extra-at_medium"),
        pytest.param("SMID", True, id="extra-case-insensitive"),
        pytest.param("id", False, id="id"),
        pytest.param("amp", False, id="amp"),
        pytest.param("page", False, id="page"),
        pytest.param("q", False, id="q"),
    ],
)
def test_is_tracking_param(name: str, tracking: bool) -> None:
    assert is_tracking_param(name) is tracking


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("HTTPS://WWW.Example.COM/a/b?z=1&utm_source=x&id=3&amp=1#frag", id="messy"),
        pytest.param("https://x.org/caf%C3%A9?q=caf%C3%A9", id="percent-encoded"),
        pytest.param("https://x.org/café?q=été", id="non-ascii"),
        pytest.param("https://x.org/a b?q=a b", id="spaces"),
        pytest.param("https://x.org/?amp", id="blank-value"),
        pytest.param("not a url", id="not-a-url"),
        pytest.param("", id="empty"),
        pytest.param("http://[::1", id="broken-ipv6"),
    ],
)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://[::1", id="broken-ipv6"),
        pytest.param("http://x.org:notaport/", id="bad-port"),
        pytest.param("http://x.org/\udce9", id="lone-surrogate"),
        pytest.param("\x00", id="nul"),
        pytest.param("::::", id="colons"),
    ],
)
def test_canonical_url_never_raises_on_unparseable_input(url: str) -> None:
    assert isinstance(canonical_url(url), str)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://\\", id="scheme-backslash"),
        pytest.param("http:///\\a", id="empty-host-backslash-path"),
        pytest.param("http://://", id="empty-host-colon"),
    ],
)
def test_canonical_url_is_idempotent_on_hostless_urls(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@PROPERTY
@given(st.text())
def test_canonical_url_property_arbitrary_text(text: str) -> None:
    once = canonical_url(text)
    assert isinstance(once, str)
    assert canonical_url(once) == once


_HOSTS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True)
_PARAM = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)


@PROPERTY
@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=_HOSTS,
    upper=st.booleans(),
    path=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="/?#\\\x00"), max_size=10), max_size=4),
    query=st.lists(st.tuples(st.sampled_from(["id", "utm_source", "fbclid", "q", "amp", "page"]), _PARAM), max_size=4),
    fragment=st.text(max_size=8),
)
def test_canonical_url_property_generated_http_urls(
    scheme: str, host: str, upper: bool, path: list[str], query: list[tuple[str, str]], fragment: str
) -> None:
    url = f"{scheme}://{host.upper() if upper else host}/{'/'.join(quote(p) for p in path)}"
    if query:
        url += "?" + urlencode(query)
    if fragment:
        url += "#" + quote(fragment)
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert urlsplit(once).netloc == host  # kept, and lower-cased
    assert host_of(once) == host
    assert "#" not in once
    assert "utm_source=" not in once and "fbclid=" not in once
