"""The MOTChallenge text formats: ``det.txt`` / tracker results / ``gt.txt`` and ``seqinfo.ini``.

A line is ``frame, id, bb_left, bb_top, bb_width, bb_height, conf, x, y, z`` (results and
detections, ``id`` = -1 in ``det.txt``) or ``frame, id, bb_left, bb_top, bb_width, bb_height,
consider, class, visibility`` (``gt.txt``). Frames count from 1; boxes are in pixels. In memory a
:class:`MotTable` holds the rows with boxes as ``x1, y1, x2, y2`` (``x2 = bb_left + bb_width``),
the convention of :mod:`opticore.mot`.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

__all__ = ["MotTable", "read_mot", "read_seqinfo", "write_mot"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclasses.dataclass(frozen=True)
class MotTable:
    """Rows of a MOTChallenge file, sorted by frame then id.

    Attributes:
        frames: ``(K,)`` int64, from 1.
        ids: ``(K,)`` int64 (-1 for detections without identity).
        boxes: ``(K, 4)`` float64 ``x1, y1, x2, y2``.
        scores: ``(K,)`` float64: ``conf`` (detections, results) or ``consider`` (ground truth).
        classes: ``(K,)`` int64 (ground truth's class column; -1 where absent).
        visibility: ``(K,)`` float64 (ground truth's visibility; 1 where absent).
    """

    frames: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    visibility: np.ndarray

    @staticmethod
    def from_arrays(frames, ids, boxes, scores=None, classes=None, visibility=None) -> "MotTable":
        """A table from arrays (``boxes`` ``x1, y1, x2, y2``), sorted by frame then id."""
        frames = np.asarray(frames, np.int64).reshape(-1)
        n = len(frames)
        ids = np.asarray(ids, np.int64).reshape(n)
        boxes = np.asarray(boxes, np.float64).reshape(n, 4)
        scores = np.ones(n) if scores is None else np.asarray(scores, np.float64).reshape(n)
        classes = np.full(n, -1, np.int64) if classes is None else np.asarray(classes, np.int64).reshape(n)
        visibility = np.ones(n) if visibility is None else np.asarray(visibility, np.float64).reshape(n)
        order = np.lexsort((ids, frames))
        return MotTable(frames[order], ids[order], boxes[order], scores[order], classes[order], visibility[order])

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def num_frames(self) -> int:
        """The last frame number (0 for an empty table)."""
        return int(self.frames.max()) if len(self) else 0

    def select(self, mask: np.ndarray) -> "MotTable":
        """The rows where ``mask`` is true."""
        return MotTable(*(getattr(self, f.name)[mask] for f in dataclasses.fields(self)))

    def by_frame(self, num_frames: Optional[int] = None) -> Iterator[Tuple[int, "MotTable"]]:
        """``(frame, rows of that frame)`` for frames 1 .. ``num_frames`` (default: the last),
        frames without rows included (empty)."""
        last = self.num_frames if num_frames is None else num_frames
        starts = np.searchsorted(self.frames, np.arange(1, last + 2))
        for f in range(1, last + 1):
            s = slice(starts[f - 1], starts[f])
            yield f, MotTable(*(getattr(self, fl.name)[s] for fl in dataclasses.fields(self)))


def read_mot(path: PathLike, *, gt: bool = False) -> MotTable:
    """Reads a MOTChallenge file (comma- or space-separated; empty file: empty table).

    With ``gt=True`` the columns 7-9 are ``consider, class, visibility`` and rows with
    ``consider == 0`` (objects the benchmark ignores) are dropped; otherwise column 7 is the score.

    Example:
        >>> import os, tempfile
        >>> from opticore.eval.mot.io import read_mot
        >>> path = os.path.join(tempfile.mkdtemp(), "det.txt")
        >>> _ = open(path, "w").write("1,-1,10,20,30,40,0.9,-1,-1,-1\\n")
        >>> read_mot(path).boxes.tolist()
        [[10.0, 20.0, 40.0, 60.0]]
    """
    rows: List[List[float]] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                values = [float(v) for v in line.replace(",", " ").split()]
            except ValueError:
                raise ValueError(f"{path}:{number}: expected numbers, got {line!r}") from None
            if len(values) < 6:
                raise ValueError(f"{path}:{number}: expected at least 6 values (frame, id, left, top, width, "
                                 f"height), got {len(values)}")
            rows.append(values[:9] + [np.nan] * (9 - min(9, len(values))))
    a = np.array(rows, np.float64).reshape(-1, 9)
    if not np.isfinite(a[:, :6]).all():
        raise ValueError(f"{path}: expected finite frame, id and box values")
    boxes = np.column_stack([a[:, 2], a[:, 3], a[:, 2] + a[:, 4], a[:, 3] + a[:, 5]])
    scores = np.where(np.isnan(a[:, 6]), 1.0, a[:, 6])
    if gt:
        classes = np.where(np.isnan(a[:, 7]), -1, a[:, 7]).astype(np.int64)
        visibility = np.where(np.isnan(a[:, 8]), 1.0, a[:, 8])
        table = MotTable.from_arrays(a[:, 0], a[:, 1], boxes, scores, classes, visibility)
        return table.select(table.scores != 0)
    return MotTable.from_arrays(a[:, 0], a[:, 1], boxes, scores)


def write_mot(path: PathLike, table: MotTable) -> None:
    """Writes ``table`` as a MOTChallenge result file (``frame, id, left, top, width, height, conf,
    -1, -1, -1``), the format of tracker results and of ``det.txt``.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from opticore.eval.mot.io import MotTable, read_mot, write_mot
        >>> path = os.path.join(tempfile.mkdtemp(), "result.txt")
        >>> write_mot(path, MotTable.from_arrays([1], [3], [[10.0, 20, 40.5, 60]], [0.8]))
        >>> open(path).read()
        '1,3,10.00,20.00,30.50,40.00,0.800,-1,-1,-1\\n'
    """
    b = table.boxes
    with open(path, "w", encoding="utf-8") as f:
        for k in range(len(table)):
            f.write(f"{table.frames[k]},{table.ids[k]},{b[k, 0]:.2f},{b[k, 1]:.2f},{b[k, 2] - b[k, 0]:.2f},"
                    f"{b[k, 3] - b[k, 1]:.2f},{table.scores[k]:.3f},-1,-1,-1\n")


def read_seqinfo(path: PathLike) -> Dict[str, Union[str, int, float]]:
    """The ``[Sequence]`` section of a ``seqinfo.ini`` (``name``, ``imDir``, ``frameRate``,
    ``seqLength``, ``imWidth``, ``imHeight``, ``imExt``), numbers as int / float.

    Example:
        >>> import os, tempfile
        >>> from opticore.eval.mot.io import read_seqinfo
        >>> path = os.path.join(tempfile.mkdtemp(), "seqinfo.ini")
        >>> _ = open(path, "w").write("[Sequence]\\nname=MOT17-02\\nframeRate=30\\nseqLength=600\\n")
        >>> read_seqinfo(path)
        {'name': 'MOT17-02', 'frameRate': 30, 'seqLength': 600}
    """
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
    if not parser.read(path, encoding="utf-8"):
        raise FileNotFoundError(f"seqinfo: no such file {path}")
    if "Sequence" not in parser:
        raise ValueError(f"{path}: expected a [Sequence] section")
    out: Dict[str, Union[str, int, float]] = {}
    for key, value in parser["Sequence"].items():
        for kind in (int, float):
            try:
                out[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out
