"""A column of sentences, one per row: each row's case picks a template, whose slots are filled from arrays.

A template is a ``str.format`` string with plain ``{name}`` slots; a slot is
filled from a :class:`Field` (one value per row and how to write it) or from a
string (the same text in every row). Without pyarrow, each row is written with
``str.format``. With pyarrow, rows are built in blocks: each field's text is laid
out with NumPy in a matrix of bytes (NUL as padding, dropped to give the
strings), each row's literal text is picked by its case, and pyarrow joins the
pieces. Both write the same text.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from string import Formatter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .number_text import general_format_bytes, integer_bytes
from .table_input import pyarrow_installed

_BLOCK_ROWS = 1 << 16


@dataclass(frozen=True)
class Field:
    """Values for one slot: row ``i`` gets ``format(values[i], spec)``.

    ``spec`` is ``"d"`` (a whole number), ``".4g"``/``".6g"``/``"g"`` (significant
    digits), or ``"s"``: then ``values`` are indices into ``words``.
    """

    values: NDArray[Any]
    spec: str
    words: tuple[str, ...] = ()

    def python(self, i: int) -> str:
        if self.spec == "s":
            return self.words[int(self.values[i])]
        if self.spec == "d":
            return str(int(self.values[i]))
        return format(float(self.values[i]), self.spec)

    def text_bytes(self, rows: slice) -> NDArray[np.uint8]:
        """The text of rows ``rows``, one row of bytes each (NUL is padding)."""
        chosen = self.values[rows]
        if self.spec == "s":
            return _padded(self.words)[chosen.astype(np.int64)]
        if self.spec == "d":
            return integer_bytes(chosen)
        return general_format_bytes(chosen, 6 if self.spec == "g" else int(self.spec[1:-1]))


def sentences(cases: list[tuple[NDArray[np.bool_], str]], fields: dict[str, Field | str], size: int) -> Any:
    """Row ``i``'s sentence is the template of the first case whose mask holds at ``i``, with its slots filled.

    Every row must fall in some case. Returns a list of str, or a pyarrow string
    array (in chunks) when pyarrow is installed.
    """
    case_of = np.full(size, -1, dtype=np.int64)
    for c, (mask, _) in enumerate(cases):
        case_of[(case_of < 0) & mask] = c
    if (case_of < 0).any():
        raise ValueError(f"row {int(np.argmax(case_of < 0))} falls in no case")
    templates = [_split(template, fields) for _, template in cases]
    if not pyarrow_installed():
        return [_python_sentence(templates[c], fields, i) for i, c in enumerate(case_of.tolist())]
    return _arrow_sentences(templates, fields, case_of)


def _split(template: str, fields: dict[str, Field | str]) -> tuple[list[str], list[str]]:
    """A template as literals and the names of the fields between them (text fields already written in)."""
    literals, names = [""], []
    for literal, name, spec, conversion in Formatter().parse(template):
        literals[-1] += literal
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"a template slot takes no format spec (its Field has it), got {{{name}:{spec}}}")
        field = fields[name]
        if isinstance(field, str):
            literals[-1] += field
        else:
            names.append(name)
            literals.append("")
    return literals, names


def _python_sentence(template: tuple[list[str], list[str]], fields: dict[str, Any], i: int) -> str:
    literals, names = template
    return literals[0] + "".join(fields[name].python(i) + literal for name, literal in zip(names, literals[1:]))


def _arrow_sentences(templates: list[tuple[list[str], list[str]]], fields: dict[str, Any], case_of: NDArray[np.int64]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    # One order of slots for all templates; each template fills some of them, in that order.
    order: list[str] = []
    for _, names in templates:
        order += [name for name in names if name not in order]
    for _, names in templates:
        positions = [order.index(name) for name in names]
        if positions != sorted(positions):
            raise ValueError(f"templates use their fields in different orders: {names} against {order}")
    before = [[_literal_before(template, name) for template in templates] for name in order]
    tail = [literals[-1] for literals, _ in templates]
    uses = np.array([[name in names for name in order] for _, names in templates], dtype=np.bool_).reshape(len(templates), len(order))

    def block(start: int) -> Any:
        rows = slice(start, min(case_of.size, start + _BLOCK_ROWS))
        cases = case_of[rows]
        present = np.flatnonzero(np.bincount(cases, minlength=len(templates)))
        parts: list[Any] = []
        for j, name in enumerate(order):
            text = fields[name].text_bytes(rows)
            text[~uses[cases, j]] = 0  # rows whose template has no such slot
            parts += [_per_case(before[j], cases, present), _strings(text)]
        parts.append(_per_case(tail, cases, present))
        if all(isinstance(part, str) for part in parts):
            return pa.repeat(pa.scalar("".join(parts), pa.string()), cases.size)
        return pc.binary_join_element_wise(*parts, "")

    # Blocks keep each array's offsets within 32 bits and are independent: NumPy and pyarrow
    # release the GIL in their loops, so blocks built in threads use the machine's cores.
    starts = range(0, case_of.size, _BLOCK_ROWS)
    if len(starts) < 2:
        chunks = [block(start) for start in starts]
    else:
        with ThreadPoolExecutor(min(len(starts), os.cpu_count() or 1, 2)) as pool:
            chunks = list(pool.map(block, starts))
    return pa.chunked_array(chunks, type=pa.string())


def _per_case(literals: list[str], cases: NDArray[np.int64], present: NDArray[np.int64]) -> Any:
    """Each row's literal text for its case (``present``: the cases among ``cases``): one string when all rows
    share it, else a pyarrow array."""
    import pyarrow as pa

    if len({literals[c] for c in present.tolist()}) == 1:
        return literals[int(present[0])]
    return pa.array(literals, type=pa.string()).take(pa.array(cases))


def _literal_before(template: tuple[list[str], list[str]], name: str) -> str:
    literals, names = template
    return literals[names.index(name)] if name in names else ""


def _padded(texts: tuple[str, ...]) -> NDArray[np.uint8]:
    """UTF-8 of each text, one row each, NUL-padded to the longest."""
    encoded = [text.encode() for text in texts]
    out = np.zeros((len(encoded), max([len(e) for e in encoded] + [1])), dtype=np.uint8)
    for k, data in enumerate(encoded):
        out[k, : len(data)] = np.frombuffer(data, dtype=np.uint8)
    return out


def _strings(matrix: NDArray[np.uint8]) -> Any:
    """A pyarrow string array of the rows of ``matrix`` with their NUL bytes dropped."""
    import pyarrow as pa

    keep = matrix != 0
    data = matrix[keep]
    offsets = np.zeros(matrix.shape[0] + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    return pa.StringArray.from_buffers(matrix.shape[0], pa.py_buffer(offsets), pa.py_buffer(data))
