"""Animations: the frames show the recorded voltages, files are GIFs, bad requests are refused."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.animation  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import animation  # noqa: E402


@pytest.fixture(scope="module")
def cable_run():
    cell = hc.Cell(hc.Morphology.cable(length=2000.0, diam=2.0), max_segment=40.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.05)
    sim.iclamp(at=0.0, delay=0.5, dur=0.5, amp=1.0)
    sim.record_space(every=2)  # 61 frames: enough for the automatic progress bar
    return sim.run(6.0)


def test_cable_gif_has_one_frame_per_recorded_time(cable_run, tmp_path):
    out = animation.animate(cable_run, tmp_path / "spike.gif", max_frames=10, progress=False)
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 10
        # The frames differ: the spike moves.
        gif.seek(0)
        first = np.asarray(gif.convert("L"), dtype=float)
        gif.seek(5)
        later = np.asarray(gif.convert("L"), dtype=float)
    assert np.abs(first - later).mean() > 0.1


def test_morphology_gif_and_progress_bar(tmp_path):
    morph = hc.Morphology.y_junction(parent_length=300.0, parent_diam=2.0, daughter_lengths=(200.0, 200.0),
                                     daughter_diams=(1.0, 1.0))
    cell = hc.Cell(morph, max_segment=25.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.05)
    sim.iclamp(at=0.0, delay=0.2, dur=0.5, amp=1.0)
    sim.record_space(every=5)
    res = sim.run(4.0)
    stream = io.StringIO()
    bar = animation.progress_bar(stream)
    for i in range(4):
        bar(i, 4)
    assert stream.getvalue().endswith("4/4 frames\n")
    out = animation.animate(res, tmp_path / "tree.gif", max_frames=6, stimuli=[0.0], progress=False)
    with Image.open(out) as gif:
        assert gif.n_frames == 6


def test_progress_bar_written_to_stderr_for_long_renders(cable_run, tmp_path, capsys):
    animation.animate_cable(cable_run, tmp_path / "a.gif", max_frames=animation.PROGRESS_MIN_FRAMES)
    err = capsys.readouterr().err
    assert f"{animation.PROGRESS_MIN_FRAMES}/{animation.PROGRESS_MIN_FRAMES} frames" in err


def test_bad_requests(cable_run, tmp_path):
    with pytest.raises(hc.InputError, match=".gif or .mp4"):
        animation.animate(cable_run, tmp_path / "a.avi", max_frames=3)
    with pytest.raises(hc.InputError, match="max_frames"):
        animation.animate(cable_run, tmp_path / "a.gif", max_frames=1)
    no_space = hc.Simulation(cable_run.cell, dt=0.1).run(1.0)
    with pytest.raises(hc.InputError, match="record_space"):
        animation.animate(no_space, tmp_path / "a.gif")
    if not matplotlib.animation.FFMpegWriter.isAvailable():
        with pytest.raises(hc.InputError, match="ffmpeg"):
            animation.animate(cable_run, tmp_path / "a.mp4", max_frames=3)
    assert not list(tmp_path.iterdir())


MODEL = """
[morphology]
cable = { length_um = 2000, diam_um = 2 }
[discretization]
max_segment_um = 40
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
dt_ms = 0.05
tstop_ms = 6
"""


def test_cli_animate(tmp_path, capsys):
    from hhcable.cli import main

    model = tmp_path / "axon.toml"
    model.write_text(MODEL)
    out = tmp_path / "axon.gif"
    assert main(["animate", str(model), str(out), "--frames", "12"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["axon.gif", "axon.toml"]  # no temporary left
    # Bad output name: exit status 2, one line on stderr, nothing run or written.
    capsys.readouterr()
    assert main(["animate", str(model), str(tmp_path / "axon.avi")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".gif or .mp4" in err
    assert not (tmp_path / "axon.avi").exists()
