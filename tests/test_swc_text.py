"""SWC files as text: line ends, encodings, numbers that overflow, and files that are not files.

Whatever bytes a file holds, reading it ends as a morphology or as one SWCError naming the
file (and the line, where there is one); a FIFO or a device is refused without being read.
"""

import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import hhcable as hc

pytestmark = pytest.mark.filterwarnings("ignore::hhcable.SWCWarning")

LINES = ["# three samples", "1 1 0 0 0 5 -1", "2 3 0 5 0 1 1", "3 3 0 50 0 1 2"]


def load(data, name="cell.swc", tmp_path=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        if tmp_path is None:
            stream = io.BytesIO(data)
            stream.name = name
            return hc.read_swc(stream)
        path = tmp_path / name
        path.write_bytes(data)
        return hc.read_swc(path)


def samples(morph):
    return sorted(s for s, d in morph.graph.nodes(data=True) if not d.get("synthetic"))


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_gives_the_same_three_samples(end, tmp_path):
    morph = load(end.join(LINES).encode(), tmp_path=tmp_path)
    assert samples(morph) == [1, 2, 3]  # CR-only once loaded as one sample


def test_errors_count_lines_as_editors_do_whatever_the_line_ends():
    for end in ("\n", "\r\n", "\r"):
        text = end.join(LINES + ["4 3 0 60 0 1 9"])
        with pytest.raises(hc.SWCError) as err:
            load(text.encode())
        assert err.value.line == 5 and "missing parent 9" in str(err.value)


def test_a_utf8_byte_order_mark_is_accepted_in_bytes_and_in_text():
    data = "\n".join(LINES).encode("utf-8-sig")
    assert samples(load(data)) == [1, 2, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        assert samples(hc.read_swc(io.StringIO(data.decode("utf-8")))) == [1, 2, 3]  # \ufeff kept by a text stream
        assert samples(hc.parse_swc("\ufeff" + "\n".join(LINES))) == [1, 2, 3]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le", "utf-16-be"])
def test_utf16_and_utf32_get_one_clear_error(encoding):
    with pytest.raises(hc.SWCError, match="UTF-8") as err:
        load("\n".join(LINES).encode(encoding))
    assert str(err.value).startswith("cell.swc")
    assert any(words in str(err.value) for words in ("UTF-16", "UTF-32", "NUL"))


def test_latin1_in_a_comment_is_ignored_but_in_a_sample_is_an_error():
    text = "# auteur: M\xfcller\n" + "\n".join(LINES[1:])
    assert samples(load(text.encode("latin-1"))) == [1, 2, 3]
    with pytest.raises(hc.SWCError, match=r"cell.swc:3: byte 0xe9 is not UTF-8") as err:
        load("\n".join(LINES[:2] + ["2 3 0 5\xe9 0 1 1"]).encode("latin-1"))
    assert err.value.line == 3


@pytest.mark.parametrize("row, column", [
    ("2 3 1e200 5 0 1 1", "column 3 (x)"),
    ("2 3 0 3.4e38 0 1 1", "column 4 (y)"),
    ("2 1e200 0 5 0 1 1", "column 2 (type)"),
    ("2 3 1e20 0 0 1 1", "column 3 (x)"),  # two samples 1e20 µm apart once needed 21 GB
    ("2 3 0 5 0 1e300 1", "column 6 (radius)"),
    ("1e200 3 0 5 0 1 1", "column 1 (id)"),
    ("2 3 0 5 0 1 9007199254740993", "column 7 (parent)"),
    ("2 3 0 5 0 1 " + "9" * 400, "column 7 (parent)"),
    ("2 3 0 5 0 1e-320 1", "radius"),
    ("2 3 0 1_0 0 1 1", "not a number"),
    ("2 3 0 \u0661 0 1 1", "not a number"),
    ("2 3 0 infinity 0 1 1", "not a finite number"),
])
def test_numbers_beyond_any_reconstruction_are_one_line_errors(row, column):
    with pytest.raises(hc.SWCError) as err:
        load("\n".join(LINES[:2] + [row]).encode())
    message = str(err.value)
    assert message.startswith("cell.swc:3: ") and column in message and "\n" not in message


def test_the_largest_sane_values_still_load():
    rows = ["1 1 0 0 0 5 -1", "2 3 0 5 0 1 1", "3 3 999999999 5 0 1 2", "9007199254740992 3 0 6 0 1 2"]
    morph = load("\n".join(rows).encode())
    assert 9007199254740992 in morph.graph  # read exactly, not through a float


@pytest.mark.parametrize("make, words", [
    (lambda p: os.mkfifo(p), "FIFO"),
    (lambda p: p.mkdir(), "folder"),
])
def test_things_that_are_not_regular_files_are_refused_without_waiting(tmp_path, make, words):
    path = tmp_path / "cell.swc"
    make(path)
    # In a child process with a timeout: opening a FIFO for reading used to wait forever.
    code = f"import hhcable as hc\ntry:\n    hc.read_swc({str(path)!r})\nexcept hc.SWCError as e:\n    print(e)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(path)) and words in done.stdout


def test_a_device_and_a_nul_in_the_name_are_refused():
    with pytest.raises(hc.SWCError, match="character device"):
        hc.read_swc("/dev/zero")  # would never end
    with pytest.raises(hc.SWCError, match="NUL"):
        hc.read_swc("cell\0.swc")
    with pytest.raises(hc.SWCError, match="expected SWC text"):
        hc.parse_swc(12)


def test_swc_info_on_a_fifo_exits_2_in_one_line(tmp_path):
    path = tmp_path / "p.swc"
    os.mkfifo(path)
    done = subprocess.run([sys.executable, "-m", "hhcable", "swc-info", str(path)], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "FIFO" in done.stderr


def test_scale_beyond_reason_is_refused():
    for scale in (0.0, -1.0, float("nan"), 1e300, True):
        with pytest.raises(hc.InputError, match="scale"):
            hc.parse_swc("\n".join(LINES), scale=scale)
