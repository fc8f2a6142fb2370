"""The import graph of `reformer_lab`, read from the modules' own source (imports inside functions included: an
import inside a function is a circle in disguise, not a way out of one).

The graph may hold no cycle: a module imports only modules below it (issue #23 cut the last two, `bench` <->
`limits` and `fast` <-> `fast_kernel`).
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reformer_lab"

def imported_modules(path):
    "The `reformer_lab` modules that the module at `path` imports, anywhere in its source."
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module.split(".")[0] if node.module else None
                names.update([base] if base else [a.name for a in node.names])
            elif node.module and node.module.split(".")[0] == "reformer_lab":
                parts = node.module.split(".")
                names.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("reformer_lab.") and a.name.count(".") >= 1)
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return {n for n in names if n in modules} - {path.stem}


def import_graph():
    "`{module: set of modules it imports}` over every module of the package (`_modidx` excepted)."
    return {p.stem: imported_modules(p) for p in PACKAGE.glob("*.py") if p.stem not in ("_modidx", "__init__")}


def strongly_connected(graph):
    "The strongly connected components of more than one module (Tarjan's algorithm), as sets."
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert {"primitives", "paper_rule"} <= graph["fast_kernel"], graph["fast_kernel"]
    assert {"fast_kernel", "primitives"} <= graph["fast"]   # the public entry sits above both paths
    assert not graph["primitives"] & {"fast", "fast_kernel"}  # the floor below both
    assert "bench" in graph["limits"] and "limits" not in graph["bench"]   # the FLOP counts live above the benchmark
    assert not graph["checks"] & {"fast", "bench", "cli"}


def test_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    cycles = strongly_connected(import_graph())
    assert not cycles, f"import cycle(s): {cycles}; a module must import only modules below it"
