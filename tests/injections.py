"""The checks can fail: in each chapter a finding that holds is flipped by injecting a result,
and the chapter's own check cell, with enforcement on, then stops naming it.

`with_injection` appends three cells to a chapter's smoke notebook on the synthetic market,
which nbval runs in the same kernel after the chapter itself (so no chapter is executed a
second time for this): the check cell as written with enforcement on (the chosen finding
must hold, so that it is the injection that flips it), the injection followed by the check
and its report (allowed to raise), and a cell that fails unless that raised FindingNotHeld
naming the finding.
"""
from __future__ import annotations

import nbformat

# chapter: (the finding to flip, the statement that injects a result contradicting it)
INJECTIONS = {
    "01_data": ("fat_tails", "tail_ratio = 0.5"),
    "02_dense_autoencoder": ("little_over_pca", "max_gain = 0.5"),
    "03_sparse_features": ("stress_window_vs_sparse",
                           'gaps_over_markets.loc[(STRESS, "window volatility"), ["estimate", "low", "high"]] '
                           '= [0.1, 0.05, 0.15]'),
    "04_vae_factors": ("posterior_collapse", "sweep = sweep.iloc[::-1]"),
    "05_conditional_autoencoder": ("oracle_ahead", "oracle_versus_ae = oracle_versus_ae - 1.0"),
    "06_covariance": ("stress_variance", "stress_variance_ratios = 1 / stress_variance_ratios"),
    "07_anomalies": ("some_clean", "share_clean = 1.0"),
    "08_regimes": ("stress_volatility", "stress_vol_ratio = 0.9"),
    "09_scenarios": ("real_clustering", "acf_real = acf_real * 0"),
    "10_supervised_autoencoder": ("small_ics", 'averaged_table["mean IC"] = averaged_table["mean IC"] + 0.5'),
    "11_backtest": ("signal_no_edge",
                    'ls_sharpe = ls_sharpe.copy()\nls_sharpe[["estimate", "low", "high"]] = [1.0, 0.5, 1.5]'),
}
ENFORCED = "from helpers.findings import Findings\nfindings = Findings(enforce=True)\n"
MARK = "injected result"  # in the first line of each appended cell, so tests can find them


def check_cell(notebook: nbformat.NotebookNode) -> str:
    """The chapter's check cell: its second-last code cell, which declares the claims."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    check = code[-2].source
    if "findings.claim(" not in check:
        raise ValueError("the second-last code cell must declare the chapter's claims (findings.claim)")
    return check


def injection_cells(chapter: str, key: str, injection: str, check: str) -> list[nbformat.NotebookNode]:
    """The three cells that flip `key` in `chapter` by running `injection` before its `check` cell."""
    before = (f"# {MARK}: {key} holds before the injection\nimport sys\nsys.last_value = None\n{ENFORCED}{check}\n"
              f"_injected = findings.table().loc[{key!r}]\n"
              f"assert _injected['holds'], '{chapter}: {key} must hold before the injection for the test to mean "
              "anything'\n")
    injected = (f"# {MARK}: the check stops\n# NBVAL_RAISES_EXCEPTION\n{injection}\n{ENFORCED}{check}\n"
                "findings.report()\n")
    after = (f"# {MARK}: it stopped naming {key}\nimport sys\n"
             "assert type(sys.last_value).__name__ == 'FindingNotHeld', "
             f"'{chapter}: the injected result did not stop the check'\n"
             f"assert _injected['claim'] in str(sys.last_value), '{chapter}: the failure does not name {key}'\n")
    return [nbformat.v4.new_code_cell(source) for source in (before, injected, after)]


def with_injection(notebook: nbformat.NotebookNode, chapter: str) -> nbformat.NotebookNode:
    notebook.cells = notebook.cells + injection_cells(chapter, *INJECTIONS[chapter], check_cell(notebook))
    return notebook
