"""Output files under concurrency and signals: never corrupt, never spliced, nothing left over.

Real ``hhcable`` processes, as a user runs them: two writing the same file at once, and one
stopped by SIGTERM, Ctrl-C (SIGINT) or ``kill -9`` in the middle of writing.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hhcable.outfiles import TEMP_MARK, Outputs, check_target

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT))

# A run whose results (16 MB of whole-cell frames) take a good fraction of a second to write.
MODEL = """
[morphology]
cable = { length_um = 2000, diam_um = 2 }
[discretization]
max_segment_um = 2
[biophysics]
mechanisms = [ { name = "hh", where = "all" } ]
[[stimulus]]
kind = "iclamp"
at = { x = 0 }
delay_ms = 0.5
dur_ms = 0.5
amp_nA = 1.0
[[probe]]
name = "far"
at = { x = 0.8 }
[simulation]
dt_ms = 0.025
tstop_ms = TSTOP
[recording]
space_every = 1
"""


def model(folder, tstop=50, name="big.toml"):
    path = folder / name
    path.write_text(MODEL.replace("TSTOP", str(tstop)))
    return path


def hhcable(*args):
    return subprocess.Popen([sys.executable, "-m", "hhcable", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def temps(folder):
    return sorted(p for p in Path(folder).iterdir() if TEMP_MARK in p.name)


def wait_for_temp(proc, folder, timeout=120):
    """Wait until ``proc`` has a temporary file open in ``folder`` (it is writing); True if so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if temps(folder):
            return True
        time.sleep(0.002)
    return False


def test_two_runs_writing_the_same_file_leave_one_whole_file(tmp_path):
    target = tmp_path / "r.npz"
    for _ in range(2):
        procs = [hhcable("run", model(tmp_path, tstop, f"m{tstop}.toml"), "--out", target) for tstop in (50, 49)]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
        with np.load(target) as data:  # a whole file, from one of the two runs
            assert len(data["t_ms"]) in (2001, 1961)
            assert data["space_v_mV"].shape == (len(data["t_ms"]), data["distance_um"].size)
        assert temps(tmp_path) == []


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_writing_removes_the_temporary_file(tmp_path, sig, status):
    target = tmp_path / "r.npz"
    target.write_bytes(b"the previous results")
    proc = hhcable("run", model(tmp_path), "--out", target)
    assert wait_for_temp(proc, tmp_path)  # it is writing (16 MB take a good part of a second)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert temps(tmp_path) == []
    if proc.returncode == status:  # stopped in the middle of writing
        assert err.strip().splitlines()[-1].startswith("hhcable: error: ")
        assert target.read_bytes() == b"the previous results"
    else:  # the write had finished: the new results, whole
        assert proc.returncode == 0, err
        with np.load(target) as data:
            assert len(data["t_ms"]) == 2001


def test_kill_9_leaves_the_target_whole_and_a_recognisable_temporary_file(tmp_path):
    # SIGKILL cannot be caught: the temporary file stays, named so that it can be found.
    target = tmp_path / "r.npz"
    target.write_bytes(b"the previous results")
    proc = hhcable("run", model(tmp_path), "--out", target)
    assert wait_for_temp(proc, tmp_path)
    proc.kill()
    proc.communicate(timeout=120)
    if proc.returncode == -signal.SIGKILL:
        left = temps(tmp_path)
        assert len(left) == 1 and left[0].name.startswith(".r.npz" + TEMP_MARK) and left[0].suffix == ".npz"
        assert target.read_bytes() == b"the previous results"


def test_two_animations_of_the_same_file_never_splice(tmp_path):
    out = tmp_path / "spike.gif"
    procs = [hhcable("animate", model(tmp_path, 20, f"m{n}.toml"), out, "--frames", n) for n in (30, 31)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with Image.open(out) as gif:
        assert gif.n_frames in (30, 31)
        for k in range(gif.n_frames):  # every frame decodes
            gif.seek(k)
            gif.convert("RGB")
    assert temps(tmp_path) == []


def test_sigterm_while_animating_leaves_nothing(tmp_path):
    out = tmp_path / "spike.gif"
    proc = hhcable("animate", model(tmp_path, 20), out, "--frames", 60)
    assert wait_for_temp(proc, tmp_path)  # rendering the frames
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert temps(tmp_path) == []
    if proc.returncode == 143:
        assert not out.exists() and "SIGTERM" in err
    else:
        assert proc.returncode == 0, err


# -- the same, in this process --------------------------------------------------------------------
def test_outputs_commit_all_or_nothing(tmp_path):
    with Outputs() as out:
        a, b = out.add(tmp_path / "a.bin", "--out"), out.add(tmp_path / "b.png", "--plot")
        out.write(a, lambda fh: fh.write(b"a"))
        name = out.temp(b)
        assert name.endswith(".png") and TEMP_MARK in name
        Path(name).write_bytes(b"b")
    assert list(tmp_path.iterdir()) == []  # not committed: nothing
    with Outputs() as out:
        a = out.add(tmp_path / "a.bin")
        out.write(a, lambda fh: fh.write(b"a"))
        out.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_target_replaced_by_a_link_during_the_run_is_refused_at_commit(tmp_path):
    import hhcable as hc

    with Outputs() as out:
        a = out.add(tmp_path / "a.bin")
        out.write(a, lambda fh: fh.write(b"a"))
        (tmp_path / "elsewhere").write_text("keep")
        a.symlink_to(tmp_path / "elsewhere")
        with pytest.raises(hc.InputError, match="symbolic link"):
            out.commit()
    assert (tmp_path / "elsewhere").read_text() == "keep" and temps(tmp_path) == []
    with pytest.raises(hc.InputError, match="does not exist"):
        check_target(tmp_path / "missing" / "a.bin")
