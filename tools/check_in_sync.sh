#!/usr/bin/env bash
# Fails if nbdev_export would change reformer_lab/, nbdev_clean would change nbs/,
# or README.md is out of step with nbs/index.ipynb. Works without git, so it also
# runs on a fresh clone or a source tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
snapshot() { find reformer_lab nbs -type f \( -name '*.py' -o -name '*.ipynb' \) -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum; }
before=$(snapshot)
"$BIN/nbdev_export"
"$BIN/nbdev_clean"
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: notebooks and package are out of step. These files changed when re-exported/cleaned:" >&2
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
  echo "Run 'make export clean-nbs' and commit the result." >&2
  exit 1
fi
"$BIN/python" tools/make_readme.py --check
echo "notebooks, package and README are in sync"
