#!/usr/bin/python3
"""HNSW build reference: C++ hnswlib (Debian's python3-hnswlib) on the same rows, M, efConstruction
and the machine's cores, as lsar's benchmark compares against. Prints one JSON line."""
import json, os, sys, time
import numpy as np
import hnswlib

path, m, efc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else os.cpu_count()
x = np.load(path)
t = time.perf_counter()
index = hnswlib.Index(space="cosine", dim=x.shape[1])
index.init_index(max_elements=x.shape[0], M=m, ef_construction=efc, random_seed=100)
index.set_num_threads(threads)
index.add_items(x, np.arange(x.shape[0]))
print(json.dumps({"build_s": round(time.perf_counter() - t, 3), "rows": int(x.shape[0]), "threads": threads}))
