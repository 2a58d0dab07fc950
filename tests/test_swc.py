"""SWC reading, validation, soma conventions and writing.

References: the SWC format as NeuroMorpho.Org describes it, and test files from NeuroM and
MorphIO (tests/data/README.md) whose expected structure comes from their own descriptions.
"""

import io
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable.discretize import discretize
from hhcable.swc import MIN_RADIUS_UM, summary

# The files here are full of soft problems on purpose; tests that look for them use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::hhcable.SWCWarning")

DATA = Path(__file__).parent / "data"
REAL = Path(__file__).parent.parent / "morphologies"

SIMPLE = """# soma, a dendrite that forks, an axon
1 1 0 0 0 1 -1
2 3 0 0 0 1 1
3 3 0 5 0 1 2
4 3 -5 5 0 0.5 3
5 3 6 5 0 0.5 3
6 2 0 0 0 1 1
7 2 0 -4 0 1 6
"""


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        return fn(*args, **kwargs)


def tree(morph):
    """Nodes with their attributes and the edges, for comparing two loads."""
    g = morph.graph
    nodes = {n: (d["type"], d["x"], d["y"], d["z"], d["radius"]) for n, d in g.nodes(data=True)}
    return nodes, sorted(g.edges)


def line_of(path, prefix):
    """1-based number of the first line of ``path`` that starts (after spaces) with ``prefix``."""
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, start=1) if text.strip().startswith(prefix))


# -- the files from other projects -------------------------------------------------------------
@pytest.mark.parametrize("name, prefix", [
    ("NeuroM__Neuron_missing_ids.swc", "8 2"),      # first sample naming the missing parent 7
    ("NeuroM__repeated_id.swc", "4 3 0 0 4 0.5 3 #"),  # the second row with id 4
    ("MorphIO__disconnected_neurite.swc", "10 3"),  # the second root
])
def test_invalid_edge_files_name_the_line(name, prefix):
    path = DATA / name
    with pytest.raises(hc.SWCError) as err:
        hc.read_swc(path)
    assert err.value.line == line_of(path, prefix)
    assert str(err.value).startswith(f"{path}:{err.value.line}: ")


@pytest.mark.parametrize("name, types, soma", [
    # type counts as the files' own comments and the provenance checker give them
    ("NeuroM__three_pt_soma.swc", {1: 3, 2: 10, 3: 5, 4: 5}, "three-point"),
    ("MorphIO__soma_cylinders.swc", {1: 4, 2: 2}, "cylinders"),
    ("MorphIO__simple-all-types.swc", {1: 1, **{k: 2 for k in range(5, 20)}}, "sphere"),
    ("MorphIO__simple-windows-eol.swc", {1: 1, 2: 4, 3: 4}, "sphere"),
    ("NeuroM__simple_reversed.swc", {1: 1, 2: 4, 3: 4}, "sphere"),
    ("NeuroM__soma_zero_radius.swc", {1: 1, 2: 4, 3: 4}, "sphere"),
])
def test_valid_edge_files_load(name, types, soma):
    morph = quiet(hc.read_swc, DATA / name)
    info = summary(morph)
    assert info["types"] == {str(k): v for k, v in types.items()}
    assert morph.soma == soma
    assert all(r > 0 for _, r in morph.graph.nodes(data="radius"))
    hc.Cell(morph, max_segment=5.0)  # every one discretises


