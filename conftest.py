"""pytest configuration shared by the notebook tests (nbval) and the plain tests.

nbdev_clean stores every notebook with `execution_count: null`, which nbval reads as
"this cell was never run" and rejects when the cell has outputs. Our notebooks keep
their outputs on purpose (they are the docs and the regression fixtures), so here we
mark such cells as run. We also skip exactly the cells that `nbdev_test` skips:
`#| eval: false` cells, cells carrying one of the `tst_flags` from settings.ini, and
whole notebooks whose front matter says `skip_exec: true`.

Each notebook's cells share one kernel and run in order, so under pytest-xdist `make test` uses
`--dist loadfile`: a notebook (a file) goes to one worker. (`--dist loadgroup` with `xdist_group`
marks would spread plain tests more finely, but pytest-xdist 3.8 under pytest 9 does not keep a
group on one worker: checked with a two-test group, which it split.)
"""
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent


def _tst_flags():
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini")
    return cfg["DEFAULT"].get("tst_flags", "").split()


_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*(.*)$")


def _directives(source):
    "The nbdev `#|` directives of a cell, as a list of lists of words."
    found = []
    for line in source.splitlines():
        m = _DIRECTIVE.match(line)
        if m:
            found.append(m.group(1).replace(":", " : ").split())
        elif line.strip():
            break
    return found


def nbdev_skips(source, flags):
    "Why `nbdev_test` would not run a cell with this source, or None if it would run it."
    for words in _directives(source):
        if words[:3] == ["eval", ":", "false"]:
            return "#| eval: false"
        if words and words[0] in flags:
            return f"#| {words[0]} (a tst_flag: run it with `nbdev_test --flags {words[0]}`)"
    return None


def _skips_whole_notebook(nb):
    for cell in nb.cells:
        if cell.cell_type == "raw" or (cell.cell_type == "markdown" and cell.source.startswith("---")):
            if re.search(r"^skip_exec:\s*true\s*$", cell.source, re.M):
                return True
    return False


def pytest_collection_modifyitems(config, items):
    flags = _tst_flags()
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None:  # not an nbval cell
            continue
        if _skips_whole_notebook(item.parent.nb):
            item.add_marker(pytest.mark.skip(reason="notebook front matter says skip_exec: true"))
            continue
        reason = nbdev_skips(cell.source, flags)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
        elif cell.execution_count is None and cell.get("outputs"):
            cell.execution_count = 1  # nbdev_clean nulls counts; the outputs are real fixtures
