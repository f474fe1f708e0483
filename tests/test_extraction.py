"""Tests of crawlers/extraction.py: article text and metadata out of hand-written news pages."""

from __future__ import annotations

import json

import pytest

from crawlers.extraction import MIN_TEXT_CHARS, decode_html, decode_page, extract_page, looks_binary

URL = "https://www.quotidien.example/monde/2024/03/01/la-secheresse-frappe-le-sud?utm_source=rss"
TITLE = "La sécheresse frappe le sud du pays"

BODY = [
    "Les agriculteurs du sud de la France font face à une sécheresse sans précédent depuis le début de "
    "l'hiver, selon les services météorologiques nationaux qui ont publié leur bilan mardi matin.",
    "Dans l'Hérault, les nappes phréatiques atteignent des niveaux historiquement bas et plusieurs "
    "communes ont déjà imposé des restrictions d'eau strictes aux particuliers comme aux exploitants.",
    "Le ministre de l'Agriculture a promis une aide d'urgence de cent millions d'euros, une somme que les "
    "syndicats agricoles jugent largement insuffisante face à l'ampleur des pertes attendues.",
    "Les prévisionnistes n'attendent pas de pluies significatives avant la fin du mois d'avril, ce qui "
    "fait craindre une saison catastrophique pour les cultures de printemps.",
]

# Boilerplate written as prose, long enough that only pruning (not trafilatura's length rules) removes it.
BOILERPLATE = {
    "nav": "Rubriques du site : Accueil, Monde, Politique, Économie, Sport, Culture",
    "cookie": "Nous utilisons des cookies et des technologies similaires pour mesurer l'audience de notre "
              "site et vous proposer des publicités personnalisées selon vos centres d'intérêt.",
    "figcaption": "Un champ desséché près de Montpellier, photographié mardi par notre envoyé spécial dans "
                  "la région, où les températures dépassent largement les normales de saison.",
    "share": "Partager cet article",
    "share-prose": "Envoyez cet article à vos proches et à vos amis sur les réseaux sociaux, par courriel "
                   "ou par message privé pour les informer de cette actualité importante.",
    "read-also": "À lire aussi : les vignerons du Languedoc sont très inquiets pour la prochaine récolte, "
                 "qui pourrait être la plus faible depuis plus de trente ans selon la chambre d'agriculture.",
    "related": "Sur le même sujet, les éleveurs de la Creuse manquent de fourrage pour leurs troupeaux "
               "depuis le mois de janvier et demandent une aide exceptionnelle de l'État.",
    "newsletter": "Inscrivez-vous gratuitement à notre newsletter quotidienne pour recevoir chaque matin "
                  "toute l'actualité de la région directement dans votre boîte mail.",
    "comments": "Commentaire de Paul : c'est scandaleux, le gouvernement ne fait rien pour nous aider "
                "depuis des années, et les prix continuent d'augmenter partout dans la région.",
    "footer": "© 2024 Le Quotidien — Mentions légales — Tous droits réservés — Plan du site",
}
PROMO = ("Offre spéciale abonnés : profitez de trois mois d'accès illimité à tous nos articles et à nos "
         "archives pour seulement un euro, sans engagement de durée.")

JSON_LD = {
    "@context": "https://schema.org",
    "@type": "NewsArticle",
    "headline": TITLE,
    "datePublished": "2024-03-01T07:00:00Z",
    "dateModified": "2024-03-01T12:15:00+01:00",
    "author": [{"@type": "Person", "name": "Marie Curie"}, {"@type": "Person", "name": " Jean Moulin "}],
}


