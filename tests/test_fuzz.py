"""Fuzzing the inputs: every mutated SWC file and model file ends as a success or as one line.

The contract (DESIGN.md, README "Model files and the command line"): bad input exits with
status 2 and one line on stderr naming the file; a run that blows up exits with 3 and one
line; a success prints strict JSON (never NaN or Infinity).  No traceback, ever.  The cases
are seeded, so a failure names a case that can be replayed.  Most go through ``cli.main``
in this process (fast); a handful through the real command in a subprocess.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hhcable import cli

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
#: Work a model may need to be run here (nodes × steps); larger valid models are only loaded.
RUN_BUDGET = 2e6

NASTY_SWC = ["-1", "0", "1", "3", "x", "1e999", "-0.5", "nan", "inf", "-inf", "1e200", "3.4e38", "1e20",
             "-1e20", "9007199254740993", "1e9", "1.5", "0x10", "1_0", "\u0661", "+2", ".5", "5.", "-0",
             "1e-320", "1e308", "-1e9", "2147483648"]
NASTY_TOML = ["0", "-1", "1e308", "-1e308", "5e-324", "nan", "inf", "-inf", '"0.5"', '"x"', "true", "[]",
              "{}", "[1]", "1.5", "3", "1e12", "10000", "-1e9", "9223372036854775807", "-9223372036854775808",
              '"a\\u0000b"', "0.001", "1e-7", "{ x = 0.5 }", '"all"', '"soma"', '""', "1e6", "61", "1e-300",
              "[0.0, 1.0]", '{ node = 1.5 }', '{ swc_id = [1] }', '{ x = true }', "2000", "0.2"]
#: Values that are often valid somewhere, so that many mutants run.
PLAUSIBLE_TOML = ["0.5", "2", "0.01", "10", "100", "-80", "0.3", '"crank_nicolson"', '"pas"', '"dend"', "1",
                  "0.05", "37", "1e-3", "{ x = 1.0 }", "{ node = 3 }", "[0.0, 0.5, 0.0]", "50"]

CELL_SWC = """# soma, a dendrite that branches, an axon
1 1 0 0 0 5 -1
2 3 0 5 0 1 1
3 3 0 30 0 1 2
4 3 10 50 0 0.5 3
5 3 -10 50 0 0.5 3
6 2 0 -5 0 0.8 1
7 2 0 -60 0 0.8 6
"""

MODEL = """
[morphology]
cable = { length_um = 200, diam_um = 2 }
[discretization]
max_segment_um = 20
[biophysics]
cm_uF_cm2 = 1.0
Ra_ohm_cm = 100
celsius = 6.3
mechanisms = [ { name = "hh", where = "all" } ]
[[stimulus]]
kind = "iclamp"
at = { x = 0.0 }
delay_ms = 0.2
dur_ms = 0.5
amp_nA = 0.5
[[stimulus]]
kind = "waveform"
at = { x = 1.0 }
t_ms = [0.0, 1.0, 2.0]
amp_nA = [0.0, 0.1, 0.0]
[[probe]]
name = "mid"
at = { x = 0.5 }
[simulation]
dt_ms = 0.05
tstop_ms = 2
v_init_mV = -65
method = "backward_euler"
[velocity]
from = { x = 0.2 }
to = { x = 0.8 }
threshold_mV = 0
[recording]
space_every = 4
"""

SWC_MODEL = """
[morphology]
swc = "cell.swc"
[discretization]
d_lambda = 0.1
[biophysics]
mechanisms = [ { name = "hh", where = "all" }, { name = "pas", where = "dend", g = 1e-4 } ]
[[stimulus]]
kind = "pulse_train"
at = { swc_id = 1 }
delay_ms = 0.1
dur_ms = 0.2
amp_nA = 1.0
interval_ms = 0.5
number = 2
[[probe]]
name = "tip"
at = { swc_id = 4 }
[simulation]
dt_ms = 0.05
tstop_ms = 2
"""


def strict_json(text):
    def refuse(constant):
        raise ValueError(f"{constant} in --json output")

    return json.loads(text, parse_constant=refuse)


def check_outcome(code, out, err, name, case):
    """Success with strict JSON, or exit 2/3 with exactly one error line naming the file
    (``name``: a model's error may name the SWC file it reads, so the folder is enough)."""
    lines = err.splitlines()
    assert "Traceback" not in err, case
    assert all(line.startswith(("hhcable: error: ", "hhcable: warning: ")) for line in lines), (case, err)
    if code == 0:
        assert not any(line.startswith("hhcable: error") for line in lines), (case, err)
        strict_json(out)
        return "ok"
    assert code in (2, 3), (case, code, err)
    errors = [line for line in lines if line.startswith("hhcable: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], (case, err)
    assert out == "", case
    assert name in errors[0], (case, errors[0])
    return code


# -- SWC ---------------------------------------------------------------------------------------
def swc_mutations(rng, base, n):
    """``n`` mutated versions (bytes) of the SWC text ``base``."""
    lines = base.splitlines()
    for _ in range(n):
        rows = list(lines)
        for _ in range(int(rng.integers(1, 4))):
            op = int(rng.integers(7))
            k = int(rng.integers(len(rows)))
            if op == 0:  # a field replaced by a nasty token
                fields = rows[k].split()
                if fields:
                    fields[int(rng.integers(len(fields)))] = str(rng.choice(NASTY_SWC))
                    rows[k] = " ".join(fields)
            elif op == 1:  # a line dropped or doubled
                rows[k:k + 1] = [] if rng.random() < 0.5 else [rows[k], rows[k]]
            elif op == 2:  # a parent pointed anywhere
                fields = rows[k].split()
                if len(fields) >= 7:
                    fields[6] = str(int(rng.integers(-3, 12)))
                    rows[k] = " ".join(fields)
            elif op == 3:  # extra columns, comments, blank lines
                rows.insert(k, str(rng.choice(["", "#", "  # note", "\t", "1 1 0 0 0 1 -1 9 9"])))
            elif op == 4:
                rows = list(rng.permutation(rows))
            elif op == 5:  # a line cut short
                rows[k] = rows[k][: int(rng.integers(len(rows[k]) + 1))]
            if not rows:
                rows = [""]
        end = str(rng.choice(["\n", "\r\n", "\r"]))
        data = end.join(rows).encode("utf-8")
        op = int(rng.integers(10))
        if op == 0:
            data = b"\xef\xbb\xbf" + data
        elif op == 1:
            data = end.join(rows).encode(str(rng.choice(["utf-16", "utf-16-le", "utf-32", "cp1252"])), "replace")
        elif op == 2:  # stray bytes somewhere
            at = int(rng.integers(len(data) + 1))
            data = data[:at] + bytes(rng.integers(0, 256, size=int(rng.integers(1, 4)), dtype=np.uint8)) + data[at:]
        elif op == 3:
            data = data[: int(rng.integers(len(data) + 1))]
        yield data


def test_fuzz_swc_files_through_swc_info(tmp_path, capsys):
    rng = np.random.default_rng(20240612)
    bases = [CELL_SWC] + [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.swc"))]
    path = tmp_path / "mutant.swc"
    outcomes = {}
    for i in range(3000):
        data = next(swc_mutations(rng, bases[i % len(bases)], 1))
        path.write_bytes(data)
        argv = ["swc-info", str(path), "--json"] if i % 2 else ["swc-info", str(path)]
        code = cli.main(argv)
        out, err = capsys.readouterr()
        case = (i, data[:300])
        if code == 0 and "--json" not in argv:
            assert not err and out, case
            result = "ok"
        else:
            result = check_outcome(code, out, err, str(path), case)
        outcomes[result] = outcomes.get(result, 0) + 1
    # Both paths were exercised, and nothing blew up: no SWC input can reach a run.
    assert outcomes.get("ok", 0) > 300 and outcomes.get(2, 0) > 300 and set(outcomes) <= {"ok", 2}


# -- model files -------------------------------------------------------------------------------
_VALUE = re.compile(r"(\w+) = (\"[^\"]*\"|\[[^\]\n]*\]|\{[^}\n]*\}|[^,}\s]+)")


def model_mutations(rng, base, n):
    """``n`` mutated versions (text) of the model file ``base``: one to three edits each."""
    for _ in range(n):
        text = base
        for _ in range(int(rng.integers(1, 3))):
            op = int(rng.integers(10))
            if op < 7:  # a value replaced by a nasty or a plausible one
                spots = list(_VALUE.finditer(text))
                m = spots[int(rng.integers(len(spots)))]
                value = rng.choice(NASTY_TOML if rng.random() < 0.4 else PLAUSIBLE_TOML)
                text = text[: m.start(2)] + str(value) + text[m.end(2):]
            else:
                lines = text.splitlines()
                k = int(rng.integers(len(lines)))
                if op == 7:
                    del lines[k]
                elif op == 8:
                    lines.insert(k, str(rng.choice(["bogus = 1", "[[probe]]", "[simulation]", "x", "at = 3"])))
                else:
                    lines[k] = lines[k][: int(rng.integers(len(lines[k]) + 1))]
                text = "\n".join(lines)
        yield text


def affordable(path):
    """False if the (valid) model is too much work to run in a unit test."""
    import warnings

    from hhcable import InputError
    from hhcable.modelfile import load

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = load(path)
    except InputError:
        return True  # the command line will say so
    sim = model.simulation
    return sim.cell.compartments.n_nodes * model.tstop / sim.dt <= RUN_BUDGET


def run_model_cases(tmp_path, capsys, base, n, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "mutant.toml"
    outcomes, kept = {}, []
    for i, text in enumerate(model_mutations(rng, base, n)):
        path.write_text(text, encoding="utf-8")
        if not affordable(path):
            outcomes["too long to run here"] = outcomes.get("too long to run here", 0) + 1
            continue
        code = cli.main(["run", str(path), "--json"])
        out, err = capsys.readouterr()
        result = check_outcome(code, out, err, str(tmp_path), (i, text))
        outcomes[result] = outcomes.get(result, 0) + 1
        kept.append((text, result))
    return outcomes, kept


def test_fuzz_model_files_through_run(tmp_path, capsys):
    (tmp_path / "cell.swc").write_text(CELL_SWC)
    outcomes, kept = run_model_cases(tmp_path, capsys, MODEL, 300, 20240613)
    more, more_kept = run_model_cases(tmp_path, capsys, SWC_MODEL, 100, 20240614)
    for key, count in more.items():
        outcomes[key] = outcomes.get(key, 0) + count
    assert outcomes.get("ok", 0) > 25 and outcomes.get(2, 0) > 200, outcomes
    assert outcomes.get("too long to run here", 0) < 20, outcomes

    # A handful through the real command, as a user runs it: same outcome, same one line.
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    picks = [next(c for c in kept + more_kept if c[1] == want) for want in ("ok", 2)]
    picks += [c for c in kept if c[1] == 2][1:4]
    for i, (text, result) in enumerate(picks):
        model = tmp_path / f"real{i}.toml"
        model.write_text(text, encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "hhcable", "run", str(model), "--json"], capture_output=True,
                              text=True, timeout=120, env=env)
        assert check_outcome(done.returncode, done.stdout, done.stderr, str(tmp_path), text) == result


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_toml_special_floats_are_refused_with_the_key(tmp_path, capsys, value):
    path = tmp_path / "m.toml"
    path.write_text(MODEL.replace("amp_nA = 0.5", f"amp_nA = {value}"))
    assert cli.main(["run", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert "stimulus[0].amp_nA" in err and "finite" in err
