"""Photograph the README's screenshots from the demo data: `make screenshots`.

Loads `guanxi demo` (2,000 contacts, with its order history and scores) into a temporary GUANXI_HOME, serves
it, logs in as the demo's sales manager in Chinese and photographs a few pages into this folder. Needs
Debian's chromium and fonts-noto-cjk (without the fonts Chinese shows as boxes).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository, for the helpers the benchmarks share
from bench.asgi_server import free_port, wait_http  # noqa: E402

BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("GUANXI_CHROMIUM", "/usr/bin/chromium")
# (file, path, what to wait for): the pages a newcomer should see first
PAGES = [
    ("accounts.png", "/accounts/", "#account-table"),
    ("account.png", None, "#timeline"),
    ("pipeline.png", "/sales/pipelines/", "#board"),
    ("value-risk.png", "/analytics/", "#value-risk-grid"),
    ("product-chart.png", "/analytics/charts/product/", "#chart-product .echart[data-ready]"),
    ("kpis.png", "/analytics/kpis/", ".kpi-trend canvas"),
]


def busiest_account(home: Path) -> int:
    """The account with the most follow-up activities among those with orders: a full 360° page."""
    with sqlite3.connect(home / "guanxi.sqlite3") as db:
        return db.execute("SELECT account_id FROM activities_activity WHERE account_id IN "
                          "(SELECT account_id FROM sales_order) GROUP BY account_id "
                          "ORDER BY count(*) DESC, account_id LIMIT 1").fetchone()[0]


def main() -> None:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="guanxi-shots-"))
    env = {**os.environ, "GUANXI_HOME": str(home), "GUANXI_SECRET_KEY": "screenshots-only"}
    env.pop("GUANXI_DATABASE_URL", None)
    subprocess.run([str(BIN / "guanxi"), "demo", "--no-serve"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([str(BIN / "guanxi"), "serve", "--port", str(port), "--no-mail-idle"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/accounts/login/")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--headless=new", "--no-sandbox", "--disable-gpu"])
            page = browser.new_context(base_url=base, locale="zh-CN",
                                       viewport={"width": 1366, "height": 900}).new_page()
            page.goto("/accounts/login/")
            page.fill("#id_username", "manager")
            page.fill("#id_password", "guanxi-demo")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for name, path, ready in PAGES:
                if path is None:
                    path = f"/accounts/{busiest_account(home)}/"
                page.goto(path)
                page.wait_for_selector(ready, state="attached")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(HERE / name), full_page=False)
                print(f"{name}: {path}")
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
