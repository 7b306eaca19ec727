"""Calibrate the instruments before trusting a measurement made with them.

Claim: the toolkit's instruments measure what they claim, here and now. Each
calibration compares one instrument with a truth known in closed form:

1. ``poc.simulate``'s noise: with a zero drift, k Euler steps of size eta from 0
   give exactly ``S_alpha(sigma (k eta)^(1/alpha))`` (stability of the increments).
2. The drift families: a pairwise drift with ``V(x) = -a x``, ``K(x, y) = c y``
   is the linear mean-field model ``b(x, mu) = -a x + c mean(mu)``.
3. ``poc.sliced_wasserstein``: a shift by v projects to shifts, so
   ``SW_1(x, x + v) = |v| E|theta_1|`` with ``E|theta_1| = Gamma(d/2) /
   (sqrt(pi) Gamma((d+1)/2))`` for theta uniform on the sphere.
4. ``poc.compress.hill``: on exact Pareto samples ``k / hill`` is Gamma(k, 1/alpha),
   so the mean of ``1/hill`` is exactly ``1/alpha`` at every k.
5. ``poc.rates.fit_rate``: its 95 % intervals contain a known slope in ~95 % of
   repetitions (heavy-tailed replicate noise).

The complete set (54 cases by class of error: scale z-tests beside KS, every public
option, coverage at few replicates, absolute anchors, protocol invariants; with the
thresholds and their reasons) is the check ``poc validate calibration``, which
``poc validate`` runs first; the code is in ``poc/checks/calibration/`` and the
classes are described in docs/user_guide/calibration.rst. Run:
``python validation/calibration.py`` (about 20 s).
"""

import math

import numpy as np
from numba import njit
from scipy import stats

import poc
from poc.compress import hill
from poc.drifts import LinearMeanField, PairwiseDrift
from poc.rates import fit_rate

ALPHA, SIGMA, SEED = 1.5, 0.7, 0
rng = np.random.default_rng(SEED)
law = stats.levy_stable(ALPHA, 0.0)  # S_alpha(1): characteristic function exp(-|u|^alpha)

# 1. simulate's noise path, for every noise kind (KS p-value; pass if > 1e-3)
step, k, n = 0.01, 10, 4000
for kind in poc.NOISE_KINDS:
    tr = poc.simulate(LinearMeanField(0.0, 0.0), np.zeros((n, 2)), alpha=ALPHA, sigma=SIGMA,
                      step=step, n_steps=k, noise=kind, seed=rng, progress=False)
    scale = SIGMA * (k * step) ** (1 / ALPHA)
    p = stats.kstest(tr.final[:, 0] / scale, law.cdf).pvalue
    print(f"1. simulate noise, kind={kind:9s}: KS p = {p:.3f}  {'PASS' if p > 1e-3 else 'FAIL'}")

# 2. pairwise drift against the linear model, to rounding
A, C = 1.3, 0.7


@njit
def confinement(x, out):
    for j in range(x.size):
        out[j] = -A * x[j]


@njit
def interaction(x, y, out):
    for j in range(x.size):
        out[j] = C * y[j]


cloud = rng.standard_normal((150, 2))
diff = np.max(np.abs(PairwiseDrift(confinement, interaction)(cloud) - LinearMeanField(A, C)(cloud)))
print(f"2. PairwiseDrift vs LinearMeanField: max difference {diff:.1e}  "
      f"{'PASS' if diff < 1e-12 else 'FAIL'}")

# 3. sliced Wasserstein against its closed form (pass if within 4 Monte Carlo standard errors)
d, L = 3, 20_000
v = np.array([0.3, -0.4, 1.2])
x = rng.standard_normal((200, d))
sw = poc.sliced_wasserstein(x, x + v, n_projections=L, seed=rng)
e1 = math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)
exact = np.linalg.norm(v) * e1
se = np.linalg.norm(v) * math.sqrt((1 / d - e1**2) / L)
print(f"3. sliced W1 {sw:.4f} vs |v| E|theta_1| = {exact:.4f}: z = {(sw - exact) / se:+.2f}  "
      f"{'PASS' if abs(sw - exact) < 4 * se else 'FAIL'}")

# 4. Hill on exact Pareto samples: mean of 1/hill against 1/alpha at several k
ks = np.array([10, 30, 100])
inv = np.array([1 / hill(1 + rng.pareto(ALPHA, 1000), ks) for _ in range(2000)])
z = (inv.mean(axis=0) - 1 / ALPHA) / (inv.std(axis=0, ddof=1) / math.sqrt(len(inv)))
print(f"4. Hill: z-scores of mean(1/hill) - 1/alpha at k = {ks.tolist()}: "
      f"{np.round(z, 2).tolist()}  {'PASS' if np.all(np.abs(z) < 4) else 'FAIL'}")

# 5. coverage of fit_rate's 95 % interval (200 repetitions: sd 0.015 at 0.95, 0.025 at 0.85)
widths, hits = 2.0 ** np.arange(5, 11), 0
for i in range(200):
    y = widths[:, None] ** -0.5 * (1 + rng.pareto(3.0, (widths.size, 20)))
    lo, hi = fit_rate(widths, y, n_boot=1000, seed=i).ci
    hits += lo <= -0.5 <= hi
print(f"5. fit_rate 95 % interval coverage: {hits / 200:.3f}  "
      f"{'PASS' if 0.90 <= hits / 200 <= 0.99 else 'FAIL'}")
