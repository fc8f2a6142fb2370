"""Probe table of `reformer-lab`: every bad option exits 2 with one line naming it, before anything runs.

The library functions that compile or time (and `run_demo`) are replaced by stubs that record a call and stop:
a probe passes only if none of them was reached. Good options (the commands the notebooks document) must reach
the same library call, with the same arguments, as before.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reformer_lab import api_speed, bench, cli, limits, model_bench, op_times, seq_sharding, sweep

ROOT = Path(__file__).resolve().parents[1]


class Reached(Exception):
    "Raised by a stub: a run function was called."


RUN_FUNCTIONS = [(bench, "run_bench"), (bench, "decode_times"), (bench, "stage_times"), (bench, "scaling_times"),
                 (model_bench, "model_bench"), (limits, "floor_run"), (limits, "longest_run"), (limits, "matrix_run"),
                 (api_speed, "api_speed"), (seq_sharding, "bench"), (sweep, "sweep_run"), (op_times, "account_run"),
                 (cli, "run_demo")]


@pytest.fixture
def calls(monkeypatch, tmp_path):
    "Stub every run function (each records its call and raises `Reached`); run in an empty folder."
    monkeypatch.chdir(tmp_path)
    made = []
    for module, name in RUN_FUNCTIONS:
        def stub(*args, _name=name, **kwargs):
            made.append((_name, kwargs))
            raise Reached(_name)
        monkeypatch.setattr(module, name, stub)
    return made


BAD = [  # (argv, what the one line must name)
    (["bench", "--lengths", "0"], "--lengths"),
    (["bench", "--lengths", "-64"], "--lengths"),
    (["bench", "--lengths", "1k"], "--lengths"),
    (["bench", "--lengths"], "--lengths"),
    (["bench", "--lengths", "1000"], "--lengths"),
    (["bench", "--lengths", "1024", "1024"], "--lengths"),
    (["bench", "--include", "full_jax", "--lengths", "8192"], "--lengths"),
    (["bench", "--n-hashes", "0"], "--n-hashes"),
    (["bench", "--n-hashes", "4", "4"], "--n-hashes"),
    (["bench", "--repeats", "0"], "--repeats"),
    (["bench", "--include", "nonesuch"], "--include"),
    (["bench", "--include", "fast", "Fast"], "--include"),
    (["bench", "--decode", "--lengths", "64"], "--lengths"),
    (["bench", "--decode", "--lengths", "100"], "--lengths"),
    (["bench", "--decode", "--repeats", "8"], "--repeats"),
    (["bench", "--model", "--lengths", "100"], "--lengths"),
    (["bench", "--model", "--model-layers", "0"], "--model-layers"),
    (["bench", "--floor", "--rounds", "0"], "--rounds"),
    (["bench", "--model", "--decode"], "--model and --decode"),
    (["bench", "--decode", "--floor"], "--floor"),
    (["bench", "--model", "--matrix"], "--matrix"),
    (["bench", "--decode", "--include", "fast"], "--include"),
    (["bench", "--decode", "--stages"], "--stages"),
    (["bench", "--model", "--scaling"], "--scaling"),
    (["bench", "--decode", "--out", "r.json"], "--out"),
    (["bench", "--floor", "--plot", "p.png"], "--plot"),
    (["bench", "--decode-out", "d.json"], "--decode-out"),
    (["bench", "--decode-plot", "d.png"], "--decode-plot"),
    (["bench", "--model-out", "m.json"], "--model-out"),
    (["bench", "--model-plot", "m.png"], "--model-plot"),
    (["bench", "--model-layers", "3"], "--model-layers"),
    (["bench", "--floor-out", "f.json"], "--floor-out"),
    (["bench", "--longest-out", "l.json"], "--longest-out"),
    (["bench", "--matrix-out", "m.json"], "--matrix-out"),
    (["bench", "--longest", "--rounds", "3"], "--rounds"),
    (["bench", "--stages-out", "s.json"], "--stages-out"),
    (["bench", "--scaling-out", "s.json"], "--scaling-out"),
    (["bench", "--out", "/nonexistent/r.json"], "--out"),
    (["bench", "--out", "."], "--out"),
    (["bench", "--plot", "/nonexistent/p.png"], "--plot"),
    (["bench", "--plot", "p.xyz"], "--plot"),
    (["bench", "--plot", ""], "--plot"),
    (["bench", "--stages", "--stages-out", "reformer_lab_bench.png"], "--stages-out"),
    (["bench", "--decode", "--decode-plot", "/nonexistent/d.png"], "--decode-plot"),
    (["bench", "--model", "--model-out", "/nonexistent/m.json"], "--model-out"),
    (["bench", "--floor", "--floor-out", "/nonexistent/f.json"], "--floor-out"),
    (["bench", "--matrix", "--matrix-out", "/nonexistent/m.json"], "--matrix-out"),
    (["bench", "--scaling", "--scaling-out", "/nonexistent/s.json"], "--scaling-out"),
    (["bench", "--api-out", "a.json"], "--api-out"),
    (["bench", "--seq-sharding-out", "s.json"], "--seq-sharding-out"),
    (["bench", "--devices", "4"], "--devices"),
    (["bench", "--seq-sharding", "--devices", "1"], "--devices"),
    (["bench", "--api", "--seq-sharding"], "--api and --seq-sharding"),
    (["bench", "--decode", "--api"], "--decode and --api"),
    (["bench", "--api", "--floor"], "--floor"),
    (["bench", "--api", "--out", "r.json"], "--out"),
    (["bench", "--api", "--api-out", "/nonexistent/a.json"], "--api-out"),
    (["bench", "--seq-sharding", "--seq-sharding-out", "/nonexistent/s.json"], "--seq-sharding-out"),
    (["bench", "--sweep-points", "3"], "--sweep-points"),
    (["bench", "--sweep-set", "n_hashes=2"], "--sweep-set"),
    (["bench", "--sweep", "--sweep-points", "0"], "--sweep-points"),
    (["bench", "--sweep", "--sweep-set", "heads=4"], "--sweep-set"),
    (["bench", "--sweep", "--sweep-set", "chunk_len="], "--sweep-set"),
    (["bench", "--sweep", "--sweep-set", "causal=maybe"], "--sweep-set"),
    (["bench", "--sweep", "--sweep-set", "n_hashes"], "--sweep-set"),
    (["bench", "--sweep", "--sweep-set", "n_hashes=2", "--sweep-set", "n_hashes=4"], "--sweep-set"),
    (["bench", "--sweep", "--sweep-set", "length=1024", "--sweep-set", "chunk_len=2048"], "--sweep-set"),
    (["bench", "--sweep", "--sweep-plot", "/nonexistent/s.png"], "--sweep-plot"),
    (["bench", "--sweep", "--model"], "--model and --sweep"),
    (["bench", "--op-account-worst", "3"], "--op-account-worst"),
    (["bench", "--op-account", "--op-account-worst", "0"], "--op-account-worst"),
    (["bench", "--op-account", "--op-account-sweep", "/nonexistent/sweep.json"], "--op-account-sweep"),
    (["bench", "--op-account", "--op-account-out", "/nonexistent/a.json"], "--op-account-out"),
    (["bench", "--op-account", "--sweep"], "--sweep and --op-account"),
    (["bench", "--frobnicate"], "--frobnicate"),
    ([], "command"),
    (["demo", "--length", "0"], "--length"),
    (["demo", "--length", "30"], "--chunk-len"),
    (["demo", "--n-hashes", "0"], "--n-hashes"),
    (["demo", "--n-hashes", "2", "2"], "--n-hashes"),
    (["demo", "--n-buckets", "7"], "--n-buckets"),
    (["demo", "--n-buckets", "0"], "--n-buckets"),
    (["demo", "--chunk-len", "0"], "--chunk-len"),
    (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--seed", str(2**32)], "--seed"),
    (["demo", "--out", "/nonexistent/demo.png"], "--out"),
    (["demo", "--out", "demo.xyz"], "--out"),
]


@pytest.mark.parametrize("argv, option", BAD, ids=[" ".join(argv) or "(none)" for argv, _ in BAD])
def test_bad_option_is_one_line_exit_2_and_runs_nothing(calls, argv, option):
    code, err = cli.cli_answer(argv)
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    top = argv in ([], ["bench", "--frobnicate"])  # answered by the top-level parser
    prog = "reformer-lab" if top else f"reformer-lab {argv[0]}"
    assert err.startswith(f"{prog}: error: "), err
    assert option in err, err
    assert calls == [], calls


def test_the_line_names_a_value_that_works(calls):
    for argv, works in [(["bench", "--lengths", "1000"], "use 960 or 1024"), (["bench", "--decode", "--lengths", "64"], "use 128"),
                        (["bench", "--decode", "--repeats", "8"], "use 7"), (["bench", "--lengths", "0"], "e.g. 1024"),
                        (["bench", "--include", "full_jax", "--lengths", "8192"], "use 4096 or less"),
                        (["demo", "--length", "30"], "use --length 24 or 32")]:
        assert works in cli.cli_answer(argv)[1], argv
    err = cli.cli_answer(["bench", "--include", "nonesuch"])[1]
    assert all(name in err for name in bench.implementations()), err
    assert calls == []


GOOD = [  # the commands the notebooks document, and the library call each must reach
    (["bench", "--lengths", "512", "1024", "--n-hashes", "1", "2", "4", "8", "--include", "fast", "exact_chunked",
      "--repeats", "2", "--out", "crossover.json"],
     ("run_bench", dict(lengths=(512, 1024), n_hashes=(1, 2, 4, 8), include=["fast", "exact_chunked"], repeats=2,
                        stages_at=None))),
    (["bench", "--repeats", "5", "--out", "cpu.json", "--plot", "cpu.png"],
     ("run_bench", dict(lengths=(1024, 4096, 16384, 65536), n_hashes=(1, 4, 8), include=None, repeats=5, stages_at=None))),
    (["bench", "--lengths", "16384", "--n-hashes", "4", "--include", "fast", "trax", "--repeats", "5", "--stages",
      "--stages-out", "stages.json"],
     ("run_bench", dict(lengths=(16384,), n_hashes=(4,), include=["fast", "trax"], repeats=5, stages_at=(16384, 4)))),
    (["bench", "--lengths", "1024", "--n-hashes", "4", "--include", "fast", "trax", "--repeats", "5", "--scaling",
      "--scaling-out", "scaling.json"],
     ("run_bench", dict(lengths=(1024,), n_hashes=(4,), include=["fast", "trax"], repeats=5, stages_at=None))),
    (["bench", "--decode", "--repeats", "5", "--decode-out", "decode.json", "--decode-plot", "decode.png"],
     ("decode_times", dict(lengths=(1024, 4096, 16384, 65536), n_hashes=4, repeats=5, steps_per_call=8))),
    (["bench", "--model", "--lengths", "16384", "65536", "--n-hashes", "4", "--repeats", "3", "--model-out", "model.json",
      "--model-plot", "model.png"],
     ("model_bench", dict(lengths=(16384, 65536), n_layers=2, n_hashes=4, repeats=3))),
    (["bench", "--floor", "--floor-out", "floor.json"], ("floor_run", dict(rounds=5, repeats=3, out=print))),
    (["bench", "--longest", "--repeats", "2", "--longest-out", "longest.json"], ("longest_run", dict(repeats=2, out=print))),
    (["bench", "--matrix", "--rounds", "3", "--repeats", "5", "--matrix-out", "matrix.json"],
     ("matrix_run", dict(rounds=3, repeats=5, out=print))),
    (["bench", "--api", "--repeats", "7", "--api-out", "api_speed.json"], ("api_speed", dict(repeats=7))),
    (["bench", "--seq-sharding", "--seq-sharding-out", "seq_sharding.json"], ("bench", dict(n_devices=8, repeats=3))),
    (["bench", "--sweep", "--sweep-out", "sweep.json", "--sweep-plot", "sweep.png"],
     ("sweep_run", dict(repeats=3))),
    (["bench", "--op-account", "--repeats", "2", "--op-account-out", "account.json"],
     ("account_run", dict(points=[], repeats=2, out=print))),
    (["demo"], ("run_demo", dict(length=64, n_hashes=(1, 2, 4, 8), n_buckets=8, chunk_len=8, seed=0,
                                 figure="reformer_lab_demo.png"))),
]


@pytest.mark.parametrize("argv, call", GOOD, ids=[" ".join(argv) for argv, _ in GOOD])
def test_good_options_reach_the_same_call(calls, argv, call):
    with pytest.raises(Reached):
        cli.main(argv)
    assert calls == [call]


@pytest.mark.parametrize("error", [ValueError("n_hashes must be\n  a positive int"), TypeError("x must be an array")])
def test_library_errors_are_one_line_exit_2(monkeypatch, tmp_path, error):
    monkeypatch.chdir(tmp_path)
    def run_bench(**kwargs):
        raise error
    monkeypatch.setattr(bench, "run_bench", run_bench)
    code, err = cli.cli_answer(["bench", "--lengths", "64"])
    assert (code, err) == (2, f"reformer-lab bench: error: {' '.join(str(error).split())}\n")
    with pytest.raises(type(error)):  # --debug: the error itself, with its traceback
        cli.main(["bench", "--lengths", "64", "--debug"])


def test_a_run_where_everything_was_skipped_is_an_error(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench, "run_bench", lambda **kw: [dict(name="hf_torch", length=64, n_hashes=1,
                                                                  skipped="not installed (torch)")])
    monkeypatch.setattr(model_bench, "model_bench", lambda **kw: [dict(name=n, length=64, skipped="over 8 GiB")
                                                                  for n in ("trax", "fast")])
    code, err = cli.cli_answer(["bench", "--include", "hf_torch", "--lengths", "64"])
    assert (code, err) == (2, "reformer-lab bench: error: --include: nothing ran, every case was skipped "
                              "(hf_torch: not installed (torch))\n")
    code, err = cli.cli_answer(["bench", "--model", "--lengths", "64"])
    assert code == 2 and err.count("\n") == 1 and "--lengths: nothing ran" in err, err
    assert not list(tmp_path.iterdir())  # no plot, no JSON


SCRIPT = [sys.executable, "-c", "import sys; from reformer_lab.cli import main; sys.exit(main())"]


@pytest.mark.parametrize("command, option", [
    (SCRIPT + ["bench", "--lengths", "0"], "--lengths"),
    (SCRIPT + ["demo", "--length", "30"], "--chunk-len"),
    (SCRIPT + ["bench", "--include", "nonesuch"], "--include"),  # imports Trax to list the names: still one line
    ([sys.executable, "-m", "reformer_lab.cli", "bench", "--decode", "--lengths", "64"], "--lengths"),
])
def test_console(tmp_path, command, option):
    "As a process: exit code 2, one line on stderr, nothing on stdout (no progress bar, no table)."
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONWARNINGS="ignore")
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and option in done.stderr and done.stderr.startswith("reformer-lab "), done.stderr
    assert done.stdout == ""
