"""Write README.md from nbs/index.ipynb without Quarto (which `nbdev_readme` needs).

Cells marked `#| hide` are dropped, nbdev `#|` directive lines are removed, and the
rest is rendered by nbconvert's Markdown exporter, outputs included.
Usage: python tools/make_readme.py [--check]   (--check: fail if README.md is stale)
"""
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r"^\s*#\s*\|")


def readme_text(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    nb = nbformat.read(nb_path, as_version=4)
    kept = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        directives = [line for line in lines if DIRECTIVE.match(line)]
        if any(re.search(r"\|\s*hide\b", d) for d in directives):
            continue
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in lines if not DIRECTIVE.match(line)).strip()
        kept.append(cell)
    nb.cells = kept
    body, _ = MarkdownExporter().from_notebook_node(nb)
    header = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py (`make readme`): edit the notebook, not this file. -->\n\n"
    body = re.sub(r"\]\(([\w-]+\.ipynb)\)", r"](nbs/\1)", body)  # links between notebooks, from the repository root
    return header + re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


if __name__ == "__main__":
    text, target = readme_text(), ROOT / "README.md"
    if "--check" in sys.argv[1:]:
        if not target.exists() or target.read_text() != text:
            sys.exit("README.md is out of step with nbs/index.ipynb: run `make readme` and commit it.")
        print("README.md matches nbs/index.ipynb")
    else:
        target.write_text(text)
        print(f"wrote {target.relative_to(ROOT)}")
