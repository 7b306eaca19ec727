"""The paper's wording that the experiment checks test, and where each wording comes from.

Shared by the ``mnist`` and ``digits`` checks: a case whose ``source`` is
"paper" carries one of these quotes (``values["quote"]``) and its place
(``values["quoted_from"]``). Only wording found in a reachable text of
arXiv 2306.08125 (Wan, Barsbey, Zaidi, Simsekli) is quoted here.
"""

from __future__ import annotations

__all__ = ["QUOTES"]

# key -> (the exact wording, where it comes from)
QUOTES = {
    "compressible": ("achieves increased compressibility with various models and datasets",
                     "arXiv 2306.08125 (v2, the ICML 2024 version), abstract"),
    "robust": ("leads to robust test performance under pruning",
               "arXiv 2306.08125 (v2), abstract"),
    "slight": ("achieves compressibility with a slight compromise from the training and test "
               "error", "arXiv 2306.08125v1 (June 2023), abstract"),
    "width": ("for any compression rate, there exists a level of overparametrization such that "
              "the output of the algorithm will be compressible with high probability",
              "arXiv 2306.08125 (v2), abstract: the theorem, here tested on the experiment's "
              "network"),
}
