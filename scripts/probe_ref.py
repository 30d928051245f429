"""The language-ID probe's reference: scikit-learn's LogisticRegression on a small committed case.

Makes a case of 4 overlapping Gaussian classes (40 rows each, d = 12, seed 3) with 5 stratified
fold ids, and for C in (1.0, 0.05) the 5-fold accuracy of
LogisticRegression(multi_class="multinomial", solver="lbfgs", C=C, tol=1e-4, max_iter=200) on
exactly those folds (PredefinedSplit): every row predicted by the model of the folds it was
not in. lsar's probe (core/language-id.ts) is checked against it within 1 point.

  /usr/bin/python3 scripts/probe_ref.py [out dir]     # Debian: apt-get install python3-sklearn

Writes tests/fixtures/probe/case.json: x (rows), labels, folds, and expected {C: accuracy, folds}.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "fixtures", "probe")
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(3)
classes, per, d, k = 4, 40, 12, 5
centres = rng.normal(scale=0.5, size=(classes, d))
x = np.concatenate([centres[c] + rng.normal(size=(per, d)) for c in range(classes)]).round(6)
labels = np.repeat(np.arange(classes), per)
folds = np.empty(len(labels), dtype=int)
for c in range(classes):
    idx = rng.permutation(np.flatnonzero(labels == c))
    folds[idx] = np.arange(len(idx)) % k

expected = {}
for C in (1.0, 0.05):
    pred = np.empty_like(labels)
    per_fold = []
    for f in range(k):
        train, test = folds != f, folds == f
        m = LogisticRegression(multi_class="multinomial", solver="lbfgs", C=C, tol=1e-4, max_iter=200).fit(x[train], labels[train])
        pred[test] = m.predict(x[test])
        per_fold.append(float((pred[test] == labels[test]).mean()))
    expected[str(C)] = {"accuracy": float((pred == labels).mean()), "folds": per_fold}

json.dump(
    {
        "sklearn": sklearn.__version__,
        "classes": classes,
        "dim": d,
        "x": x.tolist(),
        "labels": labels.tolist(),
        "folds": folds.tolist(),
        "expected": expected,
    },
    open(os.path.join(out, "case.json"), "w"),
)
print(json.dumps(expected))
