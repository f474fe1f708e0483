"""Tests of crawlers/language.py: deterministic langdetect with the outlet's hint as fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.language import MIN_CHARS, LanguageResult, detect_language

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = {
    "fr": "Le gouvernement a annoncé mardi une série de mesures destinées à soutenir les agriculteurs "
          "touchés par la sécheresse, après plusieurs semaines de manifestations dans les campagnes du "
          "sud du pays.",
    "en": "The government announced on Tuesday a series of measures intended to support farmers affected "
          "by the drought, after several weeks of protests in the countryside of the southern part of "
          "the country.",
    "es": "El gobierno anunció el martes una serie de medidas destinadas a apoyar a los agricultores "
          "afectados por la sequía, después de varias semanas de protestas en las zonas rurales del sur "
          "del país.",
    "de": "Die Regierung hat am Dienstag eine Reihe von Maßnahmen angekündigt, mit denen die von der "
          "Dürre betroffenen Landwirte nach mehreren Wochen der Proteste im Süden des Landes unterstützt "
          "werden sollen.",
}
CHINESE = ("政府星期二宣布了一系列措施，以支持受干旱影响的农民。此前，该国南部农村地区发生了数周的抗议活动。"
           "官员表示，这些措施将在下个月开始实施。")

# Texts on which an unseeded langdetect gives different answers from run to run.
AMBIGUOUS = {
    "capitals": "Paris Berlin Madrid London Roma Lisboa Wien Praha Oslo Bern Dublin",
    "mixed": "Le football est un sport populaire in the world y en España también",
}


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_detects_language_of_a_sentence(code: str) -> None:
    result = detect_language(SENTENCES[code])
    assert (result.code, result.source) == (code, "detected")
    assert result.confidence is not None and result.confidence >= 0.8


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_confident_detection_ignores_a_wrong_hint(code: str) -> None:
    wrong = "fi"
    assert detect_language(SENTENCES[code], hint=wrong).code == code


def test_chinese_is_normalised_to_zh() -> None:
    result = detect_language(CHINESE)
    assert (result.code, result.source) == ("zh", "detected")


@pytest.mark.parametrize("text", list(AMBIGUOUS.values()) + [SENTENCES["fr"]], ids=[*AMBIGUOUS, "fr"])
def test_same_text_same_result_every_time(text: str) -> None:
    results = {detect_language(text) for _ in range(20)}
    assert len(results) == 1


def test_same_result_in_a_fresh_interpreter() -> None:
    texts = [*AMBIGUOUS.values(), SENTENCES["de"]]
    code = (
        "import sys, json\n"
        "from crawlers.language import detect_language\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps([list(detect_language(t).__dict__.values()) for t in texts]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "random"}
    runs = [
        subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=60, check=True).stdout
        for _ in range(2)
    ]
    here = [[r.code, r.confidence, r.source] for r in map(detect_language, texts)]
    assert json.loads(runs[0]) == json.loads(runs[1]) == here


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param("Bonjour à tous", "fr", id="short-text"),
        pytest.param("", "en", id="empty-text"),
        pytest.param("12345 67890 12345 67890 12345 67890 12345 67890 123", "fr", id="digits-only"),
        pytest.param(AMBIGUOUS["mixed"], "fr", id="unsure-detection"),
    ],
)
def test_hint_used_when_unsure(text: str, hint: str) -> None:
    result = detect_language(text, hint=hint)
    assert (result.code, result.source) == (hint, "hint")


def test_unsure_detection_keeps_its_probability_with_the_hint() -> None:
    detected = detect_language(AMBIGUOUS["mixed"])
    assert detected.confidence is not None and detected.confidence < 0.8
    assert detect_language(AMBIGUOUS["mixed"], hint="fr").confidence == detected.confidence


def test_unsure_detection_without_hint_keeps_the_best_guess() -> None:
    result = detect_language(AMBIGUOUS["mixed"])
    assert result.code is not None and result.source == "detected"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t ", id="blank"),
        pytest.param("Bonjour", id="short"),
        pytest.param("x" * (MIN_CHARS - 1), id="just-below-min"),
        pytest.param("12345 67890 12345 67890 12345 67890 12345 67890 123", id="no-letters"),
    ],
)
def test_no_language_without_text_or_hint(text: str) -> None:
    assert detect_language(text) == LanguageResult(None, None, None)
