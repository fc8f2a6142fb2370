"""`make docs`: build the docs site with nbdev_docs when Quarto is installed.

Without Quarto (it cannot be installed on every machine), run every step of
`nbdev_docs` that comes before Quarto -- writing nbs/nbdev.yml and nbs/sidebar.yml,
rebuilding the module index, and processing the notebooks into _proc/ -- say
clearly that the rendering step was skipped and why, and render an offline
HTML preview of every page into _preview/ instead (tools/preview.py).
"""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check_sidebar(nbs=ROOT / "nbs"):
    "The sidebar is written by hand (two sections: settings.ini has custom_sidebar = True): every notebook must be in it."
    sys.path.insert(0, str(ROOT / "tools"))
    from preview import sidebar_pages
    listed = set(sidebar_pages(nbs))
    missing = sorted(p.name for p in nbs.glob("*.ipynb") if p.name not in listed)
    if missing:
        sys.exit(f"nbs/sidebar.yml does not list {', '.join(missing)}: add each to its section "
                 f"(the course or engineering) and run `make docs` again.")
    unknown = sorted(n for n in listed if not (nbs / n).exists())
    if unknown:
        sys.exit(f"nbs/sidebar.yml lists notebooks that do not exist: {', '.join(unknown)}")


def main():
    check_sidebar()
    bin_dir = Path(sys.executable).parent
    if shutil.which("quarto"):
        subprocess.run([str(bin_dir / "nbdev_docs")], cwd=ROOT, check=True)
        return
    from nbdev.doclinks import _build_modidx
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    from nbdev.serve import proc_nbs

    refresh_quarto_yml()
    _build_modidx()
    nbdev_sidebar.__wrapped__()
    cache = proc_nbs(n_workers=1)
    pages = sorted(p.relative_to(cache) for p in cache.rglob("*.ipynb"))
    config = cache / "_quarto.yml"
    print(f"Processed {len(pages)} notebooks into {cache.relative_to(ROOT)}/ "
          f"(site config: {'found' if config.exists() else 'MISSING'} at {config.relative_to(ROOT)}).")
    print("SKIPPED the last step, rendering with Quarto: `quarto` is not on the PATH. "
          "Install Quarto (https://quarto.org/docs/get-started/) and run `make docs` again; "
          "the GitHub deploy workflow does this.")
    sys.path.insert(0, str(ROOT / "tools"))
    from preview import OUT, build_preview
    pages = build_preview()
    print(f"Instead, an offline preview: {len(pages)} pages rendered with nbconvert into "
          f"{OUT.relative_to(ROOT)}/ -- open {OUT.relative_to(ROOT)}/index.html")


if __name__ == "__main__":
    main()
