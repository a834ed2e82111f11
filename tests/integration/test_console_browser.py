"""The ops console in a real browser: Debian's chromium driven by Selenium through
chromedriver (both installed by ``make venv``), against ``customs-watch console serve`` on the
seeded scenario in a real embedded ClickHouse, publishing its actions to the real broker.
Screenshots go to tests/artifacts/console/."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from ingest.broker.admin import create_topics, delete_topics
from ingest.broker.reader import read_to_end
from schemas.codecs import ALERT_ACTION
from schemas.settings import Settings
from tests.console_data import seed_warehouse
from tests.services import CLI, free_port

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
USERS = {"ana": ("analyst", "analyst-pass"), "lee": ("lead", "lead-password"),
         "vera": ("viewer", "viewer-pass")}  # fmt: skip


@dataclass
class Running:
    url: str
    settings: Settings
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def console(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    work = tmp_path_factory.mktemp("console")
    prefix = f"c{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "CUSTOMS_WATCH_KAFKA_BOOTSTRAP": bootstrap,
        "CUSTOMS_WATCH_TOPICS_PREFIX": prefix,
        "CUSTOMS_WATCH_TOPICS_PARTITIONS": "1",
        "CUSTOMS_WATCH_CLICKHOUSE_DSN": f"chdb://{work / 'clickhouse'}",
        "CUSTOMS_WATCH_CONSOLE_DB_URL": f"sqlite:///{work / 'console.db'}",
        "CUSTOMS_WATCH_CONSOLE_PORT": str(port),
        "CUSTOMS_WATCH_CONSOLE_REFRESH_S": "1",
    }
    settings = Settings(kafka={"bootstrap": bootstrap}, topics={"prefix": prefix, "partitions": 1})
    create_topics(settings)
    assert seed_warehouse(work / "clickhouse") > 20
    for name, (role, password) in USERS.items():
        subprocess.run(
            [CLI, "console", "user", "add", name, "--role", role, "--password-stdin"],
            input=password + "\n", env=env, text=True, check=True, capture_output=True,
        )  # fmt: skip
    log = work / "console.log"
    with log.open("wb") as out:
        process = subprocess.Popen([CLI, "console", "serve"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/login", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"console did not start:\n{log.read_text()}", pytrace=False)
            time.sleep(0.2)
    try:
        yield Running(url, settings, env, log)
    finally:
        process.terminate()
        process.wait(timeout=20)
        delete_topics(settings, settings.topics.all_names())


def browser() -> WebDriver:
    """Headless Debian chromium with a fresh profile and nothing fetched in the background."""
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "make venv installs chromium"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1100",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='cw-chromium-')}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    return driver


def shot(driver: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def press(driver: WebDriver, element_id: str) -> None:
    """Click a button that loads a page, and wait until the new page replaced the old."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 20).until(lambda _: _replaced(old))


def _replaced(old: WebElement) -> bool:
    """Is the old page's element gone? Chromium says so with a stale-element error, or,
    asked mid-navigation, with "Node with given id does not belong to the document"."""
    try:
        old.is_enabled()
    except WebDriverException:  # StaleElementReferenceException included
        return True
    return False


def log_in(driver: WebDriver, url: str, user: str) -> None:
    driver.get(url + "/")
    assert "/login" in driver.current_url
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(USERS[user][1])
    press(driver, "login")
    assert driver.find_element(By.ID, "whoami").text.startswith(user)


