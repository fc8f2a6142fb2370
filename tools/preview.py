"""Offline HTML preview of the docs site, for machines without Quarto.

Renders every notebook that nbdev processed into _proc/ to HTML with nbconvert, in the
sidebar's order, honouring the Quarto cell options nbdev writes (`include: false`,
`echo: false`, `output: asis`), adds a sidebar to every page and an index page.
Output: _preview/ (git-ignored). Usage: python tools/preview.py (after nbdev's processing).
"""
import html
import re
from pathlib import Path

import nbformat
import yaml
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
PROC, OUT = ROOT / "_proc", ROOT / "_preview"
OPTION = re.compile(r"^\s*#\s*\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
# Pandoc/Quarto attributes that plain Markdown renderers print as text: a link's `[source](url){target="_blank" ...}`
# (show_doc writes one above every function) and a heading's `{#id .class}`.
LINK_ATTRS = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}")
HEADING_ATTRS = re.compile(r"^(#{1,6} .*?)\s*\{[#.][^}]*\}\s*$", re.M)


def quarto_to_html(markdown):
    "Markdown with Quarto attributes turned into what Quarto would render: links with attributes become `<a>` tags."
    markdown = LINK_ATTRS.sub(lambda m: f'<a href="{html.escape(m.group(2))}" {m.group(3)}>{m.group(1)}</a>', markdown)
    markdown = re.sub(r"\]\((?!https?:)([\w-]+)\.ipynb\)", lambda m: f"]({_html_name(m.group(1) + '.ipynb')})", markdown)
    return HEADING_ATTRS.sub(r"\1", markdown)

STYLE = """
<style>
  body { margin: 0; }
  #preview-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 220px; overflow-y: auto;
                     background: #f4f6f8; border-right: 1px solid #dde; padding: 16px; font-family: sans-serif; }
  #preview-sidebar a { display: block; padding: 4px 0; color: #245; text-decoration: none; }
  #preview-sidebar a.current { font-weight: bold; }
  #preview-sidebar .preview-section { margin: 14px 0 4px; font-size: 0.8em; text-transform: uppercase;
                                      letter-spacing: 0.05em; color: #667; }
  #preview-main { margin-left: 260px; max-width: 960px; padding: 8px 24px; }
  .preview-description { font-size: 1.15em; color: #555; }
  #notebook-container, .container { width: auto !important; box-shadow: none !important; padding: 0 !important; }
  div#notebook { padding-top: 0 !important; }
</style>
"""


def sidebar_sections(proc=PROC):
    "The sidebar as `[(section title or None, [notebook names])]`, in order (from sidebar.yml)."
    entries = yaml.safe_load((proc / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    sections = []
    for e in entries:
        if isinstance(e, str) and e.endswith(".ipynb"):
            if not sections or sections[-1][0] is not None:
                sections.append((None, []))
            sections[-1][1].append(e)
        elif isinstance(e, dict) and "contents" in e:
            sections.append((e.get("section"), [c for c in e["contents"] if isinstance(c, str) and c.endswith(".ipynb")]))
    return sections


def sidebar_pages(proc=PROC):
    "Notebook names in the sidebar's order (sidebar.yml; sections flattened)."
    return [name for _, names in sidebar_sections(proc) for name in names]


def _options(source):
    opts, body = {}, []
    for line in source.splitlines():
        m = OPTION.match(line)
        if m and not body:
            opts[m.group(1)] = m.group(2).lower()
        else:
            body.append(line)
    return opts, "\n".join(body).strip()


def prepared_notebook(path):
    "The processed notebook as nbconvert should show it, and its (title, description)."
    nb = nbformat.read(path, as_version=4)
    title, description, cells = path.stem, "", []
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("---"):
            meta = yaml.safe_load(cell.source.strip().strip("-")) or {}
            title, description = meta.get("title", title), meta.get("description", "")
            continue
        if cell.cell_type != "code":
            if cell.cell_type == "markdown":
                cell.source = quarto_to_html(cell.source)
            cells.append(cell)
            continue
        opts, cell.source = _options(cell.source)
        if opts.get("include") == "false":
            continue
        if opts.get("output") == "asis":  # show_doc: its markdown output is the content
            for out in cell.get("outputs", []):
                text = out.get("data", {}).get("text/markdown") or out.get("text", "")
                if text:
                    cells.append(nbformat.v4.new_markdown_cell(quarto_to_html("".join(text))))
            continue
        if opts.get("echo") == "false":
            cell.metadata["preview_hide_input"] = True
        cells.append(cell)
    nb.cells = cells
    return nb, title, description


def render_page(path, pages, current, sections=None):
    nb, title, description = prepared_notebook(path)
    exporter = HTMLExporter(template_name="classic", exclude_input_prompt=True, exclude_output_prompt=True)
    for cell in nb.cells:
        if cell.metadata.get("preview_hide_input"):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    body, _ = exporter.from_notebook_node(nb)
    titles = dict(pages)
    link = lambda p: f'<a href="{_html_name(p)}" class="{"current" if p == current else ""}">{html.escape(titles[p])}</a>'
    sections = sections or [(None, [p for p, _ in pages])]
    links = "".join((f'<div class="preview-section">{html.escape(title)}</div>' if title else "")
                    + "".join(link(p) for p in names) for title, names in sections)
    header = (f'<h1 class="title">{html.escape(title)}</h1>'
              + (f'<p class="preview-description">{html.escape(description)}</p>' if description else ""))
    body = body.replace("<title>Notebook</title>", f"<title>{html.escape(title)}</title>")
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", body, count=1, flags=re.S)
    body = body.replace("</head>", STYLE + "</head>", 1)
    body = re.sub(r"<body([^>]*)>", lambda m: f'<body{m.group(1)}><nav id="preview-sidebar"><b>reformer_lab</b>{links}</nav>'
                  f'<main id="preview-main">{header}', body, count=1)
    body = body.replace("</body>", "</main></body>", 1)
    return body, title


def _html_name(nb_name):
    return "index.html" if nb_name == "index.ipynb" else nb_name.replace(".ipynb", ".html")


def build_preview(proc=PROC, out=OUT):
    "Render all pages into `out`; returns the list of written HTML paths."
    out.mkdir(exist_ok=True)
    sections = sidebar_sections(proc)
    names = [n for _, ns in sections for n in ns]
    titles = [(n, prepared_notebook(proc / n)[1]) for n in names]
    written = []
    for name in names:
        page, _ = render_page(proc / name, titles, name, sections)
        target = out / _html_name(name)
        target.write_text(page, encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    pages = build_preview()
    print(f"Offline preview: {len(pages)} pages in {OUT.relative_to(ROOT)}/ -- open {OUT.relative_to(ROOT)}/index.html")
