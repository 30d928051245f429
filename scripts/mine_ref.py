#!/usr/bin/python3
"""Restatement of LASER's source/mine_bitexts.py (mode `mine`) in numpy, to hold lsar's
`lsar mine` against: exact k-NN by inner product of L2-normalised float32 rows (numpy instead
of faiss IndexFlatIP; neighbours in descending similarity, ties to the lower index), the margin
functions, candidate scoring, best-candidate choice (argmax: the first of equals) and the four
retrieval modes, each as LASER writes them. One deliberate difference: `max` sorts the pooled
scores with a stable sort (np.argsort(-scores, kind="stable")) where LASER uses numpy's default
quicksort, whose order of equal scores is unspecified.

  /usr/bin/python3 scripts/mine_ref.py tests/fixtures/mine

writes <case>/src.npy, <case>/trg.npy, <case>/case.json and <case>/<margin>-<retrieval>.tsv
(score, src row, trg row per line) for a few planted cases. Needs python3-numpy only.
"""
import json
import os
import sys

import numpy as np


def knn(x, y, k):
    sims = x.astype(np.float64) @ y.astype(np.float64).T
    ind = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, ind, axis=1), ind


def normalize(x):
    x = x.astype(np.float32)
    return (x / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)


def mine(x, y, k, margin_name, retrieval, threshold):
    x = normalize(x)
    y = normalize(y)
    x2y_sim, x2y_ind = knn(x, y, min(y.shape[0], k))
    x2y_mean = x2y_sim.mean(axis=1)
    y2x_sim, y2x_ind = knn(y, x, min(x.shape[0], k))
    y2x_mean = y2x_sim.mean(axis=1)
    if margin_name == "absolute":
        margin = lambda a, b: a
    elif margin_name == "distance":
        margin = lambda a, b: a - b
    else:
        margin = lambda a, b: a / b

    def score_candidates(sim, cand, fwd_mean, bwd_mean):
        scores = np.zeros(cand.shape)
        for i in range(scores.shape[0]):
            for j in range(scores.shape[1]):
                scores[i, j] = margin(sim[i, j], (fwd_mean[i] + bwd_mean[cand[i, j]]) / 2)
        return scores

    fwd_scores = score_candidates(x2y_sim, x2y_ind, x2y_mean, y2x_mean)
    bwd_scores = score_candidates(y2x_sim, y2x_ind, y2x_mean, x2y_mean)
    fwd_best = x2y_ind[np.arange(x.shape[0]), fwd_scores.argmax(axis=1)]
    bwd_best = y2x_ind[np.arange(y.shape[0]), bwd_scores.argmax(axis=1)]
    out = []
    if retrieval == "fwd":
        for i, j in enumerate(fwd_best):
            out.append((fwd_scores[i].max(), i, j))
    if retrieval == "bwd":
        for j, i in enumerate(bwd_best):
            out.append((bwd_scores[j].max(), i, j))
    if retrieval == "intersect":
        for i, j in enumerate(fwd_best):
            if bwd_best[j] == i:
                out.append((fwd_scores[i].max(), i, j))
    if retrieval == "max":
        indices = np.stack((np.concatenate((np.arange(x.shape[0]), bwd_best)), np.concatenate((fwd_best, np.arange(y.shape[0])))), axis=1)
        scores = np.concatenate((fwd_scores.max(axis=1), bwd_scores.max(axis=1)))
        seen_src, seen_trg = set(), set()
        for i in np.argsort(-scores, kind="stable"):
            src_ind, trg_ind = indices[i]
            if src_ind not in seen_src and trg_ind not in seen_trg:
                seen_src.add(src_ind)
                seen_trg.add(trg_ind)
                if scores[i] > threshold:
                    out.append((scores[i], src_ind, trg_ind))
    return out


def cases(rng):
    d = 16
    # planted: half the sources have a translation among the targets (rotated order, noise)
    src = rng.normal(size=(60, d)).astype(np.float32)
    trg = np.concatenate([src[:30][::-1] + 0.3 * rng.normal(size=(30, d)), rng.normal(size=(20, d))]).astype(np.float32)
    yield "planted", src, trg, 4
    # k larger than a side (k capped at 3 for target -> source)
    yield "small-side", rng.normal(size=(3, d)).astype(np.float32), rng.normal(size=(40, d)).astype(np.float32), 8
    # ties: duplicated rows on both sides give equal similarities and equal scores
    s = rng.normal(size=(12, d)).astype(np.float32)
    s[7] = s[3]
    t = np.concatenate([s[:6] + 0.1, s[:6] + 0.1, rng.normal(size=(4, d))]).astype(np.float32)
    yield "ties", s, t, 4


if __name__ == "__main__":
    out_dir = sys.argv[1]
    rng = np.random.default_rng(2022)
    for name, src, trg, k in cases(rng):
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "src.npy"), src)
        np.save(os.path.join(d, "trg.npy"), trg)
        json.dump({"k": k, "numpy": np.__version__, "script": "scripts/mine_ref.py"}, open(os.path.join(d, "case.json"), "w"))
        for margin in ("ratio", "distance", "absolute"):
            for retrieval in ("max", "fwd", "bwd", "intersect"):
                threshold = 1.0 if (margin == "ratio") else 0.0
                rows = mine(src, trg, k, margin, retrieval, threshold)
                with open(os.path.join(d, f"{margin}-{retrieval}.tsv"), "w") as f:
                    for s_, i, j in rows:
                        f.write(f"{float(s_)!r}\t{int(i)}\t{int(j)}\n")