def test_an_analyst_triages_a_seeded_alert_and_a_lead_sees_it(console: Running) -> None:
    ana = browser()
    try:
        log_in(ana, console.url, "ana")
        shot(ana, "01-queue")
        Select(ana.find_element(By.ID, "f-rule")).select_by_value("battlefield_goods_to_high_risk")
        ana.find_element(By.ID, "f-party").send_keys("Keramzashchita")
        press(ana, "apply")
        assert "rule=battlefield_goods_to_high_risk" in ana.current_url
        assert "party=Keramzashchita" in ana.current_url
        # read the rows in one script call: the page's poller may replace them at any time
        rows = ana.execute_script(
            "return [...document.querySelectorAll('#queue tbody tr[data-alert]')]"
            ".map(r => [r.innerText, r.querySelector('a').href])"
        )
        assert rows and all("Keramzashchita" in text for text, _ in rows)
        assert all("battlefield goods to high risk" in text for text, _ in rows)
        shot(ana, "02-filtered")
        links = [link for _, link in rows]
        for link in links:  # the seeds give this importer two such alerts: find the ceramics
            ana.get(str(link))
            marks = [m.text for m in ana.find_elements(By.CSS_SELECTOR, ".description mark")]
            if "Boron carbide" in marks:
                break
        assert "Boron carbide" in marks
        alert_url = ana.current_url
        assert "CN → CN → RU" in ana.find_element(By.CSS_SELECTOR, ".route-path").text
        assert "armour" in ana.find_element(By.ID, "reason").text
        shot(ana, "03-alert")

        press(ana, "claim")
        assert "in review · ana" in ana.find_element(By.ID, "status").text
        ana.find_element(By.ID, "comment").send_keys("Supplier makes kiln linings, checking")
        press(ana, "add-comment")
        Select(ana.find_element(By.ID, "outcome-select")).select_by_value("false_positive")
        ana.find_element(By.ID, "close-comment").send_keys("Refractory powder, not armour")
        press(ana, "close")
        assert "closed" in ana.find_element(By.ID, "status").text
        trail = ana.find_element(By.ID, "trail").text
        for expected in ("claim", "comment", "close: false positive", "kiln linings",
                         "Refractory powder, not armour", "ana (analyst)"):  # fmt: skip
            assert expected in trail
        shot(ana, "04-closed-with-trail")
    finally:
        ana.quit()

    lee = browser()
    try:
        log_in(lee, console.url, "lee")
        lee.get(alert_url)
        assert "closed · ana" in lee.find_element(By.ID, "status").text
        assert lee.find_element(By.ID, "outcome").text == "false positive"
        assert "Refractory powder" in lee.find_element(By.ID, "trail").text
        lee.get(console.url + "/?status=closed")
        assert len(lee.find_elements(By.CSS_SELECTOR, "#queue tbody tr[data-alert]")) == 1
        shot(lee, "05-lead-sees-closed")
    finally:
        lee.quit()

    # the three actions reach <prefix>.alert-actions through the outbox
    alert_id = alert_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    actions: list[str] = []
    while time.monotonic() < deadline:
        records = list(read_to_end(console.settings, console.settings.topics.alert_actions))
        events = [ALERT_ACTION.decode(r.value) for r in records]
        actions = [e.action for e in events if e.alert_id == alert_id]
        if len(actions) >= 3:
            break
        time.sleep(1)
    assert actions == ["claim", "comment", "close"], console.log.read_text()[-2000:]


def test_a_viewer_cannot_act_and_a_form_without_its_csrf_token_is_refused(
    console: Running,
) -> None:
    vera = browser()
    try:
        log_in(vera, console.url, "vera")
        vera.get(console.url + "/?status=all")
        vera.get(
            vera.find_element(By.CSS_SELECTOR, "#queue tbody tr[data-alert] a").get_attribute(
                "href"
            )
            or ""
        )
        vera.implicitly_wait(0)
        assert vera.find_elements(By.ID, "claim") == []
        assert vera.find_elements(By.ID, "comment") == []
        assert "viewers cannot change it" in vera.find_element(By.ID, "readonly").text
        shot(vera, "06-viewer")
    finally:
        vera.quit()

    ana = browser()
    try:
        log_in(ana, console.url, "ana")
        ana.get(
            ana.find_element(By.CSS_SELECTOR, "#queue tbody tr[data-alert] a").get_attribute("href")
            or ""
        )
        before = ana.find_element(By.ID, "trail").text
        ana.execute_script("document.querySelector('#comment-form input[name=csrf]').remove();")
        ana.find_element(By.ID, "comment").send_keys("this should not be recorded")
        press(ana, "add-comment")
        assert "CSRF" in ana.find_element(By.ID, "message").text
        shot(ana, "07-csrf-refused")
        ana.back()
        ana.refresh()
        assert ana.find_element(By.ID, "trail").text == before
    finally:
        ana.quit()


def test_the_queue_shows_another_users_change_without_reloading(console: Running) -> None:
    ana, lee = browser(), browser()
    try:
        log_in(ana, console.url, "ana")
        ana.get(console.url + "/?rule=sanctioned_party")
        first = ana.execute_script(
            "const r = document.querySelector('#queue tbody tr[data-alert]');"
            "return [r.dataset.alert, r.querySelector('.status').innerText];"
        )
        alert_id, status = first
        assert status == "new"
        marker = ana.execute_script("window.notReloaded = true; return window.notReloaded;")
        assert marker is True

        log_in(lee, console.url, "lee")
        lee.get(f"{console.url}/alerts/{alert_id}")
        press(lee, "claim")
        assert "in review · lee" in lee.find_element(By.ID, "status").text

        def row_status(driver: WebDriver) -> str:
            return str(
                driver.execute_script(
                    "return document.querySelector("
                    f"'#queue tbody tr[data-alert=\"{alert_id}\"] .status').innerText;"
                )
            )

        WebDriverWait(ana, 30, poll_frequency=0.5).until(lambda d: row_status(d) == "in review")
        assert ana.execute_script("return window.notReloaded === true;")
        shot(ana, "08-queue-refreshed")
    finally:
        ana.quit()
        lee.quit()
