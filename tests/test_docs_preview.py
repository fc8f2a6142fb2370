"""Drive headless Chromium over every page of the offline docs preview (`make docs` without Quarto).

Each page must load, show its title, contain its figures, and show no error output, traceback or
leftover Quarto attribute text; screenshots of the index and of the first page of each sidebar section
are saved to _preview/screenshots/. Skips, saying why, when Chromium, ChromeDriver or selenium is
missing (CI installs them: see .ci/run).
"""
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from preview import OUT, PROC, prepared_notebook, sidebar_pages, sidebar_sections  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")


def _expected_figures(nb_name):
    nb, _, _ = prepared_notebook(PROC / nb_name)
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


@pytest.fixture(scope="module")
def browser():
    if not (OUT / "index.html").exists():
        pytest.fail("no preview to test: run `make docs` first (it builds _preview/ when Quarto is absent)")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


PAGES = sidebar_pages(PROC) if (PROC / "sidebar.yml").exists() else []
# Screenshots for the record: the index and the first page of each sidebar section (the course, engineering).
SHOTS = ({"index.ipynb"} | {names[0] for title, names in sidebar_sections(PROC) if title and names}
         if (PROC / "sidebar.yml").exists() else set())


def test_preview_has_every_page():
    assert PAGES, "no _proc/sidebar.yml: run `make docs` first"
    for name in PAGES:
        html_name = "index.html" if name == "index.ipynb" else name.replace(".ipynb", ".html")
        assert (OUT / html_name).exists(), html_name


@pytest.mark.parametrize("nb_name", PAGES)
def test_page_renders_in_chromium(browser, nb_name):
    from selenium.webdriver.common.by import By
    html_name = "index.html" if nb_name == "index.ipynb" else nb_name.replace(".ipynb", ".html")
    browser.get((OUT / html_name).as_uri())
    _, title, _ = prepared_notebook(PROC / nb_name)
    assert browser.title == title
    heading = browser.find_element(By.CSS_SELECTOR, "h1.title")
    assert heading.is_displayed() and heading.text == title
    images = browser.find_elements(By.CSS_SELECTOR, "#preview-main img")
    assert len(images) >= _expected_figures(nb_name)
    for img in images:  # each figure actually decoded and has a size
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)
    text = browser.find_element(By.TAG_NAME, "body").text
    for marker in ("Traceback (most recent call last)", "Error in notebook"):
        assert marker not in text, f"{nb_name} shows an error"
    leftover = re.search(r"\{(target|style)=|\]\([^)\s]*\)\{", text)  # Quarto attributes shown as text
    assert leftover is None, f"{nb_name} shows Quarto attribute text: {text[max(0, leftover.start() - 40):leftover.end() + 40]!r}"
    assert not browser.find_elements(By.CSS_SELECTOR, ".output_error, .jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    links = browser.find_elements(By.CSS_SELECTOR, "#preview-sidebar a")
    assert len(links) == len(PAGES)
    if nb_name in SHOTS:
        shots = OUT / "screenshots"
        shots.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(shots / (nb_name.replace(".ipynb", ".png"))))


def test_parameters_render_as_tables(browser):
    "show_doc's parameter tables (settings.ini's renderer, nbs/91_doc_tables.ipynb) reach the preview as HTML tables."
    from selenium.webdriver.common.by import By
    browser.get((OUT / "01_attend.html").as_uri())
    text_of = lambda element: element.get_attribute("textContent").strip()  # the DOM's text, not what is on screen
    tables = [t for t in browser.find_elements(By.CSS_SELECTOR, "#preview-main table")
              if [text_of(th) for th in t.find_elements(By.TAG_NAME, "th")] == ["", "Type", "Default", "Details"]]
    assert len(tables) >= 5, f"{len(tables)} parameter tables on 01_attend"
    rows = {}
    for table in tables:
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
            cells = [text_of(td) for td in row.find_elements(By.TAG_NAME, "td")]
            rows[cells[0]] = cells
    assert "neighbouring chunks" in rows["n_chunks_before"][3], rows.get("n_chunks_before")
    assert "Returns" in rows
