"""Time one noisy SGD step of the mean-field network: poc vs NumPy vs PyTorch.

The step (DESIGN.md section 2, the paper's algorithm) for n hidden units
theta_i in R^d on m data points, float64, "iid" alpha-stable noise:

    H = X Theta^T                       (m x n, GEMM 1)
    f_k = (1/n) sum_i tanh(H_ki),  r = f - y
    G = (tanh'(H) * r)^T X / m          (n x d, GEMM 2)
    Theta <- Theta - eta G + sigma eta^(1/alpha) xi

Every implementation draws its own alpha-stable noise by Chambers-Mallows-Stuck
(poc: poc.noise; NumPy and torch: the same formula in their array ops). The
baselines are written as a competent user would (in-place where natural).
All rows are measured in the same process after a warm-up; the table also
prints the machine's float64 matmul rate (a square GEMM) and the time the two
GEMMs of the step would take at that rate, the floor of any implementation.

Thread contention: poc mixes OpenBLAS (GEMMs) and Numba (the fused
elementwise pass, the noise) on the same cores. Idle OpenBLAS workers spin
for ~0.1 s after each call and the GNU OpenMP workers of Numba's "omp" layer
spin too, so each library steals cycles from the other. ``--env both``
(default) runs the benchmark twice in subprocesses: with the current
environment, and with OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4
(both must be set before the libraries load), which stop the spinning.
Without them, ``import poc`` selects Numba's workqueue layer (idle workers
sleep), and simulate() runs BLAS on one thread per call and splits the two
large products into fixed blocks of rows on a pool of Python threads, which
sleep when idle (poc._threads.split_blas); the same path is taken with or
without the variables, so the default environment runs as fast as the tuned one.

Measured on 2 cores shared with other jobs (load average ~13, so absolute
times are inflated several-fold and only ratios within one run mean much),
``python benchmarks/bench_sgd_step.py --repeats 9``, ms per step, best of 9
interleaved rounds:

    code                    environment   poc     NumPy   torch   poc vs NumPy / torch
    before (omp layer,      default       103.4   104.0   175.9   1.01x / 1.70x
      1 Numba thread)       tuned          76.7    75.7    18.5   0.99x / 0.24x
    after (workqueue,       default        23.8    57.0    82.4   2.39x / 3.46x
      split products)       tuned          25.4    39.9    20.9   1.57x / 0.82x

Default against tuned, after: 23.8 / 25.4 ms (within the noise; the issue asks
for within 10%). With the variables set, torch (its own OpenMP pool, now
passive) was faster than poc on this loaded machine.

Quiet AVX-512 machine (E), after the gradient was computed as X^T P per block,
``--repeats 9``, ms per step: default 6.51 / 13.12 / 17.96 (poc 2.02x NumPy, 2.76x torch),
tuned 6.88 / 13.42 / 17.89 (1.95x, 2.60x).

Usage:  python benchmarks/bench_sgd_step.py [--env current|tuned|both] [--steps 20]
Torch is optional (not a runtime dependency): run with an interpreter that has
it; without it the torch row is skipped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TUNED_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
M, D, N = 500, 64, 2000
ALPHA, SIGMA, ETA = 1.5, 0.1, 0.05


def run(steps: int, repeats: int) -> None:
    import numba
    import numpy as np
    from _numpy_sgd import numpy_cms, numpy_gradient_step
    from _timing import best_time

    import poc
    from poc.drifts import MeanFieldNetwork
    from poc.drifts.network import _mfn_rows
    from poc.engine import _euler_update, quiet_numba_threads
    from poc.noise import _noise

    rng = np.random.default_rng(0)
    X = rng.standard_normal((M, D)) / np.sqrt(D)
    y = np.tanh(X[:, 0])
    theta0 = rng.standard_normal((N, D))
    flops = 2 * (2.0 * M * N * D)  # the two GEMM-sized products

    # machine float64 matmul rate (square GEMM, best of 3)
    A, B = rng.standard_normal((1500, 1500)), rng.standard_normal((1500, 1500))
    rate = 2 * 1500**3 / best_time(lambda: A @ B, 3)

    # --- poc: simulate() per step, plus a breakdown of one step
    net = MeanFieldNetwork(X, y, "tanh")
    def poc_run():
        poc.simulate(net, theta0, alpha=ALPHA, sigma=SIGMA, step=ETA, n_steps=steps, seed=1,
                     progress=False)
    ws = net.workspace(N, D)
    H, f, wt, GT = ws["H"], ws["f"], ws["wt"], np.empty((D, N))
    f[:] = 0.0
    th = theta0.copy()
    bad = np.zeros((N + 63) // 64, dtype=np.bool_)
    nrng = np.random.default_rng(2)
    scale = ETA ** (1 / ALPHA)
    incr = _noise(nrng, ALPHA, N, D, "iid", scale)
    zeros = np.zeros((N, D))

    def gemm1():
        np.dot(X, th.T, out=H)

    def gemm1_and_pass():  # the pass overwrites H, so H is rebuilt each time
        np.dot(X, th.T, out=H)
        _mfn_rows(H, net._Y, wt, 0, -1.0 / M, f, True)

    t_gemm1 = best_time(gemm1, repeats, 10)
    t_pass = best_time(gemm1_and_pass, repeats, 10) - t_gemm1
    breakdown = {
        "GEMM 1  H = X Theta^T": t_gemm1,
        "fused activations + residuals (Numba)": t_pass,
        # poc computes G^T = X^T P (and transposes it): faster than P^T X with d = 64 columns
        "GEMM 2  G^T = X^T P": best_time(lambda: np.dot(X.T, H, out=GT), repeats, 10),
        "noise (poc.noise._noise)": best_time(
            lambda: _noise(nrng, ALPHA, N, D, "iid", scale), repeats, 10),
        "update + finiteness check (Numba)": best_time(
            lambda: _euler_update(th, zeros, ETA, 0.0, incr, False, bad), repeats, 10),
    }
    numba_note = ("all Numba threads, products split over sleeping threads"
                  if quiet_numba_threads() else "one Numba thread beside BLAS")

    # --- plain NumPy
    state = {"theta": theta0.copy()}
    g_np = np.random.default_rng(3)

    def numpy_step():
        theta = state["theta"]
        numpy_gradient_step(theta, X, y, ETA)
        theta += (SIGMA * scale) * numpy_cms(g_np, ALPHA, theta.shape)

    def numpy_run():
        for _ in range(steps):
            numpy_step()

    # --- PyTorch (optional)
    runs = {"poc": poc_run, "numpy": numpy_run}
    torch_note = ""
    try:
        import torch
    except ImportError:
        torch_note = "torch not installed in this interpreter: row skipped"
    else:
        torch_note = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        tstate = {"theta": torch.from_numpy(theta0.copy())}
        g_t = torch.Generator().manual_seed(4)

        def cms_torch(shape):
            u = torch.rand(shape, generator=g_t, dtype=torch.float64)
            w = torch.empty(shape, dtype=torch.float64).exponential_(generator=g_t)
            v = torch.pi * (u - 0.5)
            return (torch.sin(ALPHA * v) / torch.cos(v) ** (1 / ALPHA)
                    * (torch.cos((1 - ALPHA) * v) / w) ** ((1 - ALPHA) / ALPHA))

        def torch_step():
            theta = tstate["theta"]
            T = torch.tanh(Xt @ theta.T)
            r = T.mean(dim=1) - yt
            P = (1.0 - T * T).mul_(r[:, None])
            grad = (P.T @ Xt).div_(M)
            theta.sub_(grad, alpha=ETA)
            theta.add_(cms_torch(theta.shape), alpha=SIGMA * scale)

        def torch_run():
            with torch.no_grad():
                for _ in range(steps):
                    torch_step()

        runs["torch"] = torch_run

    # Interleaved rounds, best of each: on a shared machine a load burst then hits
    # every implementation alike instead of one of them, which keeps the ratios honest.
    best = dict.fromkeys(runs, float("inf"))
    for fn in runs.values():
        fn()  # warm-up (compilation, caches)
    for _ in range(repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / steps)
    t_poc, t_numpy, t_torch = best["poc"], best["numpy"], best.get("torch")

    # --- report
    floor = flops / rate
    env = ", ".join(f"{k}={os.environ[k]}" for k in TUNED_ENV if k in os.environ) or "defaults"
    print(f"\nnoisy SGD step, m = {M}, d = {D}, n = {N}, float64, iid noise, alpha = {ALPHA}")
    print(f"environment: {env}; numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} "
          f"threads, layer {numba.threading_layer()}); {torch_note}")
    print(f"machine float64 matmul rate (1500^3 GEMM): {rate / 1e9:.1f} GFLOP/s; "
          f"the step's two GEMMs ({flops / 1e6:.0f} MFLOP) at that rate: {floor * 1e3:.2f} ms")
    print(f"{'implementation':<34}{'ms/step':>10}{'poc speed-up':>14}{'x GEMM floor':>14}")
    rows = [("poc.simulate", t_poc), ("plain NumPy", t_numpy)]
    if t_torch is not None:
        rows.append(("PyTorch (CPU)", t_torch))
    for name, t in rows:
        print(f"{name:<34}{t * 1e3:>10.2f}{t / t_poc:>14.2f}{t / floor:>14.2f}")
    print(f"poc step breakdown (each part timed alone, {numba.get_num_threads()} Numba threads; "
          f"inside simulate: {numba_note}):")
    for name, t in breakdown.items():
        print(f"  {name:<40}{t * 1e3:>8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["current", "tuned", "both"], default="both")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (best is kept)")
    args = parser.parse_args()
    if args.env == "current":
        run(args.steps, args.repeats)
        return
    for env_kind in (["current", "tuned"] if args.env == "both" else ["tuned"]):
        env = dict(os.environ)
        if env_kind == "tuned":
            env.update(TUNED_ENV)
        cmd = [sys.executable, __file__, "--env", "current", "--steps", str(args.steps),
               "--repeats", str(args.repeats)]
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
