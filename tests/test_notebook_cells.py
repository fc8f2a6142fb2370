"""Cells that nbdev's docs processing would run: a `slow` cell must never be one of them.

`make docs` (nbdev's `proc_nbs`) executes every exported cell and every cell whose code contains an import
anywhere (nbdev.processors `_do_eval`): an import in a slow cell makes the docs build run the slow work (a
sweep, a training run), from the docs folder, where its relative paths do not exist. The imports belong in the
notebook's import cell."""
import ast
import json
from pathlib import Path

import pytest

NBS = Path(__file__).resolve().parent.parent / "nbs"


def _code_cells(nb_path):
    for i, cell in enumerate(json.loads(nb_path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            yield i, "".join(cell["source"])


def _directives(source):
    return {line[3:].strip().split(":")[0].split()[0] for line in source.splitlines()
            if line.startswith("#|") and line[3:].strip()}


def docs_would_run(source):
    "Whether nbdev's docs processing executes a cell (the rule of nbdev 2.4's `_do_eval`, without `eval: false`)."
    dirs = _directives(source)
    if "eval" in dirs and "eval: false" in source.replace("eval:false", "eval: false"):
        return False
    if dirs & {"export", "exports", "exporti", "exec_doc"}:
        return True
    try:
        tree = ast.parse("\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return False
    return any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(tree))


def test_rule_as_nbdev():
    assert docs_would_run("#| slow\nfrom a import b\nb()")
    assert docs_would_run("#| export\ndef f(): pass")
    assert not docs_would_run("#| slow\nresults = run()")
    assert docs_would_run("def f():\n    import os\n    return os")   # an import inside a function counts too


@pytest.mark.parametrize("nb_path", sorted(NBS.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_slow_cell_runs_in_the_docs(nb_path):
    bad = [i for i, src in _code_cells(nb_path) if "slow" in _directives(src) and docs_would_run(src)]
    assert not bad, (f"{nb_path.name}: slow cells {bad} contain an import, so `make docs` would run them; "
                     "move the imports to the notebook's import cell")
