"""All-but-the-top (Mu & Viswanath, ICLR 2018), restated in numpy as a reference for lsar's abtt.

Fitted on the pooled monolingual rows of ../shared/golden/planted-small/fit/*.npy (every language
together): mu = mean of all rows; C = cov of all rows (population, 1/N); U = top D eigenvectors of
C (numpy.linalg.eigh, descending). Applied: y = (x - mu) - ((x - mu) @ U) @ U.T.

  /usr/bin/python3 scripts/abtt_ref.py [planted-small dir] [out dir]

Writes tests/fixtures/abtt/abtt-<D>.<lang>.npy (float64, projected bitext/<lang>.npy) and
expected.json (D values, eigenvalues, languages).
"""
import glob
import json
import os
import sys

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "golden", "planted-small")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "tests", "fixtures", "abtt")
os.makedirs(out, exist_ok=True)

fit = sorted(glob.glob(os.path.join(golden, "fit", "*.npy")))
X = np.concatenate([np.load(f).astype(np.float64) for f in fit])
mu = X.mean(axis=0)
C = (X - mu).T @ (X - mu) / X.shape[0]
w, V = np.linalg.eigh(C)
order = np.argsort(w)[::-1]
w, V = w[order], V[:, order]
langs = ["de", "zh"]
expected = {"fit_rows": int(X.shape[0]), "dim": int(X.shape[1]), "eigenvalues": w[:8].tolist(), "D": [1, 4], "langs": langs}
for D in expected["D"]:
    U = V[:, :D]
    for lang in langs:
        x = np.load(os.path.join(golden, "bitext", f"{lang}.npy")).astype(np.float64)
        c = x - mu
        np.save(os.path.join(out, f"abtt-{D}.{lang}.npy"), c - (c @ U) @ U.T)
json.dump(expected, open(os.path.join(out, "expected.json"), "w"), indent=1)
print(f"wrote {out}")
