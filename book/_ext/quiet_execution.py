"""Silence progress bars in the kernels that execute the book.

The kernels inherit this process's environment, so setting TQDM_DISABLE here keeps
training progress bars (tqdm widgets, meant for a person at a notebook) out of the built
pages however the build is started; helpers.train reads it. An explicit TQDM_DISABLE in
the environment wins.
"""
from __future__ import annotations

import os


def setup(app):
    os.environ.setdefault("TQDM_DISABLE", "1")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
