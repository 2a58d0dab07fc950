"""Smoke test of the benchmark script: it runs and writes its table (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_squid_run_writes_table(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--models", "squid",
                           "--json", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = json.loads(out.read_text())
    (row,) = table["rows"]
    assert row["model"] == "squid" and row["n_compartments"] == 3000 and row["n_steps"] == 1600
    assert row["hhcable_ns_per_compartment_step"] > 0
    assert "squid" in proc.stdout and "ns/c-s" in proc.stdout


def test_unknown_model_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--models", "nosuch",
                           "--json", str(tmp_path / "x.json")], capture_output=True, text=True)
    assert proc.returncode == 2 and "nosuch" in proc.stderr
    assert not (tmp_path / "x.json").exists()


def test_channel_benchmark_runs_and_reports_the_a_current_share(tmp_path):
    out = tmp_path / "channels.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "channels.py"), "--quick", "--runs",
                           "hh numba", "hh+A numba", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    table = json.loads(out.read_text())
    assert set(table["rows"]) == {"hh numba", "hh+A numba"}
    assert all(row["spikes"] == 1 for row in table["rows"].values())  # both axons conducted
    assert "A-current extra, numba" in table["summary"]


def test_peers_check_refuses_a_simulator_that_computes_something_else(tmp_path):
    # NEURON twice on the tiny axon: with the model's dt it agrees with hhcable (velocity and
    # latencies within the check's 2 % and 5 %) and is timed; at 4x the dt its spike is
    # 3.5 % slower and 9 % later (backward Euler), and the check must refuse to time it.
    pytest.importorskip("neuron")
    out = tmp_path / "peers.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "peers.py"), "--quick", "--models", "tiny",
                           "--peers", "neuron", "--columns", "NEURON tables", "NEURON exact",
                           "--dt-scale", "NEURON exact", "4", "--json", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["rows"]
    same, other = row["runs"]["NEURON tables"], row["runs"]["NEURON exact"]
    assert same["status"] == "ok" and same["ns_per_compartment_step"] > 0
    assert abs(same["velocity_m_per_s"] / row["runs"]["hhcable exact"]["velocity_m_per_s"] - 1) < 0.02
    assert other["status"].startswith("refused") and "ns_per_compartment_step" not in other
    assert "REFUSED, not timed" in proc.stdout


def test_scaling_benchmark_alternates_one_and_two_threads(tmp_path):
    out = tmp_path / "scaling.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scaling.py"), "--models", "tiny",
                           "--repeats", "2", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["rows"]
    assert row["model"] == "tiny" and len(row["runs_1"]) == len(row["runs_2"]) == 2
    assert row["scaling"] == pytest.approx(min(row["runs_1"]) / min(row["runs_2"]))
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scaling.py"), "--models", "nosuch"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "nosuch" in bad.stderr
