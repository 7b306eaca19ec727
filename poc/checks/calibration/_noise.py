"""Calibration of the noise: the samplers of every kind, alpha and scale, and simulate's path."""

from __future__ import annotations

import math

import numpy as np

from ... import noise as noise_mod
from ... import particles
from ...drifts import LinearMeanField
from .._base import Case, Context
from ._common import ALPHA, KS_PVALUE_MIN, SIGMA, Z_MAX, ks, quantile_text, quantile_z

SAMPLER_ALPHAS = (1.0, 1.5, 2.0)  # Cauchy, the checks' heavy tail, Gaussian: each a separate branch
SAMPLER_SCALE = 0.37  # not 1, so a forgotten or doubled scale shows
# 3 % scale error -> z shift of ~7 at the median with 1e5 draws (stated in each case's detail)
SAMPLER_N = 100_000


def _independence_z(a: np.ndarray, b: np.ndarray) -> float:
    """z of P(|a| and |b| both below their medians) against 1/4 (independent coordinates)."""
    both = np.mean((np.abs(a) <= np.median(np.abs(a))) & (np.abs(b) <= np.median(np.abs(b))))
    return float((both - 0.25) / math.sqrt(0.25 * 0.75 / a.size))


def _sampler_case(kind: str, alpha: float, g: np.random.Generator) -> Case:
    n, s = SAMPLER_N, SAMPLER_SCALE
    x = noise_mod.sample_noise(alpha, n, 2, kind=kind, scale=s, seed=g)
    checks = {}
    ok = True
    if kind == "iid":
        qz = quantile_z(np.abs(x) / s, alpha)  # 2n independent entries
        zi = _independence_z(x[:, 0], x[:, 1])
        checks["independence_z"] = zi
        ok &= abs(zi) < Z_MAX
        extra = f"; coordinates independent: z = {zi:+.2f}"
        one = noise_mod.sample_stable(alpha, n, scale=s, seed=g)
        q1 = quantile_z(np.abs(one) / s, alpha)
        checks["sample_stable"] = q1
        ok &= q1["max_abs_z"] < Z_MAX
        extra += f"; poc.sample_stable: {quantile_text(q1)}"
    elif kind == "isotropic":
        qz = quantile_z(np.abs(x[:, 0]) / s, alpha)
        # rotation invariance: any unit projection has the coordinate's law
        proj = quantile_z(np.abs(x[:, 0] + x[:, 1]) / (math.sqrt(2.0) * s), alpha)
        checks["projection"] = proj
        ok &= proj["max_abs_z"] < Z_MAX
        extra = f"; projection on (1, 1)/sqrt 2: {quantile_text(proj)}"
    else:  # neuron: one scalar per row, repeated
        qz = quantile_z(np.abs(x[:, 0]) / s, alpha)
        same = bool(np.array_equal(x[:, 0], x[:, 1]))
        checks["rows_constant"] = same
        ok &= same
        extra = f"; each row one scalar: {'yes' if same else 'NO'}"
    ok &= qz["max_abs_z"] < Z_MAX
    return Case(
        name=f"poc.sample_noise kind={kind}, alpha={alpha:g}: every coordinate S_alpha(scale)",
        passed=bool(ok),
        detail=f"scale {s:g}: {quantile_text(qz)}{extra}",
        values={"marginal": qz, **checks, "scale": s})


def case_noise_samplers(ctx: Context) -> list[Case]:
    """Every noise kind at alpha 1, 1.5, 2 and scale 0.37: marginal scale and joint structure."""
    cases = []
    for i, alpha in enumerate(SAMPLER_ALPHAS):
        for j, kind in enumerate(noise_mod.NOISE_KINDS):
            cases.append(_sampler_case(kind, alpha, ctx.rng(30, i, j)))
    return cases


def case_noise_path(ctx: Context) -> list[Case]:
    """Zero-drift increments of poc.simulate against S_alpha(sigma (k eta)^(1/alpha)): KS and scale."""
    n = 50_000 if ctx.quick else 200_000
    step = 0.01  # far from 1, so step^(1/alpha) and any other power of the step differ
    zero = LinearMeanField(0.0, 0.0)
    cases = []
    for j, kind in enumerate(noise_mod.NOISE_KINDS):
        vals = {}
        ok = True
        for k in (1, 10):
            tr = particles.simulate(zero, np.zeros((n, 2)), alpha=ALPHA, sigma=SIGMA, step=step,
                                    n_steps=k, noise=kind, seed=ctx.rng(1, j, k), progress=False)
            scale = SIGMA * (k * step) ** (1.0 / ALPHA)
            D, p = ks(tr.final[:, 0], ALPHA, scale)
            qz = quantile_z(np.abs(tr.final[:, 0]) / scale, ALPHA)
            vals[k] = {"ks_statistic": D, "p_value": p, "quantiles": qz}
            ok &= p > KS_PVALUE_MIN and qz["max_abs_z"] < Z_MAX
        cases.append(Case(
            name=f"simulate noise path, kind={kind}: zero-drift increments are "
                 f"S_alpha(sigma (k step)^(1/alpha))",
            passed=bool(ok),
            detail=(f"alpha={ALPHA:g}, sigma={SIGMA:g}, step={step:g}, n={n}: 1 step KS D = "
                    f"{vals[1]['ks_statistic']:.4f} p = {vals[1]['p_value']:.3g}, "
                    f"{quantile_text(vals[1]['quantiles'])}; 10 steps KS D = "
                    f"{vals[10]['ks_statistic']:.4f} p = {vals[10]['p_value']:.3g}, "
                    f"{quantile_text(vals[10]['quantiles'])} (KS: pass if p > {KS_PVALUE_MIN:g})"),
            values={"one_step": vals[1], "ten_steps": vals[10], "n": n, "step": step}))
    return cases
