"""The command line: the model-file contract, its JSON, and its errors (exit 2, one line)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hhcable import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "models"

SMALL = """
[morphology]
cable = { length_um = 2000, diam_um = 2 }
[discretization]
max_segment_um = 20
[biophysics]
cm_uF_cm2 = 1.0
Ra_ohm_cm = 35.4
celsius = 6.3
mechanisms = [ { name = "hh", where = "all" } ]
[[stimulus]]
kind = "iclamp"
at = { x = 0.0 }
delay_ms = 0.5
dur_ms = 0.5
amp_nA = 1.0
[[probe]]
name = "mid"
at = { x = 0.5 }
[[probe]]
name = "m_gate"
at = { x = 0.5 }
var = "hh.m"
[simulation]
dt_ms = 0.025
tstop_ms = 8
v_init_mV = -65
method = "backward_euler"
[velocity]
from = { x = 0.3 }
to = { x = 0.7 }
threshold_mV = 0
"""


def write(tmp_path, text, name="model.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_summary(tmp_path, capsys):
    code, out, err = run(["run", write(tmp_path, SMALL), "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_compartments"] == 100
    assert summary["run_wall_s"] > 0
    mid = summary["probes"]["mid"]
    assert set(mid) == {"spike_times_ms", "v_max_mV", "v_min_mV", "v_final_mV"}
    assert len(mid["spike_times_ms"]) == 1 and mid["v_max_mV"] > 0
    assert "m_gate" not in summary["probes"]  # only voltage probes are summarised
    assert summary["velocity"]["cv_m_s"] > 0
    assert summary["velocity"]["path_um"] == pytest.approx(800.0, rel=0.05)


def test_outputs_written(tmp_path, capsys):
    model = write(tmp_path, SMALL + "[recording]\nspace_every = 4\n")
    out_npz, fig = tmp_path / "r.npz", tmp_path / "f.png"
    code, out, err = run(["run", model, "--out", out_npz, "--plot", fig], capsys)
    assert code == 0, err
    data = np.load(out_npz)
    assert data["traces"].shape == (2, len(data["t_ms"]))
    assert data["space_v_mV"].shape[1] == len(data["distance_um"])
    assert fig.stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "model.toml", "r.npz"]  # no temp files left


BAD = [
    ("[simulation]\ndt_ms = 0.025\n", "morphology", "missing table"),
    (SMALL.replace("dt_ms = 0.025", "dt_ms = -1"), "simulation.dt_ms", "> 0"),
    (SMALL.replace("dt_ms = 0.025", "dt_ms = 'fast'"), "simulation.dt_ms", "number"),
    (SMALL.replace("diam_um = 2", "diam_um = 0"), "morphology.cable.diam_um", "> 0"),
    (SMALL.replace("tstop_ms = 8", "tstop_ms = 8\nfoo = 1"), "simulation.foo", "unknown key"),
    (SMALL.replace('name = "hh"', 'name = "kdr"'), "biophysics.mechanisms[0].name", "unknown mechanism"),
    (SMALL.replace('where = "all" }', 'where = "all", gnabar = -1 }'), "biophysics.mechanisms[0].gnabar", ">= 0"),
    (SMALL.replace('where = "all" }', 'where = "all", gnabr = 1 }'), "biophysics.mechanisms[0]", "gnabr"),
    (SMALL.replace("at = { x = 0.5 }", "at = { x = 1.5 }", 1), "probe[0].at", "[0, 1]"),
    (SMALL.replace('kind = "iclamp"', 'kind = "vclamp"'), "stimulus[0].kind", "unknown stimulus"),
    (SMALL.replace("max_segment_um = 20", "max_segment_um = 0"), "discretization.max_segment_um", "> 0"),
    (SMALL.replace('method = "backward_euler"', 'method = "rk4"'), "simulation.method", "unknown method"),
    (SMALL.replace("to = { x = 0.7 }", "to = { x = 0.3 }"), "velocity.to", "same compartment"),
    (SMALL + "[recording]\nspace_every = 1\nmax_MB = 0.001\n", "recording.space_every", "max_MB"),
    (SMALL.replace("[[probe]]", "[probe]", 1), "", "invalid TOML"),
]


@pytest.mark.parametrize("text, key, words", BAD)
def test_bad_model_exits_2_with_one_line(tmp_path, capsys, text, key, words):
    model = write(tmp_path, text)
    out_npz = tmp_path / "r.npz"
    code, out, err = run(["run", model, "--json", "--out", out_npz], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(model) in err and key in err and words in err
    assert not out_npz.exists()


def test_toml_syntax_error_names_the_line(tmp_path, capsys):
    model = write(tmp_path, "[simulation]\ndt_ms = = 1\n")
    code, _, err = run(["run", model], capsys)
    assert code == 2 and "line 2" in err


def test_missing_file_and_missing_output_folder(tmp_path, capsys):
    code, _, err = run(["run", tmp_path / "nope.toml"], capsys)
    assert code == 2 and "nope.toml" in err and "no such file" in err
    model = write(tmp_path, SMALL)
    code, _, err = run(["run", model, "--out", tmp_path / "missing" / "r.npz"], capsys)
    assert code == 2 and "does not exist" in err


def test_shipped_squid_model_and_module_entry_point():
    # The shipped model file, through `python -m hhcable` as a user would run it.
    done = subprocess.run([sys.executable, "-m", "hhcable", "run", str(EXAMPLES / "squid_axon.toml"), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # Hodgkin & Huxley's 18.8 m/s, within the 1.5 % at these settings.
    assert summary["velocity"]["cv_m_s"] == pytest.approx(18.8, rel=0.015)
    assert summary["n_compartments"] == 3000


def test_demo_writes_figure(tmp_path, capsys):
    fig = tmp_path / "demo.png"
    code, out, err = run(["demo", "--out", fig, "--max-segment", "50", "--dt", "0.01"], capsys)
    assert code == 0, err
    assert "conduction velocity" in out and str(fig) in out
    assert fig.stat().st_size > 10_000


# -- output files: checked before the run, never through a link or onto a device ------------------
def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if ".hhcable-tmp-" in p.name)


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "dangling symlink"])
def test_out_onto_a_non_regular_file_is_refused_and_left_alone(tmp_path, capsys, kind):
    import os

    model = write(tmp_path, SMALL)
    target = tmp_path / "r.npz"
    if kind == "symlink":
        (tmp_path / "precious.txt").write_text("keep me")
        target.symlink_to(tmp_path / "precious.txt")
    elif kind == "dangling symlink":
        target.symlink_to(tmp_path / "nowhere")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    code, out, err = run(["run", model, "--out", target], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--out" in err and "leaves it alone" in err
    assert target.is_symlink() == ("symlink" in kind) and target.exists() == (kind != "dangling symlink")
    if kind == "symlink":
        assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert leftovers(tmp_path) == []


def test_out_onto_a_device_is_refused():
    code = cli.main(["run", str(EXAMPLES / "passive_cable.toml"), "--out", "/dev/null"])
    assert code == 2


def test_unknown_figure_format_fails_before_the_run_and_writes_nothing(tmp_path, capsys):
    model = write(tmp_path, SMALL)
    code, out, err = run(["run", model, "--out", tmp_path / "r.npz", "--plot", tmp_path / "f.xyz"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--plot" in err and ".xyz" in err and "png" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml"]  # --out not written either


@pytest.mark.parametrize("argv, words", [
    (["--out", "{d}/same.png", "--plot", "{d}/same.png"], "same file as --out"),
    (["--out", "{d}/model.toml"], "input file"),
    (["--out", "{d}/"], "names a folder"),
    (["--out", "{d}/r\0.npz"], "NUL"),
    (["--out", "{d}/" + "x" * 250 + ".npz"], "too long"),
    (["--out", "{d}/model.toml/r.npz"], "not a folder"),
])
def test_bad_output_paths_exit_2_before_the_run(tmp_path, capsys, argv, words):
    model = write(tmp_path, SMALL)
    code, out, err = run(["run", model, *[a.format(d=tmp_path) for a in argv]], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err
    assert "\0" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml"] and model.read_text() == SMALL


def test_read_only_folder_is_refused_before_the_run(tmp_path, capsys):
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running with privileges that ignore folder permissions (root)")
        code, out, err = run(["run", write(tmp_path, SMALL), "--out", folder / "r.npz"], capsys)
        assert code == 2 and err.count("\n") == 1 and "not writable" in err
    finally:
        folder.chmod(0o755)


def test_a_failed_write_is_one_line_exit_1_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    # The disk fills up while the results are written: the system's fault, not the input's.
    import errno

    def full(fh, **arrays):
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    (tmp_path / "r.npz").write_bytes(b"old results")
    code, out, err = run(["run", write(tmp_path, SMALL), "--out", tmp_path / "r.npz"], capsys)
    assert code == 1 and out == "" and err.count("\n") == 1 and "No space left" in err
    assert (tmp_path / "r.npz").read_bytes() == b"old results" and leftovers(tmp_path) == []


def test_ctrl_c_while_writing_exits_130_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(fh, **arrays):
        fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    code, out, err = run(["run", write(tmp_path, SMALL), "--out", tmp_path / "r.npz"], capsys)
    assert code == 130 and err.strip() == "hhcable: error: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml"]


def test_plot_failure_after_the_run_leaves_no_out_file(tmp_path, capsys, monkeypatch):
    # Outputs are committed together: a figure that cannot be drawn keeps --out unwritten too.
    import hhcable.plotting
    from hhcable import InputError

    def broken(*args, **kwargs):
        raise InputError("cannot draw this", key="plot")

    monkeypatch.setattr(hhcable.plotting, "plot_result", broken)
    code, _, err = run(["run", write(tmp_path, SMALL), "--out", tmp_path / "r.npz", "--plot", tmp_path / "f.png"],
                       capsys)
    assert code == 2 and "cannot draw this" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml"]


def test_existing_results_are_replaced_whole_keeping_their_permissions(tmp_path, capsys):
    model = write(tmp_path, SMALL)
    target = tmp_path / "r.npz"
    target.write_bytes(b"old")
    target.chmod(0o640)
    code, _, err = run(["run", model, "--out", target], capsys)
    assert code == 0, err
    assert np.load(target)["traces"].shape[0] == 2 and (target.stat().st_mode & 0o777) == 0o640


def test_text_output_with_undefined_voltages(tmp_path, capsys, monkeypatch):
    from hhcable import modelfile

    real = modelfile.summarize

    def nan_summary(result, *args, **kwargs):
        result.traces[:] = np.nan
        return real(result, *args, **kwargs)

    monkeypatch.setattr(modelfile, "summarize", nan_summary)
    code, out, err = run(["run", write(tmp_path, SMALL)], capsys)
    assert code == 0 and "v from undefined to undefined mV" in out
