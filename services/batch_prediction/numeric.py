"""A chunk of JSONL lines that are all flat arrays of numbers, parsed into one float64 matrix
without a Python object per value (`formats.parse_jsonl`'s fast path).

Every line is `HEAD v, v, ... TAIL\\n` (`{"instance": [` ... `]}`, or `[` ... `]`). Once
the wrappers are cut out the values are CSV text, which Arrow's C++ CSV reader turns into
columns (on its own threads, except in a pool's scoring process). orjson into lists and
`np.fromiter` (what this replaces) makes a Python float per value and reads it back.

Arrow's number syntax is wider than JSON's, so the text is proved to be JSON numbers first,
with a handful of vectorised passes: the wrappers go with one `bytes.translate`, whose length
proves no wrapper byte was inside a value and which marks every other byte, so that only
digits, `.-+eE`, commas, spaces and newlines are proved to remain (no string, object, nested
array, `NaN` or `true`); every `.` sits between two digits (no `.5`, `5.`); no number has a
leading zero (`01`); a `+` follows an exponent's `e`. A field Arrow cannot read (`1-2`, `1e`,
an empty one) or a line with the wrong number of values makes the whole chunk go the exact
way, line by line, which names each defect. Values that overflow a double (`1e400`) come back
infinite and are refused by the caller's finiteness check, as orjson refuses them.

Without pyarrow (it comes with the `beam` extra) the same lines go through orjson.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import orjson

_KEPT = b"0123456789.-+eE, \n"  # what JSON numbers and their separators are made of
# Every other byte becomes an `x` in the pass that cuts the wrappers, so one search for `x`
# finds them all (a second `translate` to delete the kept bytes cost 1.3 ms a chunk).
_FLAGGED = bytes(byte if byte in _KEPT else ord("x") for byte in range(256))
# CSV fields: the same without spaces (`int(" 1")` and Arrow may not agree on them).
_FIELDS_FLAGGED = bytes(byte if byte in _KEPT and byte != 32 else ord("x") for byte in range(256))
_EXPONENT = np.zeros(256, dtype=bool)
_EXPONENT[[ord("e"), ord("E")]] = True
_SEPARATOR = np.zeros(256, dtype=bool)
_SEPARATOR[[ord(","), ord(" "), ord("\n")]] = True


def parse_lines(
    blob: bytes, head: bytes, tail: bytes, width: int, newlines: np.ndarray | None = None
) -> np.ndarray | None:
    """`blob`'s lines (each ending in a newline) as a (lines, width) float64 matrix, or None
    unless every line is `head`, `width` JSON numbers separated by commas, `tail`.
    `newlines`: their offsets in `blob`, if the reader found them already."""
    data = np.frombuffer(blob, dtype=np.uint8)
    if newlines is None:
        newlines = np.flatnonzero(data == 10)
    ends = newlines
    lines = ends.size
    if not lines or ends[-1] != data.size - 1:
        return None
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    if ((ends - starts) < len(head) + len(tail)).any():
        return None
    head_at = starts[:, None] + np.arange(len(head))
    tail_at = ends[:, None] - np.arange(len(tail), 0, -1)
    if not (data[head_at] == np.frombuffer(head, np.uint8)).all():
        return None
    if not (data[tail_at] == np.frombuffer(tail, np.uint8)).all():
        return None
    # With the wrappers in place on every line, deleting their bytes removes exactly
    # `lines` times as many bytes as a wrapper holds, unless one is also inside a value
    # (which is then no number), or an `e` is an exponent's: those chunks are cut by mask.
    removable, per_line = wrapper_bytes(head, tail)
    text = blob.translate(_FLAGGED, removable)
    if len(blob) - len(text) != lines * per_line:
        keep = np.ones(data.size, dtype=bool)
        keep[head_at] = False
        keep[tail_at] = False
        text = data[keep].tobytes().translate(_FLAGGED)
    if b"x" in text or not _json_numbers(text):
        return None
    return _matrix(text, lines, width)


def parse_fields(blob: bytes, width: int, newlines: np.ndarray | None = None) -> np.ndarray | None:
    """CSV data lines (each ending in a newline) as a (lines, width) float64 matrix, or None
    unless every line is `width` JSON numbers separated by commas and nothing else: no
    quotes, spaces, `\r` or empty fields (those go the exact way)."""
    if not blob.endswith(b"\n") or b"x" in blob.translate(_FIELDS_FLAGGED):
        return None
    if not _json_numbers(blob):
        return None
    lines = len(newlines) if newlines is not None else blob.count(b"\n")
    return _matrix(blob, lines, width)


def _matrix(text: bytes, lines: int, width: int) -> np.ndarray | None:
    """`text` (proved to hold only JSON numbers, commas and newlines, with spaces in JSONL)
    read by Arrow, or None if a field or a row is not `width` numbers."""
    reader = _arrow_reader(width, _threads[0])
    if reader is None:
        return _with_orjson(text, lines, width)
    try:
        table = reader(text)
    except ValueError:  # pyarrow.ArrowInvalid: a field or a row it cannot read
        return None
    if table.num_rows != lines:  # Arrow skips empty lines
        return None
    # Columns stacked and viewed transposed: no strided copy; scikit-learn, XGBoost and
    # LightGBM read a Fortran-ordered matrix as it is.
    return np.stack([column.to_numpy() for column in table.columns]).T


@functools.cache
def wrapper_bytes(head: bytes, tail: bytes) -> tuple[bytes, int]:
    """The bytes of a line's wrappers that no number is made of (deleted from every line
    with one `translate`), and how many of them one line's wrappers hold."""
    removable = bytes(sorted(set(head + tail) - set(b"0123456789.-+, \n")))
    return removable, sum(byte in removable for byte in head + tail)


