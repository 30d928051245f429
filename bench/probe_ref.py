"""The language-ID probe of lsar inspect, timed in scikit-learn on the same rows and folds.

  /usr/bin/python3 bench/probe_ref.py <dir>    # dir: x.npy (n x d), labels.npy, folds.npy; C from argv[2] (1.0)

Prints one JSON line: {"seconds", "accuracy", "iterations"} of
LogisticRegression(multi_class="multinomial", solver="lbfgs", C, tol=1e-4, max_iter=200), fold by fold.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

d = sys.argv[1]
C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
x = np.load(f"{d}/x.npy").astype(np.float64)
y = np.load(f"{d}/labels.npy").ravel().astype(int)
folds = np.load(f"{d}/folds.npy").ravel().astype(int)
warnings.simplefilter("ignore", ConvergenceWarning)
t = time.perf_counter()
pred = np.empty_like(y)
iters = []
for f in range(folds.max() + 1):
    tr, te = folds != f, folds == f
    m = LogisticRegression(multi_class="multinomial", solver="lbfgs", C=C, tol=1e-4, max_iter=200).fit(x[tr], y[tr])
    pred[te] = m.predict(x[te])
    iters.append(int(m.n_iter_[0]))
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "accuracy": float((pred == y).mean()), "iterations": iters}))
