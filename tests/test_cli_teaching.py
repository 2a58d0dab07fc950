"""Command-line polish for a class: defaults for optional tables, honest timing, a progress
bar only for a person at a terminal, and a --help that lists every command with examples."""

import importlib.util
import inspect
import io
import json
from pathlib import Path

import pytest

import hhcable as hc
from hhcable.animation import steps_bar
from hhcable.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = """
[morphology]
cable = { length_um = 2000, diam_um = 2 }
[[stimulus]]
kind = "iclamp"
at = { x = 0 }
delay_ms = 1
dur_ms = 0.5
amp_nA = 1
[[probe]]
name = "far"
at = { x = 0.9 }
[simulation]
tstop_ms = 10
"""


def test_minimal_model_uses_the_defaults(tmp_path, capsys):
    """No [discretization], no [biophysics], no dt: d_lambda 0.1, HH everywhere, 0.025 ms,
    the same run as the API with those values; --json prints no progress bar."""
    model = tmp_path / "minimal.toml"
    model.write_text(MINIMAL)
    assert main(["run", str(model), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert captured.err == ""
    cell = hc.Cell(hc.Morphology.cable(length=2000.0, diam=2.0), d_lambda=0.1)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025)
    sim.iclamp(at=0.0, delay=1.0, dur=0.5, amp=1.0)
    sim.probe("far", at=0.9)
    res = sim.run(10.0)
    assert summary["n_compartments"] == cell.n_compartments
    assert summary["dt_ms"] == 0.025
    assert summary["probes"]["far"]["spike_times_ms"] == [round(float(s), 6) for s in hc.spike_times(res.t, res["far"])]
    # Timing is honest: compiling is part of the set-up, and both are reported.
    assert 0.0 <= summary["compile_s"] <= summary["setup_s"]


def test_steps_bar_draws_to_the_end():
    stream = io.StringIO()
    bar = steps_bar(stream)
    bar(300, 1200)
    bar(1200, 1200)
    text = stream.getvalue()
    assert "300/1200 steps" in text and text.endswith("1200/1200 steps\n")


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    model = tmp_path / "minimal.toml"
    model.write_text(MINIMAL)
    assert main(["run", str(model)]) == 0
    assert "steps" not in capsys.readouterr().err


def test_help_lists_every_command_with_examples():
    parser = build_parser()
    text = parser.format_help()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) >= {"run", "swc-info", "animate", "demo", "lab"}
    for name in commands:
        assert f"hhcable {name}" in text, name  # every command has an example
    assert "``" not in text


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("[0-9]*.py")), ids=lambda p: p.stem)
def test_examples_default_to_their_figures_folder(script):
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    default = inspect.signature(module.main).parameters["outdir"].default
    assert Path(default) == ROOT / "examples" / "figures"
