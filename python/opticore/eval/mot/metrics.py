"""Multi-object tracking metrics: HOTA (Luiten et al. 2021), CLEAR MOT (Bernardin & Stiefelhagen
2008: MOTA, MOTP, ...) and Identity (Ristani et al. 2016: IDF1, ...), computed the way the
MOTChallenge evaluation (TrackEval) defines them.

Every function takes one sequence as three per-frame lists: ``gt_ids[t]`` ``(G_t,)`` and
``tracker_ids[t]`` ``(T_t,)`` integer ids, ``similarity[t]`` ``(G_t, T_t)`` similarities in
[0, 1] (IoU of the boxes; :func:`evaluate` computes them from two :class:`~.io.MotTable`).
Matching rules:

* CLEAR: per frame, an optimal assignment over pairs with similarity >= ``threshold`` (0.5), a
  pair that continues the previous frame's match preferred; an ID switch is a ground-truth
  object matched to another tracker id than its last one. MOTA = 1 - (FN + FP + IDSW) / #GT.
* Identity: one global one-to-one assignment of ground-truth ids to tracker ids maximising the
  frames they match (similarity >= ``threshold``); IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN).
* HOTA: for each alpha in 0.05, 0.10, ..., 0.95, per frame an optimal assignment maximising
  (global alignment of the two ids) x similarity, matches needing similarity >= alpha; HOTA(alpha)
  = sqrt(DetA x AssA); the reported values are means over the 19 alphas.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np

from opticore.mot import linear_assignment

__all__ = ["ALPHAS", "clear", "hota", "identity"]

ALPHAS = np.arange(0.05, 0.99, 0.05)
EPS = np.finfo(float).eps

Frames = Sequence[np.ndarray]


def _dense_ids(gt_ids: Frames, tracker_ids: Frames):
    """Ids renumbered 0..n-1 per side (in order of first appearance), and the counts."""
    def renumber(frames: Frames):
        table: Dict[int, int] = {}
        out = []
        for ids in frames:
            ids = np.asarray(ids, dtype=np.int64).reshape(-1)
            out.append(np.array([table.setdefault(int(i), len(table)) for i in ids], dtype=np.int64))
        return out, len(table)

    g, ng = renumber(gt_ids)
    t, nt = renumber(tracker_ids)
    return g, ng, t, nt


def _check(gt_ids: Frames, tracker_ids: Frames, similarity: Frames) -> List[np.ndarray]:
    if not (len(gt_ids) == len(tracker_ids) == len(similarity)):
        raise ValueError(f"gt_ids, tracker_ids, similarity: expected one entry per frame each, got "
                         f"{len(gt_ids)}, {len(tracker_ids)}, {len(similarity)}")
    sims = []
    for t, (g, p, s) in enumerate(zip(gt_ids, tracker_ids, similarity)):
        s = np.asarray(s, dtype=np.float64).reshape(len(g), len(p))
        if s.size and not (np.isfinite(s).all() and s.min() >= 0 and s.max() <= 1):
            raise ValueError(f"similarity: expected values in [0, 1], got a matrix out of range at frame {t}")
        sims.append(s)
    return sims


def _maximise(score: np.ndarray):
    """Rows and columns of a maximum-score assignment (zero-score pairs included)."""
    if score.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return linear_assignment(-score)


def _ratio(num: float, den: float) -> float:
    return float(num) / max(1.0, float(den))


def clear(gt_ids: Frames, tracker_ids: Frames, similarity: Frames, threshold: float = 0.5) -> Dict[str, Any]:
    """CLEAR MOT metrics of one sequence.

    Returns:
        ``MOTA``, ``MOTP`` (mean similarity of the matches), ``MODA``, ``CLR_Re``, ``CLR_Pr``,
        ``MTR`` / ``PTR`` / ``MLR`` (shares of ground-truth objects tracked > 80%, 20-80%,
        < 20% of their frames), ``sMOTA``, and the counts ``CLR_TP``, ``CLR_FN``, ``CLR_FP``,
        ``IDSW``, ``MT``, ``PT``, ``ML``, ``Frag``.

    Example:
        >>> import numpy as np
        >>> from opticore.eval.mot.metrics import clear
        >>> ids = [np.array([1, 2])] * 3
        >>> sim = [np.eye(2)] * 3
        >>> clear(ids, ids, sim)["MOTA"]
        1.0
    """
    sims = _check(gt_ids, tracker_ids, similarity)
    g_ids, ng, t_ids, nt = _dense_ids(gt_ids, tracker_ids)
    num_gt = sum(len(g) for g in g_ids)
    num_tr = sum(len(t) for t in t_ids)
    tp = idsw = 0
    motp_sum = 0.0
    last_match = np.full(ng, -1)       # the tracker id each gt object was last matched to
    prev_frame_match = np.full(ng, -1)  # ... in the previous frame (-1: not matched there)
    matched_frames = np.zeros(ng)
    frames_present = np.zeros(ng)
    frag_starts = np.zeros(ng)         # times a gt object's tracked stretch starts
    for g, t, s in zip(g_ids, t_ids, sims):
        frames_present[g] += 1
        current = np.full(ng, -1)
        if len(g) and len(t):
            continuing = prev_frame_match[g][:, None] == t[None, :]
            score = np.where(s >= threshold - EPS, s + 1000.0 * continuing, 0.0)
            rows, cols = _maximise(score)
            ok = score[rows, cols] > EPS
            rows, cols = rows[ok], cols[ok]
            gm, tm = g[rows], t[cols]
            switched = (last_match[gm] >= 0) & (last_match[gm] != tm)
            idsw += int(switched.sum())
            tp += len(rows)
            motp_sum += float(s[rows, cols].sum())
            current[gm] = tm
            last_match[gm] = tm
            matched_frames[gm] += 1
            frag_starts[gm] += prev_frame_match[gm] < 0
        prev_frame_match = current
    fn, fp = num_gt - tp, num_tr - tp
    present = frames_present > 0
    ratio = matched_frames[present] / frames_present[present]
    mt = int((ratio > 0.8).sum())
    ml = int((ratio < 0.2).sum())
    pt = int(present.sum()) - mt - ml
    frag = int(np.maximum(frag_starts - 1, 0).sum())
    n_obj = max(1, int(present.sum()))
    # Without ground truth the accuracies are 0, not -FP (the MOTChallenge evaluation's rule).
    accuracy = (lambda x: x / num_gt) if num_gt else (lambda x: 0.0)
    return {
        "MOTA": accuracy(tp - fp - idsw),
        "MOTP": motp_sum / max(1.0, tp),
        "MODA": accuracy(tp - fp),
        "CLR_Re": _ratio(tp, num_gt),
        "CLR_Pr": _ratio(tp, tp + fp),
        "MTR": mt / n_obj,
        "PTR": pt / n_obj,
        "MLR": ml / n_obj,
        "sMOTA": accuracy(motp_sum - fp - idsw),
        "CLR_TP": tp,
        "CLR_FN": fn,
        "CLR_FP": fp,
        "IDSW": idsw,
        "MT": mt,
        "PT": pt,
        "ML": ml,
        "Frag": frag,
    }


def identity(gt_ids: Frames, tracker_ids: Frames, similarity: Frames, threshold: float = 0.5) -> Dict[str, Any]:
    """Identity metrics of one sequence: ``IDF1``, ``IDR``, ``IDP`` and the counts ``IDTP``,
    ``IDFN``, ``IDFP``.

    Example:
        >>> import numpy as np
        >>> from opticore.eval.mot.metrics import identity
        >>> gt = [np.array([1])] * 4
        >>> pred = [np.array([7]), np.array([7]), np.array([8]), np.array([8])]  # one switch
        >>> identity(gt, pred, [np.ones((1, 1))] * 4)["IDF1"]
        0.5
    """
    sims = _check(gt_ids, tracker_ids, similarity)
    g_ids, ng, t_ids, nt = _dense_ids(gt_ids, tracker_ids)
    together = np.zeros((ng, nt))
    for g, t, s in zip(g_ids, t_ids, sims):
        gi, ti = np.nonzero(s >= threshold - EPS)
        np.add.at(together, (g[gi], t[ti]), 1)
    num_gt = sum(len(g) for g in g_ids)
    num_tr = sum(len(t) for t in t_ids)
    rows, cols = _maximise(together)
    idtp = int(together[rows, cols].sum())
    idfn, idfp = num_gt - idtp, num_tr - idtp
    return {
        "IDF1": _ratio(idtp, idtp + 0.5 * idfp + 0.5 * idfn),
        "IDR": _ratio(idtp, idtp + idfn),
        "IDP": _ratio(idtp, idtp + idfp),
        "IDTP": idtp,
        "IDFN": idfn,
        "IDFP": idfp,
    }


def hota(gt_ids: Frames, tracker_ids: Frames, similarity: Frames) -> Dict[str, Any]:
    """HOTA metrics of one sequence, means over :data:`ALPHAS`: ``HOTA``, ``DetA``, ``AssA``,
    ``DetRe``, ``DetPr``, ``AssRe``, ``AssPr``, ``LocA``, ``OWTA``; ``HOTA(0)`` and ``LocA(0)``
    (at the lowest alpha); the per-alpha arrays under ``*_alpha`` keys; and the counts
    ``HOTA_TP``, ``HOTA_FN``, ``HOTA_FP`` summed over the alphas.

    Example:
        >>> import numpy as np
        >>> from opticore.eval.mot.metrics import hota
        >>> ids = [np.array([1, 2])] * 3
        >>> round(hota(ids, ids, [np.eye(2) * 0.9] * 3)["HOTA"], 4)  # matched at 18 of the 19 alphas
        0.9474
    """
    sims = _check(gt_ids, tracker_ids, similarity)
    g_ids, ng, t_ids, nt = _dense_ids(gt_ids, tracker_ids)
    na = len(ALPHAS)
    # Global alignment of each (gt id, tracker id): their overlap over the sequence, each frame's
    # similarity normalised by what the two boxes share with all others there.
    gt_count = np.zeros(ng)
    tr_count = np.zeros(nt)
    potential = np.zeros((ng, nt))
    for g, t, s in zip(g_ids, t_ids, sims):
        gt_count[g] += 1
        tr_count[t] += 1
        if s.size:
            denom = s.sum(0)[None, :] + s.sum(1)[:, None] - s
            share = np.divide(s, denom, out=np.zeros_like(s), where=denom > EPS)
            potential[np.ix_(g, t)] += share
    alignment = potential / np.maximum(EPS, gt_count[:, None] + tr_count[None, :] - potential)
    tp = np.zeros(na)
    loc = np.zeros(na)
    matches = np.zeros((na, ng, nt))
    for g, t, s in zip(g_ids, t_ids, sims):
        if not s.size:
            continue
        rows, cols = _maximise(alignment[np.ix_(g, t)] * s)
        for a, alpha in enumerate(ALPHAS):
            ok = s[rows, cols] >= alpha - EPS
            r, c = rows[ok], cols[ok]
            tp[a] += len(r)
            loc[a] += s[r, c].sum()
            matches[a, g[r], t[c]] += 1
    num_gt = sum(len(g) for g in g_ids)
    num_tr = sum(len(t) for t in t_ids)
    fn, fp = num_gt - tp, num_tr - tp
    ass_a = np.zeros(na)
    ass_re = np.zeros(na)
    ass_pr = np.zeros(na)
    for a in range(na):
        m = matches[a]
        union = gt_count[:, None] + tr_count[None, :] - m
        ass_a[a] = (m * np.divide(m, union, out=np.zeros_like(m), where=union > 0)).sum() / max(1.0, tp[a])
        ass_re[a] = (m * m / np.maximum(1.0, gt_count[:, None])).sum() / max(1.0, tp[a])
        ass_pr[a] = (m * m / np.maximum(1.0, tr_count[None, :])).sum() / max(1.0, tp[a])
    det_re = tp / np.maximum(1.0, tp + fn)
    det_pr = tp / np.maximum(1.0, tp + fp)
    det_a = tp / np.maximum(1.0, tp + fn + fp)
    hota_a = np.sqrt(det_a * ass_a)
    loc_a = np.maximum(1e-10, loc) / np.maximum(1e-10, tp)
    owta = np.sqrt(det_re * ass_a)
    out: Dict[str, Any] = {
        "HOTA": float(hota_a.mean()),
        "DetA": float(det_a.mean()),
        "AssA": float(ass_a.mean()),
        "DetRe": float(det_re.mean()),
        "DetPr": float(det_pr.mean()),
        "AssRe": float(ass_re.mean()),
        "AssPr": float(ass_pr.mean()),
        "LocA": float(loc_a.mean()),
        "OWTA": float(owta.mean()),
        "HOTA(0)": float(hota_a[0]),
        "LocA(0)": float(loc_a[0]),
        "HOTA_TP": int(tp.sum()),
        "HOTA_FN": int(fn.sum()),
        "HOTA_FP": int(fp.sum()),
    }
    for name, values in (("HOTA", hota_a), ("DetA", det_a), ("AssA", ass_a), ("LocA", loc_a)):
        out[f"{name}_alpha"] = values
    return out
