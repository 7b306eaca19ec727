"""The work behind ``poc study {chaos,euler,compress} MODEL.py``: options, runs, files."""

from __future__ import annotations

import time
import warnings

from .chaos import chaos_study
from .compress import compress_study
from .euler import euler_study
from .model_file import load_model

_BUILTIN = {"alpha": [1.5], "sigma": 1.0, "T": 1.0, "step": 0.02,
            "steps": [2.0**-3, 2.0**-4, 2.0**-5, 2.0**-6], "ns": [32, 64, 128, 256],
            "replicates": None, "noise": "iid", "expected": None}
# replicates when neither the command line nor the model gives them
_DEFAULT_REPLICATES = {"chaos": 16, "compress": 16, "euler": 200}


def _options(args, model) -> dict:
    opts = dict(_BUILTIN)
    opts.update(model.defaults)
    for key in _BUILTIN:
        value = getattr(args, key, None)
        if value is not None:
            opts[key] = value
    if not isinstance(opts["alpha"], list | tuple):
        opts["alpha"] = [opts["alpha"]]
    if opts["replicates"] is None:
        opts["replicates"] = _DEFAULT_REPLICATES[args.study]
    return opts


def _run_one(study: str, model, o: dict, alpha: float, seed: int, progress):
    common = {"alpha": alpha, "sigma": o["sigma"], "noise": o["noise"], "seed": seed,
              "expected": o["expected"], "progress": progress}
    if study == "euler":
        return euler_study(model.drift, model.x0, T=o["T"], steps=o["steps"],
                           replicates=o["replicates"], **common)
    run = chaos_study if study == "chaos" else compress_study
    return run(model.drift, model.x0, T=o["T"], step=o["step"], ns=o["ns"],
               replicates=o["replicates"], **common)


def run_study_command(args, check_out=None) -> int:
    """Run the study for every alpha, write ``<out>/<study>-<model>.json`` and ``.png``.

    ``check_out(path)`` validates the output folder once the model file has loaded, before
    the (long) run.
    """
    from ..plotting import new_figure
    from ..report import atomic_save_figure, atomic_write_json

    model = load_model(args.model)
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    if check_out is not None:
        check_out(args.out)
    o = _options(args, model)
    progress = False if args.no_progress else None
    t0 = time.perf_counter()
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for alpha in o["alpha"]:
            results.append(_run_one(args.study, model, o, float(alpha), args.seed, progress))
    for w in caught:
        print(f"poc: warning: {w.message}")
    stem = f"{args.study}-{model.name}"
    fig, axes = new_figure(1, len(results), width=5.6, height=4.4)
    for ax, res, alpha in zip(axes[0], results, o["alpha"], strict=True):
        res.plot(ax=ax)
        ax.set_title(f"{model.name}: {args.study} study, alpha = {alpha:g}", fontsize=9)
    atomic_save_figure(fig, args.out / f"{stem}.png", dpi=130, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    cases = [r.to_dict() for r in results]
    verdicts = [c["passed"] for c in cases if c["passed"] is not None]
    atomic_write_json(args.out / f"{stem}.json", {
        "study": args.study, "model": str(model.path), "seed": args.seed,
        "passed": all(verdicts) if verdicts else None, "cases": cases,
        "figures": [f"{stem}.png"], "elapsed_s": round(time.perf_counter() - t0, 2)})
    for r in results:
        print(r.summary())
    print(f"results in {args.out / (stem + '.json')} and {args.out / (stem + '.png')}")
    return 0 if all(verdicts) else 1
