r"""Check ``calibration``: every instrument the theorem checks rely on, against a known truth.

Claim. The samplers, the simulator, the drift families, the exact laws of the
linear model, the rate fits, the Wasserstein estimators, the
compressibility measures, the strong-error machinery and the training
protocol measure what they claim to measure, on this platform and with these
library versions, in the same run as the theorem checks. A theorem check is
only as trustworthy as its instruments, so ``poc validate`` runs this check
first and a failure here makes the other verdicts untrustworthy.

Method. The check is a list of small, independent case functions
(:data:`CASES`), each comparing one instrument with a known truth; every
case name names the instrument, so a failure says what is broken. The cases
are designed by class of error, not by bug (docs/user_guide/calibration.rst):

* scale errors: beside KS, distribution-free z-tests of the fraction of
  draws below the exact median and 0.9-quantile of the claimed law, sized so
  that a 3 % scale error moves z by more than the threshold (each case states
  by how much): every noise kind at alpha 1, 1.5 and 2 (:mod:`._noise`),
  simulate's noise path, the linear model's n-particle Euler law, train_fcn's
  three noise types;
* every public option: W_p for p = 1, 1.5 and 2 (exact 1-D, exact d > 1,
  sliced, to a law), best_k_error for p = 1, 2 and inf,
  best_k_approximation, mce_prune, prunable_fraction, fraction_prune,
  record_every, simulate's minibatch path, the network's chunked path on
  large data;
* coverage of the rate fits' intervals at 20 and at 3-4 replicates, with
  bands at >= 5 binomial sd from the measured clean coverage and from the
  coverage of a half-level or leave-one-out bootstrap (:mod:`._rates`);
* absolute anchors for relative verdicts: the chaos study's i.i.d. floor and
  reference ratio against their exact values, the reference kernel against
  the public estimator and closed forms, LinearMeanField.marginal against the
  limit of the exact Euler law;
* protocol invariants: copies driven by a reference's own path reproduce it;
  paired runs (poc.train, poc.train_fcn) share initial weights and
  minibatches; train_fcn's noise is on W1 only; the same seed gives the same
  path however a run is cut (record_every).

Thresholds are stated next to each constant. Every statistical case uses a
fixed seed derived from ``(seed, case key)``. Each case function can run
alone (:func:`run_cases`), which the fault-injection tests use. The cases
call the instruments through their modules (``poc.compress.hill``, ...), so
a fault injected into a module is seen.

Work units (:mod:`poc.units`). Every case function is a work unit,
:class:`CalibrationCase` (its key, the mode and the seed; the function draws
from ``SeedSequence([seed, *case key])`` as when it runs alone, so the numbers
do not depend on where it runs): serially, or on a Dask client (``poc
validate --scheduler``). They never come from the unit cache: the check
exists to measure the instruments of this installation (its NumPy, SciPy and
Numba), not to recall an earlier one's.

Time: quick mode takes 16-18 s of CPU (user + system, three runs), Numba
kernels cached, of which ~2-3 s build the scipy CDF table once and a few
seconds compile the pairwise and feature kernels specialised on this check's
user functions (Numba cannot cache those): well under a minute of wall time
on an otherwise idle 2-core machine (on a shared one at load average 17-19,
118-140 s). Full mode uses larger samples where a size depends on the mode.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...units import Unit, run_units, study_id
from .._base import Case, Context, one_line
from ._compress import case_best_k_direct, case_hill_pareto, case_prune_rules
from ._models import (
    case_feature_form_vs_network,
    case_linear_euler_law,
    case_linear_marginal,
    case_linear_ratio,
    case_network_chunked,
    case_network_gradient,
    case_network_minibatch,
    case_pairwise_vs_linear,
    case_reference_self_consistency,
    linear_euler_law,
    network_as_feature_drift,
    network_drift_numpy,
)
from ._noise import case_noise_path, case_noise_samplers
from ._protocol import (
    case_fcn_noise,
    case_pairing,
    case_record_every,
    case_strong_nested,
    case_strong_order,
)
from ._rates import case_fit_rate_coverage, case_paired_rate_coverage
from ._wasserstein import (
    case_iid_floor_anchor,
    case_private_sliced_closed_form,
    case_private_sliced_vs_public,
    case_reference_kernel_1d,
    case_sliced_closed_form,
    case_w1_to_law,
    case_w2_to_normal,
    case_wp_exact_1d,
    case_wp_exact_nd,
    expected_w1_normal,
)

__all__ = ["CASES", "NAME", "TITLE", "TRUST_NOTE", "CalibrationCase", "calibration_unit",
           "expected_w1_normal", "linear_euler_law", "network_as_feature_drift",
           "network_drift_numpy", "run", "run_cases"]

NAME = "calibration"
TITLE = ("The instruments are calibrated: the samplers, simulate's noise path, the drift families, "
         "the exact linear laws, the rate-fit intervals, the Wasserstein estimators (p = 1 and 2), "
         "the compressibility measures and pruning rules, the strong-error grids and the training "
         "protocol each agree with a known truth.")

TRUST_NOTE = ("Calibration runs first: if any calibration case fails, an instrument the theorem "
              "checks rely on is broken and their verdicts are untrustworthy.")

#: (key, case function) in report order; each function returns its cases and can run alone.
CASES: list[tuple[str, Callable[[Context], list[Case]]]] = [
    ("noise_samplers", case_noise_samplers),
    ("noise_path", case_noise_path),
    ("pairwise_vs_linear", case_pairwise_vs_linear),
    ("feature_form_vs_network", case_feature_form_vs_network),
    ("network_gradient", case_network_gradient),
    ("network_minibatch", case_network_minibatch),
    ("network_chunked", case_network_chunked),
    ("linear_marginal", case_linear_marginal),
    ("linear_euler_law", case_linear_euler_law),
    ("linear_ratio", case_linear_ratio),
    ("reference_self_consistency", case_reference_self_consistency),
    ("fit_rate_coverage", case_fit_rate_coverage),
    ("paired_rate_coverage", case_paired_rate_coverage),
    ("wp_exact_1d", case_wp_exact_1d),
    ("wp_exact_nd", case_wp_exact_nd),
    ("sliced_closed_form", case_sliced_closed_form),
    ("w1_to_law", case_w1_to_law),
    ("w2_to_normal", case_w2_to_normal),
    ("private_sliced_vs_public", case_private_sliced_vs_public),
    ("private_sliced_closed_form", case_private_sliced_closed_form),
    ("reference_kernel_1d", case_reference_kernel_1d),
    ("iid_floor_anchor", case_iid_floor_anchor),
    ("hill_pareto", case_hill_pareto),
    ("best_k_direct", case_best_k_direct),
    ("prune_rules", case_prune_rules),
    ("record_every", case_record_every),
    ("pairing", case_pairing),
    ("fcn_noise", case_fcn_noise),
    ("strong_nested", case_strong_nested),
    ("strong_order", case_strong_order),
]


@dataclass(frozen=True)
class CalibrationCase:
    """One case function of :data:`CASES`, in one mode and for one seed: a work unit.

    The case function draws its random numbers from ``ctx.rng(case key)``,
    i.e. ``SeedSequence([seed, *case key])``, as when it runs alone, so the
    unit's numbers are those of :func:`run_cases` wherever it runs.
    """

    key: str
    mode: str
    seed: int


def calibration_unit(u: CalibrationCase, ss: np.random.SeedSequence, shared=None) -> list[Case]:
    """Run the case function ``u.key`` of :data:`CASES` (looked up when the unit runs).

    An instrument that raises is a broken instrument, not a broken check: the
    exception becomes one failing case, named after the case function (its
    docstring's first line names the instrument), with the exception and where
    it was raised, so the other cases still run and report.
    """
    fn = dict(CASES)[u.key]
    try:
        return fn(Context(mode=u.mode, seed=u.seed, progress=False))
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        doc = (fn.__doc__ or u.key).strip().splitlines()[0].rstrip(".")
        return [Case(name=f"{doc} [raised an exception]", passed=False,
                     detail=f"case {u.key}: {one_line(exc)}{where}",
                     values={"exception": type(exc).__name__})]


def run_cases(ctx: Context, keys=None) -> list[Case]:
    """Run the cases named in ``keys`` (all of :data:`CASES` when None), in report order.

    Each case function is a work unit (:func:`poc.units.run_units`): on
    ``ctx.client`` when there is one, counted on ``ctx.units_bar()``; never
    from the cache (the instruments are measured afresh on every run).
    """
    known = dict(CASES)
    if keys is not None:
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"unknown calibration case(s) {unknown}; available: {list(known)}")
    index = {k: i for i, (k, _) in enumerate(CASES)}
    units = [Unit.make(ctx.seed, study_id(NAME), (index[k],), CalibrationCase(k, ctx.mode, ctx.seed))
             for k, _ in CASES if keys is None or k in keys]
    out = run_units(calibration_unit, units, client=ctx.client, cache=None,
                    progress=ctx.units_bar(), desc="calibration")
    return [c for cases in out for c in cases]


def run(ctx: Context) -> list[Case]:
    cases = run_cases(ctx)
    ctx.notes.insert(0, TRUST_NOTE)
    failed = [c.name for c in cases if not c.passed]
    if failed:
        ctx.notes.insert(1, "Broken instrument(s): " + "; ".join(failed) + ".")
    return cases
