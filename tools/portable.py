"""`make test-portable`: the notebooks' stored outputs hold under other CPU code paths, with one thread.

XLA's CPU compiler picks its kernels by the processor's vector instructions, so float32 rounding
differs between machines. `--xla_cpu_max_isa` makes this machine compile as an older one would.
The passes run at the same time, each pinned to its own core (one thread each, as on a one-core
laptop); with a single core they run one after the other. Each pass is nbval over every notebook
(the plain tests assert tolerances, not stored text, so the code path cannot change their verdict).
Usage: python tools/portable.py [ISA ...]   (default: SSE4_2 AVX)
"""
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


NOTEBOOKS = os.environ.get("PORTABLE_NOTEBOOKS", "nbs/").split()  # a subset, to try the tool quickly


def nbval_command(log):
    return [str(BIN / "pytest"), "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "nbval_sanitize.cfg",
            "-p", "no:xdist", "-q", "-rfE", "--junit-xml", str(log), *NOTEBOOKS]


def start_pass(isa, cpu, log_dir):
    "Start one nbval pass compiled for `isa`, pinned to `cpu` (or unpinned when `cpu` is None)."
    env = dict(os.environ, XLA_FLAGS=f"--xla_cpu_max_isa={isa}")
    out = open(log_dir / f"portable-{isa}.log", "w")
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    return subprocess.Popen(nbval_command(log_dir / f"portable-{isa}.xml"), cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, preexec_fn=pin), out


def main(isas):
    cpus = sorted(os.sched_getaffinity(0))
    log_dir = ROOT / ".pytest_cache"
    log_dir.mkdir(exist_ok=True)
    together = len(cpus) >= len(isas)
    print(f"portability pass: nbval over {' '.join(NOTEBOOKS)} with XLA_FLAGS=--xla_cpu_max_isa in {isas}, "
          + (f"at once, one core each (cores {cpus[:len(isas)]})" if together else "one after the other on one core"))
    start, failed = time.time(), []
    if together:
        runs = [(isa, *start_pass(isa, cpu, log_dir)) for isa, cpu in zip(isas, cpus)]
    else:
        runs = []
        for isa in isas:
            proc, out = start_pass(isa, cpus[0], log_dir)
            proc.wait()
            runs.append((isa, proc, out))
    for isa, proc, out in runs:
        code = proc.wait()
        out.close()
        tail = (log_dir / f"portable-{isa}.log").read_text().strip().splitlines()[-1:]
        print(f"  {isa}: {'passed' if code == 0 else 'FAILED'} ({tail[0] if tail else 'no output'})")
        if code:
            failed.append(isa)
            print((log_dir / f"portable-{isa}.log").read_text()[-6000:])
    print(f"portability pass: {time.time() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["SSE4_2", "AVX"]))
