"""One epoch of the paper's noisy SGD on MNIST: poc.experiments.train_fcn vs PyTorch.

The protocol (authors' code, ``poc.experiments``): ReLU network 784 -> 2000 ->
10 without biases, cross-entropy, plain SGD with lr 0.1, batch 500, and after
each step type-2 noise (i.i.d. alpha-stable entries, alpha 1.75, sigma 0.003)
added to the hidden weights; float32; one epoch = 8 steps over the 4000
training images of ``poc.data.load_mnist``. Both implementations evaluate
the training accuracy after the first and the last step (train_fcn evaluates
at iteration 0 and at max_steps), so they do the same work.

The PyTorch baseline is the authors' own style: ``nn.Linear(bias=False)``
layers, autograd, ``optim.SGD``, and the alpha-stable noise drawn with the
Chambers-Mallows-Stuck formula in torch's float32 ops (the authors used
scipy's ``levy_stable.rvs``, far slower; that would flatter poc).

Also printed: the split of train_fcn's time between GEMMs, elementwise
kernels (ReLU, softmax-CE, SGD updates) and the noise, timed in isolation at
the same shapes, and the machine's float32 GEMM rate (a square 2000 GEMM).

Usage: python benchmarks/bench_fcn.py [--repeat 3]. Torch is a benchmark-only
dependency (pip install torch==2.13.0); without it its row is skipped. On a
shared machine the absolute times are inflated; the ratio in one run is what
counts.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
from _timing import best_time

from poc.data import load_mnist
from poc.experiments import TrainingWarning, _evaluate, _forward, _noise_step, train_fcn

WIDTH, BATCH, LR, ALPHA, SIGMA = 2000, 500, 0.1, 1.75, 0.003


def poc_epoch(X, y, steps):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        return train_fcn(X, y, width=WIDTH, lr=LR, batch_size=BATCH, noise_type=2, alpha=ALPHA,
                         sigma=SIGMA, seed=0, max_steps=steps, eval_every=10**9,
                         target_train_accuracy=1.0)


def torch_epoch(X, y, steps):
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(X.shape[1], WIDTH, bias=False), nn.ReLU(),
                        nn.Linear(WIDTH, 10, bias=False))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    crit = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    scale = SIGMA * LR ** (1.0 / ALPHA)
    e = (1.0 - ALPHA) / ALPHA
    W1 = net[0].weight
    g = torch.Generator().manual_seed(1)
    for i in range(steps):
        idx = torch.randperm(X.shape[0], generator=g)[:BATCH]
        opt.zero_grad()
        crit(net(Xt[idx]), yt[idx]).backward()
        opt.step()
        if i == 0 or i == steps - 1:
            with torch.no_grad():
                (net(Xt).argmax(1) == yt).float().mean().item()
        if i == steps - 1:
            break
        with torch.no_grad():  # Chambers-Mallows-Stuck, symmetric, float32
            v = (torch.rand(W1.shape, generator=g) - 0.5) * math.pi
            w = torch.empty(W1.shape).exponential_(generator=g)
            noise = (torch.sin(ALPHA * v) / torch.cos(v) ** (1.0 / ALPHA)
                     * (torch.cos((1.0 - ALPHA) * v) / w) ** e)
            W1.add_(noise, alpha=scale)
    return net


def split(X, y, repeat):
    """Per-epoch seconds of train_fcn's parts, timed in isolation at the same shapes."""
    from poc.experiments import _axpy, _relu_backward, _softmax_ce

    rng = np.random.default_rng(0)
    W1 = rng.uniform(-0.036, 0.036, (WIDTH, X.shape[1])).astype(np.float32)
    W2 = rng.uniform(-0.022, 0.022, (10, WIDTH)).astype(np.float32)
    Xb, yb = X[:BATCH], y[:BATCH]
    H, O = _forward(Xb, W1, W2)
    G = np.empty_like(O)
    losses, correct = np.empty(BATCH), np.empty(BATCH, dtype=np.bool_)
    _softmax_ce(O, yb, 1.0 / BATCH, G, losses, correct)
    GH = G @ W2

    def gemms():
        Xb @ W1.T
        H @ W2.T
        G @ W2
        G.T @ H
        GH.T @ Xb

    def elementwise():
        Z = H.copy()  # the copy stands in for the GEMM output that _relu overwrites
        from poc.experiments import _relu
        _relu(Z)
        _softmax_ce(O, yb, 1.0 / BATCH, G, losses, correct)
        _relu_backward(GH.copy(), H)
        _axpy(W1, 0.0, W1)
        _axpy(W2, 0.0, W2)

    g = np.random.default_rng(1)
    steps = X.shape[0] // BATCH
    t_gemm = best_time(gemms, repeat) * steps
    t_elem = best_time(elementwise, repeat) * steps
    t_noise = best_time(lambda: _noise_step(g, 2, ALPHA, W1, 1e-9), repeat) * (steps - 1)
    t_eval = best_time(lambda: _evaluate(X, y, W1, W2), repeat) * 2
    return t_gemm, t_elem, t_noise, t_eval


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    X, _, y, _ = load_mnist()
    steps = X.shape[0] // BATCH
    A = np.random.default_rng(0).random((2000, 2000), dtype=np.float32)
    t = best_time(lambda: A @ A, args.repeat)
    print(f"machine float32 GEMM rate (2000^3): {2 * 2000**3 / t / 1e9:.1f} GFLOP/s")
    t_poc = best_time(lambda: poc_epoch(X, y, steps), args.repeat)
    print(f"train_fcn, one epoch ({steps} steps, width {WIDTH}, batch {BATCH}, type-2 noise): "
          f"{t_poc:.3f} s")
    try:
        import torch

        torch.set_num_threads(2)
        t_torch = best_time(lambda: torch_epoch(X, y, steps), args.repeat)
        print(f"PyTorch {torch.__version__} CPU, same protocol:                   {t_torch:.3f} s"
              f"  -> poc / torch = {t_poc / t_torch:.2f}")
    except ImportError:
        print("PyTorch not installed: baseline skipped")
    t_gemm, t_elem, t_noise, t_eval = split(X, y, args.repeat)
    tot = t_gemm + t_elem + t_noise + t_eval
    print(f"train_fcn split per epoch (parts timed alone, sum {tot:.3f} s): GEMMs {t_gemm:.3f} s "
          f"({100 * t_gemm / tot:.0f}%), elementwise {t_elem:.3f} s ({100 * t_elem / tot:.0f}%), "
          f"noise {t_noise:.3f} s ({100 * t_noise / tot:.0f}%), 2 evaluations {t_eval:.3f} s "
          f"({100 * t_eval / tot:.0f}%)")


if __name__ == "__main__":
    main()
