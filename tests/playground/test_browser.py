"""The playground in a real browser: Debian's Chromium driven by Playwright against a real server.

Outside CI a missing browser skips these tests with a message saying how to install it; under
``CI=true`` it fails them (``.ci/run`` installs Chromium when it is missing). Screenshots are saved
under ``tests/playground/artifacts/`` (ignored by git) to be looked at.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TIMEOUT = 30_000  # ms, for every wait below


def _missing(why: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}: under CI=true the browser tests must run (.ci/run installs chromium)")
    pytest.skip(f"{why}; install it with `apt-get update && apt-get install chromium` to run the "
                f"playground's browser tests")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        _missing("the playwright package is not installed")
    home = tmp_path_factory.mktemp("browser-home")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data")}
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                        else shutil.which("chromium"), args=ARGS, env=env)
        except Exception as error:  # noqa: BLE001 - a browser that will not start is "missing"
            _missing(f"Chromium did not start ({error})")
        yield browser
        browser.close()


@pytest.fixture
def page(browser, playground_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(TIMEOUT)
    page.errors = errors
    yield page
    context.close()
    assert not [e for e in errors if "favicon" not in e], errors


def _open(page, server, config: dict | None = None):
    url = server.url + ("#" + urllib.parse.quote(json.dumps(config)) if config else "")
    page.goto(url)
    page.wait_for_function("() => window.playground && window.playground.ready")
    return page


def _state(page, key: str):
    return page.evaluate(f"() => window.playground.{key}")


def _regions_pixels(page) -> np.ndarray:
    data = page.locator("canvas#regions").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    return np.asarray(data, dtype=np.uint8)


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _wait_step(page, at_least: int):
    page.wait_for_function(f"() => window.playground.frame && window.playground.frame.step >= {at_least}")


def _spirals(page):
    page.select_option("#dataset", "spirals")
    page.fill("#classes", "3")
    page.locator("#classes").dispatch_event("change")
    page.wait_for_function("() => window.playground.points && window.playground.points.classes === 3 "
                           "&& window.playground.config.data.dataset === 'spirals'")


def test_spirals_train_the_loss_falls_and_the_regions_change(page, playground_server):
    _open(page, playground_server)
    _spirals(page)
    page.wait_for_function("() => window.playground.frame && window.playground.frame.step === 0")
    before = _regions_pixels(page)
    first_loss = _state(page, "frame.train_loss")
    page.click("#start")
    page.wait_for_function(f"() => window.playground.frame.train_loss < {first_loss} * 0.9 "
                           f"&& window.playground.frame.step > 50")
    page.wait_for_timeout(300)
    after = _regions_pixels(page)
    assert np.mean(before != after) > 0.01, "the decision canvas did not change"
    shown = float(page.inner_text("#train-loss").split()[0])
    assert shown < first_loss
    _screenshot(page, "spirals-training")
    page.click("#pause")


def test_click_adds_a_point_and_shift_click_removes_one(page, playground_server):
    _open(page, playground_server)
    count = _state(page, "points.train.length + window.playground.points.valid.length")
    box = page.locator("canvas#regions").bounding_box()
    spot = {"x": box["width"] * 0.8, "y": box["height"] * 0.2}
    page.locator("canvas#regions").click(position=spot)
    page.wait_for_function(f"() => window.playground.points.train.length + "
                           f"window.playground.points.valid.length === {count + 1}")
    assert str(count + 1) in page.inner_text("#point-count")
    # the point landed where the click was: x1 > 0 and x2 > 0 in the plane [-6, 6]²
    x1, x2, _ = page.evaluate(
        "() => window.playground.points.train[window.playground.points.train.length - 1]")
    assert abs(x1 - (-6 + 12 * 0.8)) < 0.3 and abs(x2 - (6 - 12 * 0.2)) < 0.3
    page.locator("canvas#regions").click(position=spot, modifiers=["Shift"])
    page.wait_for_function(f"() => window.playground.points.train.length + "
                           f"window.playground.points.valid.length === {count}")


def test_pause_stops_the_step_counter_and_step_advances_it_by_one(page, playground_server):
    _open(page, playground_server)
    page.click("#start")
    _wait_step(page, 20)
    page.click("#pause")
    page.wait_for_function("() => window.playground.state && window.playground.state.running === false")
    page.wait_for_timeout(300)
    paused_at = _state(page, "frame.step")
    page.wait_for_timeout(500)
    assert _state(page, "frame.step") == paused_at
    assert page.inner_text("#step-counter").strip().endswith(str(paused_at))
    page.click("#step")
    page.wait_for_function(f"() => window.playground.frame.step === {paused_at + 1}")
    page.wait_for_timeout(300)
    assert _state(page, "frame.step") == paused_at + 1


def test_changing_the_learning_rate_while_training_shows_in_the_lr_curve(page, playground_server):
    _open(page, playground_server)
    page.click("#start")
    _wait_step(page, 30)
    page.fill("#lr", "0.1234")
    page.locator("#lr").dispatch_event("change")
    page.wait_for_function("() => Math.abs(window.playground.frame.lr - 0.1234) < 1e-9")
    step = _state(page, "frame.step")
    assert step > 30  # no reset: the counter went on
    chart_before = page.locator("canvas#lr-chart").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    _wait_step(page, step + 20)
    page.wait_for_timeout(300)
    history = page.evaluate("() => window.playground.lrHistory")
    page.click("#pause")
    # the lr curve holds the old rate, then the new one
    assert any(abs(v - 0.01) < 1e-9 for v in history) and abs(history[-1] - 0.1234) < 1e-9
    chart_after = page.locator("canvas#lr-chart").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    assert chart_before != chart_after, "the lr chart did not redraw with the new rate"


def test_the_eigenvalue_button_shows_a_verdict(page, playground_server):
    _open(page, playground_server)
    page.click("#step")
    page.click("#eigen-button")
    page.wait_for_function("() => /minimum|saddle|plateau|maximum|not critical/i.test("
                           "document.getElementById('eigen-result').textContent)")


def test_a_race_of_sgd_and_adam_shows_two_panels_that_differ(page, playground_server):
    _open(page, playground_server)
    for box in page.locator("#race-optimizers input[type=checkbox]").all():
        if box.is_checked():
            box.uncheck()
    page.check("#race-optimizers input[value=sgd]")
    page.check("#race-optimizers input[value=adam]")
    page.click("#race-button")
    page.wait_for_function("() => window.playground.frame && window.playground.frame.race "
                           "&& window.playground.frame.race.length === 2")
    page.click("#start")
    page.wait_for_function("() => window.playground.frame.race.every(l => l.step >= 40)")
    page.click("#pause")
    page.wait_for_timeout(300)
    panels = page.locator("#race-panels canvas.race-panel")
    assert panels.count() == 2
    pixels = [np.asarray(panels.nth(i).evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")) for i in range(2)]
    assert np.mean(pixels[0] != pixels[1]) > 0.01, "the two race panels look the same"
    _screenshot(page, "race-sgd-adam")


def test_save_as_run_writes_a_folder_that_ravine_evaluate_reads(page, playground_server):
    _open(page, playground_server)
    page.click("#start")
    _wait_step(page, 50)
    page.click("#pause")
    page.click("#save-run")
    page.wait_for_function("() => document.getElementById('save-result').textContent.includes('/')")
    path = Path(page.text_content("#save-result").strip().split()[-1])
    assert path.is_dir(), path
    result = subprocess.run([sys.executable, "-m", "ravine.cli", "evaluate", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout


def test_reloading_the_url_restores_the_settings(page, playground_server):
    _open(page, playground_server)
    _spirals(page)
    page.select_option("#activation", "relu")
    page.locator("#activation").dispatch_event("change")
    page.wait_for_function("() => window.playground.config.network.activation === 'relu'")
    url = page.url
    assert "#" in url
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function("() => window.playground && window.playground.ready && window.playground.state")
    page.wait_for_function("() => window.playground.state.config.data.dataset === 'spirals' "
                           "&& window.playground.state.config.data.classes === 3 "
                           "&& window.playground.state.config.network.activation === 'relu'")
    assert page.input_value("#dataset") == "spirals"
    assert page.input_value("#activation") == "relu"
    _screenshot(page, "restored-from-url")


def test_screenshot_of_the_whole_page_looks_like_a_page(page, playground_server):
    from PIL import Image

    _open(page, playground_server)
    page.click("#start")
    _wait_step(page, 200)
    page.click("#pause")
    page.wait_for_timeout(300)
    png = page.screenshot(full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "playground.png").write_bytes(png)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape[0] > 600 and image.shape[1] > 1000
    assert image.std() > 20  # not a blank page
