"""The faiss side of `npm run bench:search`: IndexFlatIP (exact inner product, Debian's python3-faiss) over the
same float32 rows and queries, top-10, timed at the same batch sizes. Prints one JSON object
{"version", "threads", "qps": {"1": ..., "8": ..., "1000": ...}}.
Usage: faiss_search.py VECTORS_F32 QUERIES_F32 DIM THREADS BATCH1_QUERIES BATCHES(comma-separated)"""
import json, sys, time
import numpy as np
import faiss

vectors_path, queries_path, dim, threads, batch1, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), [int(b) for b in sys.argv[6].split(",")]
faiss.omp_set_num_threads(threads)
xb = np.fromfile(vectors_path, dtype=np.float32).reshape(-1, dim)
xq = np.fromfile(queries_path, dtype=np.float32).reshape(-1, dim)
index = faiss.IndexFlatIP(dim)
index.add(xb)
index.search(xq[:1], 10)  # warm the pages
qps = {}
for b in batches:
    if b == 1:
        t = time.perf_counter()
        for i in range(batch1):
            index.search(xq[i:i + 1], 10)
        qps["1"] = batch1 / (time.perf_counter() - t)
    else:
        reps = max(3, min(5, 1000 // b))  # the same count as bench/search.ts
        n = min(b, len(xq))
        index.search(xq[:n], 10)
        t = time.perf_counter()
        for r in range(reps):
            index.search(xq[:n], 10)
        qps[str(b)] = reps * n / (time.perf_counter() - t)
print(json.dumps({"version": faiss.__version__, "threads": threads, "qps": qps}))
