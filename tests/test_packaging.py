"""pyproject lists its packages explicitly (`monitor` and `storage` are generic names): keep it whole."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("crawlers", "monitor", "storage")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed


def test_every_spider_module_imports() -> None:
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    settings = Settings()
    settings.setmodule("crawlers.settings")
    assert "outlet" in SpiderLoader.from_settings(settings).list()