def _json_numbers(text: bytes) -> bool:
    """True when the numbers in `text` (only `_KEPT` bytes) are written as JSON writes
    them, as far as a CSV reader would accept what JSON does not."""
    data = np.frombuffer(text, dtype=np.uint8)
    if not data.size:
        return True
    size = data.size
    # Chunk-sized temporaries: cheap in a process that keeps freed memory, as every scoring
    # process does (`backends.memory`; without it each was faulted in afresh, 5.7 ms against
    # 0.9 for this function on a 10,000-row chunk).
    digit = np.subtract(data, 48) < 10  # wraps below "0"
    dot = data == ord(".")
    pair = np.empty(size - 1, dtype=bool)
    if (
        dot[0]
        or dot[-1]
        or np.greater(dot[1:], digit[:-1], out=pair).any()
        or np.greater(dot[:-1], digit[1:], out=pair).any()
    ):
        return False
    # A zero followed by a digit must not start a number (`01`, `-01`; `10`, `1.05` and an
    # exponent's `e-05` are fine). Zeros after a digit or a dot are inside a number, and
    # most such zeros are: only the others are looked at one by one (finding every zero
    # followed by a digit, ~100,000 in a chunk of decimals, took 1.6 ms of the proof's 2.1).
    np.equal(data[:-1], ord("0"), out=pair)
    np.logical_and(pair, digit[1:], out=pair)
    if pair[0]:
        return False
    if size > 2:
        inside = np.logical_or(digit[:-2], dot[:-2])
        suspects = np.greater(pair[1:], inside, out=inside)  # after anything else
        if suspects.any():
            zeros = np.flatnonzero(suspects) + 1
            before = data[zeros - 1]
            if _SEPARATOR[before].any():
                return False
            signed = zeros[before == ord("-")]
            if signed.size and ((signed < 2).any() or not _EXPONENT[data[signed - 2]].all()):
                return False
    if b"+" not in text:
        return True
    pluses = np.flatnonzero(data == ord("+"))
    return bool(pluses[0] > 0 and _EXPONENT[data[pluses - 1]].all())


# Arrow reads a chunk in 1 MiB blocks on its own threads in a process that scores alone (1.6x
# faster a chunk for 1.16x the CPU); a scoring process of a pool sets this off, as the pool
# already keeps every core busy.
_threads = [True]


def use_threads(enabled: bool) -> None:
    _threads[0] = enabled


@functools.cache
def _arrow_reader(width: int, threads: bool = False) -> Any:
    """text -> a `pyarrow.Table` of `width` float64 columns; None without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    names = [f"c{i}" for i in range(width)]
    read = pacsv.ReadOptions(
        use_threads=threads, column_names=names, block_size=(1 << 20) if threads else (1 << 30)
    )
    convert = pacsv.ConvertOptions(
        column_types={name: pa.float64() for name in names},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    parse = pacsv.ParseOptions(quote_char=False, escape_char=False)

    def reader(text: bytes) -> Any:
        return pacsv.read_csv(
            pa.py_buffer(text), read_options=read, parse_options=parse, convert_options=convert
        )

    return reader


def _with_orjson(text: bytes, lines: int, width: int) -> np.ndarray | None:
    try:
        values = orjson.loads(b"[[" + text[:-1].replace(b"\n", b"],[") + b"]]")
    except orjson.JSONDecodeError:
        return None
    if len(values) != lines or set(map(len, values)) != {width}:
        return None
    flat = np.fromiter(itertools.chain.from_iterable(values), np.float64, lines * width)
    return flat.reshape(lines, width)
