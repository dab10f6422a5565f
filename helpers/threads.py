"""One thread per worker process: where several kernels share the cores (the runs of a sweep,
the chapters executed ahead of a build), each is capped so that they do not fight over them."""
from __future__ import annotations

import os

# torch and BLAS (OpenMP, MKL, OpenBLAS), joblib's process pools and numba's threads (umap-learn's
# nearest neighbours, whose idle threads spin) read these when they start.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LOKY_MAX_CPU_COUNT",
                    "NUMBA_NUM_THREADS")


def pin_threads(threads: int = 1) -> None:
    """Cap this process's later imports, and every kernel it starts, at `threads` threads."""
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
