"""`make check-lock`: the installed packages are exactly the lock's versions.

Fails if a package in the lock is missing or installed at another version; lists (without failing)
packages installed beyond the lock, such as the optional `hf` extra or a tool a user added.
Usage: python tools/check_lock.py requirements-lock.txt
"""
import re
import sys
from importlib import metadata

NOT_LOCKED = {"pip", "reformer-lab"}  # the installer itself and this package (installed editable from the tree)


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path):
    "`{package: version}` from the `name==version` lines of a pip-compile / uv lock file."
    pins = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            if not version:
                raise SystemExit(f"{path}: expected 'name==version', got {line!r}")
            pins[canonical(name)] = version.split(";")[0].strip()
    return pins


def main(path):
    pins = read_lock(path)
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = [f"  {n}: locked {v}, installed {installed.get(n, 'nothing')}" for n, v in sorted(pins.items())
             if installed.get(n) != v]
    extra = sorted(set(installed) - set(pins) - NOT_LOCKED)
    if extra:
        print(f"installed beyond the lock (not checked): {', '.join(extra)}")
    if wrong:
        print(f"FAIL: the environment differs from {path}:", *wrong, sep="\n")
        print("Run `make install` (it installs with the lock as constraints), or `make lock` after changing settings.ini.")
        return 1
    print(f"environment == {path}: {len(pins)} packages at their locked versions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements-lock.txt"))
