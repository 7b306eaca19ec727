r"""Studies: from a drift to a measured convergence rate, with its interval, in one call.

* :func:`chaos_study` -- propagation of chaos: the coupling error
  ``mean_i |x_i^n(T) - xbar_i(T)|`` between an n-particle system and its
  nonlinear (McKean-Vlasov) copies, and the W_1 distance of the cloud to the
  limit next to the i.i.d. floor, against n.
* :func:`euler_study` -- the strong error of the Euler scheme against the step,
  on nested grids with common random numbers.
* :func:`compress_study` -- the relative best-k error and the prunable fraction
  of the final cloud against n, with Hill estimates of the column norms' tail.

Each returns a result with ``.fit`` (a :class:`poc.rates.RateFit`), ``.data``
(the per-n or per-step, per-replicate measurements), ``.series`` (the fitted
curves, each with its one fit), ``.plot(ax=None)``,
``.to_dict()`` (JSON-ready) and ``.summary()`` (one paragraph, with a verdict
when ``expected=`` is given).

Every study is a list of independent work units (see :mod:`poc.units`), one
per (n or replicate block), each seeded by
``SeedSequence([seed, study id, *unit index])``: the numbers depend on the
seed only, not on the order in which the units run.

Every study takes the horizon ``T`` and the Euler ``step`` (the step count is
``T / step``; the Euler study takes several ``steps``). The checks of
``poc validate`` build their cases from the :class:`StudyResult`: its curves
(:meth:`StudyResult.curve`) carry the one interval of each measured curve,
and its ``data`` every replicate array (see each study's Returns).

Where things live (a new study is a new module and one import here):

* ``result`` -- :class:`StudyResult`, :class:`Series`;
* ``inputs`` -- the input checks and the cutting into work units;
* ``fitting`` -- the rate fits (also on ragged replicate sets);
* ``chaos``, ``euler``, ``compress`` -- one module per study;
* ``command`` and ``model_file`` -- the ``poc study`` command.

How many replicates
-------------------
The bootstrap interval of a slope needs replicates at every n. Large n needs
fewer (the error fluctuates less), so ``replicates`` may be a mapping
``{n: count}``; :func:`constant_work` builds one that keeps
``replicates x n`` constant. With alpha < 2 the errors of some models (those
whose interaction runs through an unbounded mean, e.g. the linear model) have
infinite variance, and bootstrap intervals of their means need many
replicates: the studies warn below :data:`MIN_HEAVY_REPLICATES`.

References
----------
Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125 (propagation of chaos,
Euler discretization, compressibility); Sznitman (1991), Ecole d'Ete de
Saint-Flour XIX (synchronous coupling); Gribonval, Cevher, Davies (2012),
IEEE Trans. Inf. Theory 58(8) (compressible priors); Hill (1975), Ann.
Statist. 3(5).
"""


from __future__ import annotations

from ..exceptions import StudyWarning
from .chaos import MIN_REFERENCE_FACTOR, REFERENCE_FACTOR, chaos_study
from .chaos import N_DIRECTIONS as N_DIRECTIONS
from .chaos import N_SPLITS as N_SPLITS
from .compress import THEOREM_EPSILONS, compress_study, theorem_step
from .euler import EULER_REFINEMENT as EULER_REFINEMENT
from .euler import euler_study
from .inputs import MIN_HEAVY_REPLICATES, constant_work
from .result import NOT_IN_JSON, Series, StudyResult

__all__ = [
    "MIN_HEAVY_REPLICATES",
    "MIN_REFERENCE_FACTOR",
    "NOT_IN_JSON",
    "REFERENCE_FACTOR",
    "THEOREM_EPSILONS",
    "Series",
    "StudyResult",
    "StudyWarning",
    "chaos_study",
    "compress_study",
    "constant_work",
    "euler_study",
    "theorem_step",
]
