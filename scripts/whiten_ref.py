"""BERT-whitening (Su et al., 2021, "Whitening Sentence Representations for Better Semantics and
Faster Retrieval"), restated in numpy as a reference for lsar's whiten, following their code:

    mu = vecs.mean(axis=0); cov = np.cov(vecs.T); u, s, vh = np.linalg.svd(cov)
    W = u @ np.diag(1 / np.sqrt(s)); y = (x - mu) @ W[:, :k]

Fitted on the pooled monolingual rows of ../shared/golden/planted-small/fit/*.npy (every language
together). Each eigenvector's sign is fixed so that its largest-magnitude entry is positive (as
lsar's canonicalSigns), since an SVD's signs are arbitrary.

  /usr/bin/python3 scripts/whiten_ref.py [planted-small dir] [out dir]

Writes tests/fixtures/whiten/whiten-<k>.<lang>.npy (float64, whitened bitext/<lang>.npy) and
expected.json (k values, eigenvalues, languages).
"""
import glob
import json
import os
import sys

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "golden", "planted-small")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "tests", "fixtures", "whiten")
os.makedirs(out, exist_ok=True)

fit = sorted(glob.glob(os.path.join(golden, "fit", "*.npy")))
X = np.concatenate([np.load(f).astype(np.float64) for f in fit])
mu = X.mean(axis=0)
cov = np.cov(X.T)
u, s, vh = np.linalg.svd(cov)
for j in range(u.shape[1]):
    if u[np.argmax(np.abs(u[:, j])), j] < 0:
        u[:, j] = -u[:, j]
W = u @ np.diag(1 / np.sqrt(s))
langs = ["de", "zh"]
d = X.shape[1]
expected = {"fit_rows": int(X.shape[0]), "dim": int(d), "eigenvalues": s.tolist(), "k": [d, 8], "langs": langs}
for k in expected["k"]:
    for lang in langs:
        x = np.load(os.path.join(golden, "bitext", f"{lang}.npy")).astype(np.float64)
        np.save(os.path.join(out, f"whiten-{k}.{lang}.npy"), (x - mu) @ W[:, :k])
json.dump(expected, open(os.path.join(out, "expected.json"), "w"), indent=1)
print(f"wrote {out}")
