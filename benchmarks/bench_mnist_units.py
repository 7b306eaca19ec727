"""Per-step cost of the mnist check's training runs, and the projected time of its full grid.

Times :func:`poc.train_fcn` under the adapted protocol (lr 0.1, batch 500, an evaluation
every 50 steps, float32) for every width of the full mode (250 to 5000) and noise type
0 (plain SGD) to 3 (alpha 1.75, sigma 0.003): ``--steps`` steps after a 2-step warm-up,
milliseconds per step. Then it weights these costs by the steps each of the 330 adapted
runs of the last full run took (``figures/full/mnist.json``, its "every run" table) to
project the training time of that grid on this machine.

To compare two versions of the code, run the script with each on ``PYTHONPATH`` and
``--save FILE``, then ``--compare BEFORE.json NOW.json``. Measured on a quiet 2-core AVX-512
machine (E), before the vectorised sampler against the code of issue 19's closing:
3,744 s -> 2,422 s (1.55x); type 2 3.3x, type 3 1.5x, plain SGD and type 1 12-15 % slower
(fixed blocks of BLAS rows, for bit-identical runs on 1 and 2 threads; see the performance
page).

Usage: python benchmarks/bench_mnist_units.py [--steps 100] [--save FILE]
       python benchmarks/bench_mnist_units.py --compare BEFORE.json NOW.json
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import time
import warnings
from pathlib import Path

WIDTHS = (250, 500, 1000, 2000, 5000)
TYPES = (0, 1, 2, 3)
FULL_RUN = Path(__file__).resolve().parent.parent / "figures" / "full" / "mnist.json"


def measure(steps: int) -> dict[str, float]:
    """Seconds per step of train_fcn for each "width,type"."""
    from poc.data import load_mnist
    from poc.experiments import train_fcn

    X, _, y, _ = load_mnist()
    out = {}
    for w in WIDTHS:
        for t in TYPES:
            kw = dict(width=w, lr=0.1, batch_size=500, noise_type=t, seed=0, eval_every=50,
                      target_train_accuracy=1.0)
            if t:
                kw.update(alpha=1.75, sigma=0.003)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the target is never reached on purpose
                train_fcn(X, y, max_steps=2, **kw)
                t0 = time.perf_counter()
                train_fcn(X, y, max_steps=steps, **kw)
            out[f"{w},{t}"] = (time.perf_counter() - t0) / steps
            print(f"width {w:>5}, type {t}: {out[f'{w},{t}'] * 1e3:7.1f} ms/step", flush=True)
    return out


def full_run_steps() -> collections.Counter:
    """Steps summed per (width, noise type) over the runs of the last full run."""
    table = json.loads(FULL_RUN.read_text())["tables"][1]
    steps = collections.Counter()
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].isdigit():
            continue
        m = re.search(r"type (\d)", cells[1])  # Gaussian controls cost as their type
        steps[(int(cells[0]), int(m.group(1)) if m else 0)] += int(cells[3].rstrip("*"))
    return steps


def project(costs: dict[str, float], steps: collections.Counter) -> dict[int, float]:
    """Projected seconds of training per noise type."""
    per = collections.Counter()
    for (w, t), s in steps.items():
        per[t] += s * costs[f"{w},{t}"]
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--save", help="write the per-step costs to this JSON file")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "NOW"))
    args = parser.parse_args()
    steps = full_run_steps()
    print(f"last full run: {sum(steps.values())} steps over the adapted grid")
    if args.compare:
        before, now = (project(json.loads(Path(f).read_text()), steps) for f in args.compare)
        for t in TYPES:
            print(f"  type {t}: {before[t]:7.0f} s -> {now[t]:7.0f} s ({before[t] / now[t]:.2f}x)")
        b, n = sum(before.values()), sum(now.values())
        print(f"projected training time: {b:.0f} s -> {n:.0f} s ({b / n:.2f}x)")
        return
    costs = measure(args.steps)
    if args.save:
        Path(args.save).write_text(json.dumps(costs))
    per = project(costs, steps)
    print(f"projected training time of the grid: {sum(per.values()):.0f} s "
          + ", ".join(f"type {t} {per[t]:.0f} s" for t in TYPES))


if __name__ == "__main__":
    main()
