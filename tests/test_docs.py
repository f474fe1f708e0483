"""The README documents every command, every table and every config key (sqlite-utils' test_docs idea)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.cli import cli
from monitor.config import CONFIG_KEYS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_command_documented(command: str) -> None:
    assert f"newsmon {command}" in README or f"`{command}`" in README


TABLES = ["outlets", "articles", "article_urls", "article_fetches", "crawl_runs", "articles_fts", "article_versions",
          "fetch_state", "frontier", "outlet_health", "alerts", "service", "schedule", "article_signatures",
          "lsh_bands", "similarity_params"]


@pytest.mark.parametrize("table", TABLES)
def test_table_documented(table: str) -> None:
    assert f"`{table}`" in README


@pytest.mark.parametrize("key", sorted({k for keys in CONFIG_KEYS.values() for k in keys}))
def test_config_key_documented(key: str) -> None:
    assert f"`{key}`" in README


def test_quick_start_is_two_commands() -> None:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_schema_column_documented(tmp_path: Path) -> None:
    from storage.db import open_database

    db = open_database(tmp_path / "x.db")
    try:
        for table in [t for t in TABLES if t != "articles_fts"]:
            for column in db[table].columns_dict:
                assert f"`{column}`" in README, f"{table}.{column} not documented in README"
    finally:
        db.close()
