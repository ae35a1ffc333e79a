"""Debian's Chromium for the browser tests, driven by Playwright (no browser is downloaded):
where it is, the flags it runs with, and one browser started and closed again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
]
# WebGL (Annotorious' layer, three.js) through SwiftShader: WebGL 2 renders without a GPU.
WEBGL = [*HEADLESS, "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@contextlib.asynccontextmanager
async def launched(args: Sequence[str] = WEBGL) -> AsyncIterator[Any]:
    """One Chromium, closed again on leaving."""
    from playwright.async_api import async_playwright

    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install -y chromium"  # noqa: ASYNC240
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        try:
            yield browser
        finally:
            await browser.close()
