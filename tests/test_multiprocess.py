"""JAX's multi-process runtime on this machine (nbs/16b_multiprocess.ipynb): two processes, one global mesh.

The processes are started by `reformer_lab.multiprocess.launch`, which talks only to 127.0.0.1, retries a port
that was taken, bounds the run by one deadline and kills every process group it started, whatever happens.
"""
import os
import socket
import sys
import time

import pytest

import reformer_lab.multiprocess as mp
from reformer_lab.multiprocess import LaunchError, launch, run_processes


def test_two_processes_one_mesh_equal_one_device(monkeypatch):
    """A training step (loss and gradients) on a 2 x 2 mesh over two processes equals one device's, to 1e-6.

    The first port `launch` is handed is already taken (as when another program grabs it between `free_port`
    and the coordinator's start): the run must start again on another port."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    handed = []
    free_port = mp.free_port

    def first_port_taken(host):
        handed.append(host)
        return taken.getsockname()[1] if len(handed) == 1 else free_port(host)

    monkeypatch.setattr(mp, "free_port", first_port_taken)
    try:
        results = launch(2, local_devices=2, mesh=(2, 2), timeout_s=100)
    finally:
        taken.close()
    assert len(handed) == 2  # one retry
    assert [r["process_id"] for r in results] == [0, 1]
    for r in results:
        assert (r["processes"], r["devices"], r["local_devices"]) == (2, 4, 2), r
        assert r["loss_rel_diff"] <= 1e-6 and r["grad_max_diff"] <= 1e-6, r
    assert results[0]["loss"] == results[1]["loss"]


def _py(src):
    return [sys.executable, "-c", src]


def test_a_dead_process_fails_the_run_at_once_and_the_others_are_killed(tmp_path):
    pid_file = tmp_path / "pid"
    hang = _py(f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)")
    start = time.monotonic()
    with pytest.raises(LaunchError, match="process 1 of 2 exited with code 3"):
        run_processes([hang, _py("import time; time.sleep(1); raise SystemExit(3)")], timeout_s=60)
    assert time.monotonic() - start < 30
    with pytest.raises(ProcessLookupError):  # the hanging partner is gone (killed and reaped)
        os.kill(int(pid_file.read_text()), 0)


def test_a_hung_process_is_killed_at_the_deadline():
    start = time.monotonic()
    with pytest.raises(LaunchError, match="still running after 1 s"):
        run_processes([_py("import time; time.sleep(120)")], timeout_s=1)
    assert time.monotonic() - start < 20