def news_page(*, json_ld: dict | None = JSON_LD, head_extra: str = "", h1: str = TITLE) -> str:
    b = BOILERPLATE
    ld = f'<script type="application/ld+json">{json.dumps(json_ld)}</script>' if json_ld else ""
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>{TITLE} | Le Quotidien</title>
<link rel="canonical" href="/monde/2024/03/01/la-secheresse-frappe-le-sud">
{ld}{head_extra}
</head><body>
<header><nav><p>{b["nav"]}</p><ul><li><a href="/">Accueil</a></li><li><a href="/monde/">Monde</a></li></ul></nav></header>
<div class="cookie-banner" id="cookie-consent"><p>{b["cookie"]}</p><button>Tout accepter</button></div>
<main><article>
<h1>{h1}</h1>
<figure><img src="/img/champ.jpg" alt=""><figcaption>{b["figcaption"]}</figcaption></figure>
<div class="share"><p>{b["share"]}</p><p>{b["share-prose"]}</p><a href="#">Facebook</a> <a href="#">X</a></div>
<p>{BODY[0]}</p>
<p>{BODY[1]}</p>
<div class="read-also"><p>{b["read-also"]}</p></div>
<p>{BODY[2]}</p>
<div class="related"><p>{b["related"]}</p></div>
<div class="newsletter-box"><p>{b["newsletter"]}</p><input type="email"></div>
<div class="paywall-promo"><p>{PROMO}</p></div>
<p>{BODY[3]}</p>
</article>
<section id="comments" class="comments"><h2>Commentaires</h2><div class="comment"><p>{b["comments"]}</p></div></section>
</main>
<footer><p>{b["footer"]}</p></footer>
</body></html>"""


@pytest.fixture(scope="module")
def extracted():
    result = extract_page(news_page(), URL)
    assert result is not None
    return result


@pytest.mark.parametrize("sentence", BODY, ids=[f"paragraph-{i}" for i in range(len(BODY))])
def test_body_sentences_present(extracted, sentence: str) -> None:
    assert sentence in extracted.text


@pytest.mark.parametrize("name", sorted(BOILERPLATE))
def test_boilerplate_absent(extracted, name: str) -> None:
    assert BOILERPLATE[name] not in extracted.text


@pytest.mark.parametrize("word", ["Partager", "À lire aussi", "newsletter", "Commentaire", "cookies", "©"])
def test_boilerplate_words_absent(extracted, word: str) -> None:
    assert word not in extracted.text


def test_paragraph_order_kept(extracted) -> None:
    positions = [extracted.text.index(s) for s in BODY]
    assert positions == sorted(positions)


def test_title(extracted) -> None:
    assert extracted.title == TITLE


def test_leading_h1_not_repeated_in_text(extracted) -> None:
    assert not extracted.text.startswith(TITLE)
    assert extracted.text.startswith(BODY[0])


def test_author_from_json_ld_list(extracted) -> None:
    assert extracted.author == "Marie Curie; Jean Moulin"


def test_canonical_url_resolved_against_page_url(extracted) -> None:
    assert extracted.canonical_url == "https://www.quotidien.example/monde/2024/03/01/la-secheresse-frappe-le-sud"


def test_dates_from_json_ld(extracted) -> None:
    assert (extracted.published_at, extracted.modified_at, extracted.date_source) == (
        "2024-03-01T07:00:00Z", "2024-03-01T11:15:00Z", "json-ld",
    )


def test_outlet_exclude_xpath_removes_its_block() -> None:
    assert PROMO in extract_page(news_page(), URL).text  # trafilatura alone keeps it
    result = extract_page(news_page(), URL, exclude_xpaths=["//div[contains(@class, 'paywall-promo')]"])
    assert PROMO not in result.text
    assert all(s in result.text for s in BODY)


@pytest.mark.parametrize(
    "h1",
    [
        pytest.param(TITLE, id="same"),
        pytest.param(f"  {TITLE.replace(' ', '   ')}\n", id="odd-spacing"),
        pytest.param(TITLE.upper(), id="other-case"),
    ],
)
def test_leading_h1_dropped_despite_spacing_or_case(h1: str) -> None:
    result = extract_page(news_page(h1=h1), URL)
    assert result.text.startswith(BODY[0])


def test_leading_h1_dropped_when_og_title_differs() -> None:
    page = news_page(head_extra='<meta property="og:title" content="Sécheresse : le sud en alerte rouge">')
    result = extract_page(page, URL)
    assert result.text.startswith(BODY[0])


def test_meta_date_with_outlet_timezone_when_no_json_ld() -> None:
    page = news_page(json_ld=None,
                     head_extra='<meta property="article:published_time" content="2024-01-15T10:00:00">')
    result = extract_page(page, URL, timezone="Europe/Paris")
    assert (result.published_at, result.date_source) == ("2024-01-15T09:00:00Z", "meta")


def test_hints_fill_gaps_but_never_override() -> None:
    hints = {"title": "Feed title", "author": "Feed Author", "feed_published_at": "2024-02-01T00:00:00Z"}
    result = extract_page(news_page(), URL, hints=hints)
    assert (result.title, result.author, result.date_source) == (TITLE, "Marie Curie; Jean Moulin", "json-ld")


def test_hints_used_when_page_has_none() -> None:
    page = news_page(json_ld=None).replace(
        "/monde/2024/03/01/la-secheresse-frappe-le-sud", "/monde/la-secheresse-frappe-le-sud"
    )
    result = extract_page(page, "https://www.quotidien.example/monde/la-secheresse-frappe-le-sud",
                          hints={"author": "Feed Author", "feed_published_at": "2024-02-01T00:00:00Z"})
    assert (result.author, result.published_at, result.date_source) == (
        "Feed Author", "2024-02-01T00:00:00Z", "feed",
    )


SENTENCE = "Les agriculteurs du sud font face à une sécheresse sans précédent depuis le début de l'hiver. "
CAPTION_ONLY = """<html><head><title>Vidéo : le discours du président</title></head><body><article>
<h1>Vidéo : le discours du président</h1>
<figure><video src="/v.mp4"></video><figcaption>Le président s'exprime devant la presse à l'Élysée.</figcaption></figure>
<p>Regardez la vidéo de son intervention.</p></article></body></html>"""


@pytest.mark.parametrize(
    "html",
    [
        pytest.param(CAPTION_ONLY, id="caption-only"),
        pytest.param(f"<html><body><article><p>{SENTENCE * 2}</p></article></body></html>", id="two-sentences"),
        pytest.param("", id="empty-str"),
        pytest.param(b"", id="empty-bytes"),
        pytest.param("plain text, no markup", id="plain-text"),
        pytest.param(b"\x00\x01\x02\xff", id="binary"),
        pytest.param("<html></html>", id="empty-html"),
    ],
)
def test_no_article_text_is_none(html: str | bytes) -> None:
    assert extract_page(html, "https://x.org/video/discours") is None


def test_min_text_chars_boundary() -> None:
    assert len(SENTENCE * 2) < MIN_TEXT_CHARS < len(SENTENCE * 3)
    html = f"<html><body><article><p>{SENTENCE * 3}</p></article></body></html>"
    assert extract_page(html, "https://x.org/monde/la-secheresse-du-sud").text == (SENTENCE * 3).strip()


# --- encodings -----------------------------------------------------------------------------------

CP1252_PAGE = (
    '<html><head><meta charset="windows-1252"><title>Café</title></head>'
    "<body><p>Le café de Müller à España coûte 3 € — « cher ».</p></body></html>"
)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(CP1252_PAGE.encode("cp1252"), None, id="meta-charset"),
        pytest.param(CP1252_PAGE.replace('<meta charset="windows-1252">',
                                         '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">')
                     .encode("cp1252"), None, id="meta-http-equiv"),
        pytest.param(CP1252_PAGE.encode("cp1252"), "text/html; charset=windows-1252", id="http-header"),
    ],
)
def test_decode_html_windows_1252(body: bytes, content_type: str | None) -> None:
    text = decode_html(body, content_type)
    assert "Le café de Müller à España coûte 3 € — « cher »." in text


def test_decode_html_bom_beats_meta() -> None:
    body = b"\xef\xbb\xbf<meta charset='windows-1252'><p>" + "été".encode() + b"</p>"
    assert "<p>été</p>" in decode_html(body)


def test_extract_page_bytes_in_windows_1252() -> None:
    page = news_page().replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    page = page.replace(BODY[3], BODY[3] + " Müller, España.")
    result = extract_page(page.encode("cp1252"), URL)
    assert "Müller, España." in result.text
    assert BODY[0] in result.text  # é, à decoded


@pytest.mark.parametrize(("body", "content_type", "binary"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "text/html", True),
    (b"%PDF-1.7\n", "text/html", True),
    (b"\x1f\x8b\x08\x00", None, True),
    (b"<html>\x00</html>", "text/html", True),
    ("<html>é</html>".encode("utf-16"), "text/html", False),  # BOM
    ("<html>é</html>".encode("utf-16-le"), "text/html; charset=UTF-16LE", False),
    ("<html><p>café</p></html>".encode(), "text/html", False),
])
def test_looks_binary(body: bytes, content_type: str | None, binary: bool) -> None:
    assert looks_binary(body, content_type) is binary


@pytest.mark.parametrize(("body", "content_type", "text", "mismatch"), [
    ("<p>Déjà vu</p>".encode(), "text/html; charset=iso-8859-1", "<p>Déjà vu</p>", True),
    ("<p>Déjà “vu” 5 €</p>".encode("cp1252"), "text/html; charset=utf-8", "<p>Déjà “vu” 5 €</p>", True),
    ("<p>Déjà vu</p>".encode("cp1252"), "text/html; charset=iso-8859-1", "<p>Déjà vu</p>", False),
    ("<p>Déjà vu</p>".encode(), "text/html; charset=utf-8", "<p>Déjà vu</p>", False),
    (b"<p>plain ascii</p>", "text/html; charset=iso-8859-1", "<p>plain ascii</p>", False),
    ("<p>Déjà vu</p>".encode("cp1252"), None, "<p>Déjà vu</p>", False),  # no declaration: not UTF-8
])
def test_decode_page_believes_the_bytes_over_a_wrong_header(
    body: bytes, content_type: str | None, text: str, mismatch: bool
) -> None:
    decoded = decode_page(body, content_type)
    assert decoded.text == text
    assert bool(decoded.mismatch) is mismatch
