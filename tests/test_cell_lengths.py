"""Exported cells a reader can follow (issue #23): one definition per exported cell, a median of at most 15 lines,
no cell over 60 lines of code (docstrings aside: a public function's documentation may be long), and a check cell
after every exported definition before the next one."""
import ast
import json
import re
import statistics
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent / "nbs"
EXPORT = re.compile(r"#\|\s*export\b")


def exported_cells():
    "`(notebook, index, source)` of every exported code cell."
    for path in sorted(NBS.glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and EXPORT.match(source):
                yield path.name, i, source


def code_lines(source):
    "Lines of `source` without its directives and without the docstrings of its functions and classes."
    body = "\n".join(line for line in source.rstrip("\n").split("\n") if not line.startswith("#|"))
    doc = 0
    for node in ast.walk(ast.parse(body)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and ast.get_docstring(node):
            doc += node.body[0].end_lineno - node.body[0].lineno + 1
    return len(body.split("\n")) - doc


def definitions(source):
    body = "\n".join(line for line in source.split("\n") if not line.startswith("#|"))
    return [n.name for n in ast.parse(body).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def test_one_definition_per_exported_cell():
    several = [(nb, i, names) for nb, i, s in exported_cells() if len(names := definitions(s)) > 1]
    assert not several, f"exported cells defining several names (split them, one per cell): {several[:5]}"


def test_exported_cells_are_short():
    cells = list(exported_cells())
    lengths = [len(s.rstrip("\n").split("\n")) for _, _, s in cells]
    assert statistics.median(lengths) <= 15, statistics.median(lengths)
    long = [(nb, i, n) for nb, i, s in cells if (n := code_lines(s)) > 60]
    assert not long, f"exported cells over 60 lines of code (docstrings aside): {long}"


def test_the_counts_see_what_they_count():
    cell = '#| export\ndef f(x):\n    """Doc\n    string."""\n    return x\n\n\ndef g():\n    pass'
    assert code_lines(cell) == 6 and definitions(cell) == ["f", "g"]


def unchecked_definitions(cells):
    """`(index, names)` of every exported definition cell among `cells` (`[(cell_type, source)]`) whose next code
    cell is another exported definition: a run of exports with no example or test between them."""
    code = [(i, s) for i, (kind, s) in enumerate(cells) if kind == "code"]
    defines = lambda s: bool(EXPORT.match(s)) and bool(definitions(s))
    return [(i, definitions(s)) for (i, s), (_, nxt) in zip(code, code[1:]) if defines(s) and defines(nxt)]


def test_every_definition_is_checked_before_the_next():
    bad = []
    for path in sorted(NBS.glob("*.ipynb")):
        cells = [(c["cell_type"], "".join(c["source"])) for c in json.loads(path.read_text())["cells"]]
        bad += [(path.name, i, names) for i, names in unchecked_definitions(cells)]
    assert not bad, f"exported definitions followed directly by another (add a check cell between): {bad[:5]}"


def test_unchecked_definitions_sees_a_run():
    f, g = ("code", "#| export\ndef f(): pass"), ("code", "#| export\ndef g(): pass")
    check, prose = ("code", "assert f() is None"), ("markdown", "#| export\ndef not_code(): pass")
    assert unchecked_definitions([f, prose, g]) == [(0, ["f"])]   # prose between is not a check
    assert unchecked_definitions([f, check, g]) == []
    assert unchecked_definitions([("code", "#| export\nimport os"), g]) == []   # an import cell defines nothing