def test_reversed_file_is_the_same_tree_as_the_sorted_one():
    # simple_reversed.swc is NeuroM's simple.swc with the leaves moved before their parents
    rows = [ln for ln in (DATA / "NeuroM__simple_reversed.swc").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    ordered = sorted(rows, key=lambda ln: int(ln.split()[0]))
    a = quiet(hc.read_swc, DATA / "NeuroM__simple_reversed.swc")
    b = quiet(hc.parse_swc, "\n".join(ordered))
    assert tree(a) == tree(b)


def test_windows_file_matches_unix_copy():
    text = (DATA / "MorphIO__simple-windows-eol.swc").read_bytes()
    assert b"\r\n" in text
    a = quiet(hc.read_swc, DATA / "MorphIO__simple-windows-eol.swc")
    b = quiet(hc.parse_swc, text.decode().replace("\r\n", "\n"))
    assert tree(a) == tree(b)
    assert a.graph.nodes[9]["radius"] == 2.0  # the 60-digit radius


# -- hard errors ---------------------------------------------------------------------------------
BAD = {
    "columns": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1\n", 2, "7 columns"),
    "not a number": ("1 1 0 0 0 1 -1\n2 3 0 abc 0 1 1\n", 2, "not a number"),
    "not finite": ("1 1 0 0 0 1 -1\n2 3 0 nan 0 1 1\n", 2, "finite"),
    "fractional id": ("1 1 0 0 0 1 -1\n2.5 3 0 5 0 1 1\n", 2, "whole number"),
    "duplicate": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1 1\n# c\n2 3 0 9 0 1 1\n", 4, "duplicate"),
    "missing parent": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1 1\n3 3 0 9 0 1 7\n", 3, "missing parent 7"),
    "self parent": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1 2\n", 2, "its own parent"),
    "cycle": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1 1\n3 3 0 9 0 1 4\n4 3 0 9 1 1 3\n", 3, "cycle"),
    "cycle, no root": ("5 3 0 5 0 1 6\n6 3 0 9 0 1 5\n", 1, "cycle"),
    "two roots": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1 1\n\n3 3 0 9 0 1 -1\n", 4, "second root"),
    "negative radius": ("1 1 0 0 0 1 -1\n2 3 0 5 0 -1 1\n", 2, "negative radius"),
    "bad parent": ("1 1 0 0 0 1 -1\n2 3 0 5 0 1 -5\n", 2, "-1 for the root"),
    "zero-length root section": ("1 3 0 0 0 1 -1\n2 3 0 0 0 1 1\n3 3 0 5 0 1 2\n4 3 0 9 0 1 2\n", 2, "zero length"),
    "one sample": ("# a lone dendrite point\n1 3 0 0 0 1 -1\n", 2, "two samples"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_hard_errors_name_file_and_line(case):
    text, line, words = BAD[case]
    with pytest.raises(hc.SWCError) as err:
        hc.parse_swc(text, source="cell.swc")
    assert err.value.line == line
    assert str(err.value).startswith(f"cell.swc:{line}: ")
    assert words in str(err.value)
    assert isinstance(err.value, ValueError)


def test_no_samples():
    with pytest.raises(hc.SWCError, match="no samples"):
        hc.parse_swc("# only a comment\n\n")


def test_missing_file(tmp_path):
    with pytest.raises(hc.SWCError, match="cannot read"):
        hc.read_swc(tmp_path / "absent.swc")


# -- soft problems -----------------------------------------------------------------------------------
def test_soft_problems_are_listed_and_warned():
    text = ("1 1 0 0 0 5 -1\n"
            "2 3 0 0 0 1 1   # starts at the soma centre: joined electrically, not a problem\n"
            "3 3 0 20 0 0 2\n"       # zero radius
            "4 3 0 20 0 1 3\n"       # sits on its parent: a zero-length segment
            "5 3 0 60 0 9 4\n"       # radius jumps 9x
            "6 7 0 -20 0 1 1\n")     # custom type code
    with pytest.warns(hc.SWCWarning) as caught:
        morph = hc.parse_swc(text, source="w.swc")
    assert len(caught) == len(morph.warnings) == 4
    by_line = {int(w.split(":")[1]): w for w in morph.warnings}
    assert "radius 0" in by_line[3] and "zero-length" in by_line[4]
    assert "jump" in by_line[5] and "type code 7" in by_line[6]
    assert morph.graph.nodes[3]["radius"] == MIN_RADIUS_UM
    assert morph.graph.nodes[6]["type"] == 7


def test_branch_without_membrane_is_removed_with_a_warning():
    # Sample 2 sits on the one-point soma and has no other sample: NEURON's Import3d makes
    # the two-point section (soma centre, sample 2) and removes it, as it has zero length.
    text = "1 1 0 0 0 1 -1\n2 3 0 0 0 1 1\n3 2 0 0 0 1 1\n4 2 0 9 0 1 3\n"
    with pytest.warns(hc.SWCWarning, match="removed"):
        morph = hc.parse_swc(text, source="z.swc")
    assert [s.name for s in morph.sections] == ["soma[0]", "axon[0]"]
    assert morph.warnings[0].startswith("z.swc:2: ")
    cell = hc.Cell(morph, max_segment=1.0)
    # the removed sample still locates: the soma's middle, where its section attached
    assert cell.locate(hc.Location(swc_id=2)) == cell.locate(hc.Location(swc_id=1))


def test_extra_columns_ignored_with_a_warning():
    with pytest.warns(hc.SWCWarning, match="columns after the 7th"):
        morph = hc.parse_swc("1 1 0 0 0 1 -1 0.5 x\n2 3 0 5 0 1 1 0.5 y\n")
    assert tree(morph) == tree(hc.parse_swc("1 1 0 0 0 1 -1\n2 3 0 5 0 1 1\n"))


def test_streams_paths_and_strings_agree(tmp_path):
    path = tmp_path / "simple.swc"
    path.write_text(SIMPLE)
    a = hc.read_swc(path)
    b = hc.read_swc(io.StringIO(SIMPLE))
    c = hc.read_swc(io.BytesIO(SIMPLE.encode()))
    d = hc.read_swc(str(path))
    e = hc.parse_swc(SIMPLE)
    assert tree(a) == tree(b) == tree(c) == tree(d) == tree(e)


# -- soma conventions ------------------------------------------------------------------------------------
def soma_area(morph):
    comp = discretize(morph, Ra=100.0, cm=1.0, max_segment=1.0)
    return comp.area[comp.type == 1].sum()


def test_one_point_soma_has_the_area_of_its_sphere():
    morph = hc.parse_swc("1 1 3 4 5 6 -1\n2 3 3 10 5 1 1\n3 3 3 60 5 1 2\n")
    assert morph.soma == "sphere" and len(morph.graph) == 3  # no samples added
    assert soma_area(morph) == pytest.approx(4 * math.pi * 6.0**2, rel=1e-12)
    # NEURON's cylinder for a sphere: along x, length = diameter, centred on the sample
    np.testing.assert_array_equal(morph.sections[0].points[:, 0], [-3.0, 3.0, 9.0])


def test_three_point_soma_has_the_area_of_its_sphere():
    morph = quiet(hc.read_swc, DATA / "NeuroM__three_pt_soma.swc")
    assert soma_area(morph) == pytest.approx(4 * math.pi * 2.0**2, rel=1e-12)  # r = 2 in the file


def test_cylinder_soma_uses_its_frustums():
    morph = quiet(hc.read_swc, DATA / "MorphIO__soma_cylinders.swc")
    # three unit-length cylinders of radius 40 along x (the file's own comment)
    assert soma_area(morph) == pytest.approx(2 * math.pi * 40.0 * 3.0, rel=1e-12)
    with pytest.raises(hc.SWCError, match="soma='sphere'"):
        hc.read_swc(DATA / "MorphIO__soma_cylinders.swc", soma="sphere")


def test_soma_option_cylinders_reads_three_points_as_two_cylinders():
    morph = quiet(hc.read_swc, DATA / "NeuroM__three_pt_soma.swc", soma="cylinders")
    assert morph.soma == "cylinders"
    assert [s.name for s in morph.sections if s.type == 1] == ["soma[0]", "soma[1]"]
    # two cylinders of radius 2 and length 2: the sphere's area again, by other means
    assert soma_area(morph) == pytest.approx(4 * math.pi * 2.0**2, rel=1e-12)
    assert hc.parse_swc(SIMPLE, soma="cylinders").soma == "sphere"  # one point has one reading
    axon = hc.parse_swc("1 2 0 0 0 1 -1\n2 2 100 0 0 1 1\n")
    assert axon.soma == "none"
    with pytest.raises(hc.InputError):
        hc.parse_swc(SIMPLE, soma="ellipsoid")


def test_every_sample_id_locates_its_compartment():
    morph = quiet(hc.read_swc, DATA / "NeuroM__simple_reversed.swc")
    cell = hc.Cell(morph, max_segment=1.0)
    for sample in range(1, 10):
        node = cell.locate(hc.Location(swc_id=sample))
        d = morph.graph.nodes[sample]
        # the node holding a sample lies within one segment of it
        assert np.linalg.norm(cell.compartments.xyz[node] - [d["x"], d["y"], d["z"]]) <= 1.0


def test_scale_turns_nanometres_into_micrometres():
    um = hc.parse_swc(SIMPLE)
    nm_text = "\n".join(" ".join([*ln.split()[:2], *(str(float(v) * 1000) for v in ln.split()[2:6]),
                                  ln.split()[6]]) for ln in SIMPLE.splitlines() if not ln.startswith("#"))
    nm = hc.parse_swc(nm_text, scale=1e-3)
    for (n, a), (m, b) in zip(sorted(tree(um)[0].items()), sorted(tree(nm)[0].items())):
        assert n == m and a[0] == b[0] and np.allclose(a[1:], b[1:], rtol=1e-12)
    with pytest.raises(hc.InputError):
        hc.parse_swc(SIMPLE, scale=0.0)


# -- writing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(REAL.glob("*.swc")) + [
    DATA / "NeuroM__three_pt_soma.swc", DATA / "MorphIO__soma_cylinders.swc",
    DATA / "NeuroM__soma_zero_radius.swc"], ids=lambda p: p.name)
def test_load_write_load_gives_the_same_tree(path):
    scale = 1e-3 if "flywire" in path.name else 1.0
    first = quiet(hc.read_swc, path, scale=scale)
    out = io.StringIO()
    hc.write_swc(first, out)
    again = quiet(hc.parse_swc, out.getvalue())
    assert tree(again) == tree(first)
    assert again.soma == first.soma


# -- fuzz -------------------------------------------------------------------------------------------
def fuzz_cases(rng, base):
    lines = base.splitlines()
    for _ in range(100):  # random bytes
        yield bytes(rng.integers(0, 256, size=int(rng.integers(0, 300)), dtype=np.uint8))
    for _ in range(100):  # truncated lines
        cut = list(lines)
        k = int(rng.integers(len(cut)))
        cut[k] = cut[k][: int(rng.integers(len(cut[k]) + 1))]
        yield "\n".join(cut[: int(rng.integers(1, len(cut) + 1))]).encode()
    for _ in range(100):  # shuffled rows, some with a field replaced
        rows = list(rng.permutation(lines))
        if rng.random() < 0.5:
            k = int(rng.integers(len(rows)))
            fields = rows[k].split()
            if fields:
                fields[int(rng.integers(len(fields)))] = str(rng.choice(["-1", "0", "1", "3", "x", "1e999", "-0.5"]))
            rows[k] = " ".join(fields)
        yield "\n".join(rows).encode()


def test_fuzz_only_swc_errors_escape():
    base = (DATA / "NeuroM__three_pt_soma.swc").read_text()
    rng = np.random.default_rng(20240611)
    outcomes = {"loaded": 0, "rejected": 0}
    for data in fuzz_cases(rng, base):
        try:
            quiet(hc.read_swc, io.BytesIO(data))
            outcomes["loaded"] += 1
        except hc.SWCError as err:
            assert str(err).startswith("<stream>")
            outcomes["rejected"] += 1
    assert outcomes["loaded"] > 50 and outcomes["rejected"] > 50  # both paths were exercised


def test_shuffled_rows_give_the_same_tree():
    base = [ln for ln in (DATA / "NeuroM__three_pt_soma.swc").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    ref = tree(quiet(hc.parse_swc, "\n".join(base)))
    rng = np.random.default_rng(7)
    for _ in range(20):
        assert tree(quiet(hc.parse_swc, "\n".join(rng.permutation(base)))) == ref


# -- command line and model file ------------------------------------------------------------------
def test_swc_info_json(capsys):
    from hhcable import cli
    path = REAL / "nrn__c91662.swc"
    assert cli.main(["swc-info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    # counts from the file itself (PROVENANCE.md's independent checker: 1510 points,
    # types 1:3, 2:38, 3:484, 4:985, a three-point soma)
    assert info["n_samples"] == 1510 and info["soma"] == "three-point"
    assert info["types"] == {"1": 3, "2": 38, "3": 484, "4": 985}
    for key in ("n_sections", "n_branch_points", "n_tips", "neurite_length_um", "area_um2", "warnings"):
        assert key in info
    # a binary tree with b branch points has b + 1 tips per neurite: here 1 + sum over neurites
    assert info["n_tips"] > info["n_branch_points"] > 0


def test_swc_info_counts_a_tree_we_can_count_by_hand(tmp_path, capsys):
    from hhcable import cli
    path = tmp_path / "simple.swc"
    path.write_text(SIMPLE)
    assert cli.main(["swc-info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    # NeuroM's counts: the soma is no branch point; sample 3 is; tips 4, 5, 7; sections
    # 2-3, 3-4, 3-5 and 6-7
    assert (info["n_samples"], info["n_branch_points"], info["n_tips"]) == (7, 1, 3)
    assert info["n_sections"] == 4
    # neurite segments 3-2 (5), 4-3 (5), 5-3 (6), 7-6 (4); a neurite starts at its first
    # sample, so 2-1 and 6-1 (soma to neurite) do not count
    assert info["neurite_length_um"] == pytest.approx(20.0)
    assert info["length_by_type_um"] == {"2": pytest.approx(4.0), "3": pytest.approx(16.0)}
    assert info["types"] == {"1": 1, "2": 2, "3": 4} and info["soma"] == "sphere"
    assert info["type_names"] == {"1": "soma", "2": "axon", "3": "basal dendrite"}
    assert info["n_neuron_sections"] == 5 and info["units_hint"] is None


def test_swc_info_bad_file_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys
    path = DATA / "NeuroM__Neuron_missing_ids.swc"
    entry = "import sys; from hhcable import cli; sys.exit(cli.main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", entry, "swc-info", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:{line_of(path, '8 2')}: " in lines[0]


def test_swc_info_scale_and_text(capsys):
    from hhcable import cli
    path = REAL / "jaxley__morph_flywire_t4_720575940626407426.swc"
    assert cli.main(["swc-info", str(path), "--scale", "1e-3"]) == 0
    out = capsys.readouterr().out
    assert "2455 samples" in out and "warning:" in out
    assert cli.main(["swc-info", str(path), "--scale", "-1"]) == 2


def test_model_file_with_swc(tmp_path, capsys):
    from hhcable import cli
    (tmp_path / "cells").mkdir()
    (tmp_path / "cells" / "simple.swc").write_text(SIMPLE.replace(" 0.5 ", " 0.3 "))
    model = tmp_path / "model.toml"
    model.write_text("""
[morphology]
swc = "cells/simple.swc"
scale = 10.0
[discretization]
max_segment_um = 5
[biophysics]
mechanisms = [ { name = "hh", where = "all" } ]
[[stimulus]]
kind = "iclamp"
at = { swc_id = 1 }
delay_ms = 0.5
dur_ms = 1.0
amp_nA = 2.0
[[probe]]
name = "tip"
at = { swc_id = 5 }
[simulation]
dt_ms = 0.025
tstop_ms = 8
[velocity]
from = { swc_id = 1 }
to = { swc_id = 7 }
""")
    assert cli.main(["run", str(model), "--json"]) == 0
    summary_ = json.loads(capsys.readouterr().out)
    assert summary_["probes"]["tip"]["spike_times_ms"]
    # the soma's middle (where the axon attaches) to sample 7: 4 file units x scale 10
    assert summary_["velocity"]["path_um"] == pytest.approx(40.0)
    model.write_text(model.read_text().replace('swc = "cells/simple.swc"', 'swc = "cells/absent.swc"'))
    assert cli.main(["run", str(model)]) == 2
    assert "absent.swc" in capsys.readouterr().err
    model.write_text(model.read_text().replace("scale = 10.0", 'scale = 10.0\nsoma = "blob"'))
    assert cli.main(["run", str(model)]) == 2
    assert "morphology.soma" in capsys.readouterr().err


# Computed with NeuroM 4.0.6 (features number_of_sections, number_of_forking_points,
# number_of_leaves, total_length) on the same files; NeuroM keeps points in single precision.
NEUROM = {
    REAL / "nrn__c91662.swc": (193, 94, 99, 15328.3718),
    REAL / "bmtk__Pvalb_470522102_m.swc": (37, 16, 21, 2408.5268),
    REAL / "arbor-thorstenhater__purkinje_mouse_original.swc": (757, 378, 379, 6425.2407),
    DATA / "NeuroM__three_pt_soma.swc": (4, 0, 4, 16.0),
    DATA / "MorphIO__simple-windows-eol.swc": (6, 2, 4, 31.0),
}


@pytest.mark.parametrize("path", sorted(NEUROM), ids=lambda p: p.name)
def test_swc_info_counts_as_neurom(path):
    info = summary(quiet(hc.read_swc, path))
    sections, forks, leaves, length = NEUROM[path]
    assert (info["n_sections"], info["n_branch_points"], info["n_tips"]) == (sections, forks, leaves)
    # 1e-6: NeuroM's single-precision coordinates
    assert info["neurite_length_um"] == pytest.approx(length, rel=1e-6)
    assert sum(info["length_by_type_um"].values()) == pytest.approx(info["neurite_length_um"])


def test_swc_info_says_when_a_file_looks_like_nanometres(capsys):
    from hhcable import cli
    path = REAL / "jaxley__morph_flywire_t4_720575940626407426.swc"  # navis: "units": "1 nanometer"
    assert cli.main(["swc-info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert "nanometres" in info["units_hint"] and "--scale 0.001" in info["units_hint"]
    assert any("nanometres" in w for w in info["warnings"])
    assert info["type_names"] == {"0": "undefined", "1": "soma", "5": "fork point", "6": "end point"}
    assert cli.main(["swc-info", str(path), "--json", "--scale", "1e-3"]) == 0
    assert json.loads(capsys.readouterr().out)["units_hint"] is None
    for micrometres in NEUROM:
        assert summary(quiet(hc.read_swc, micrometres))["units_hint"] is None


def test_swc_info_text_names_the_types(capsys):
    from hhcable import cli
    assert cli.main(["swc-info", str(REAL / "nrn__c91662.swc")]) == 0
    out = capsys.readouterr().out
    assert "apical dendrite (4): 985" in out and "basal dendrite (3): 484" in out
    assert "193 sections, 94 branch points, 99 tips" in out and "194 sections" in out
