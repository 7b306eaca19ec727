"""The ``poc`` command: ``poc validate [CHECK ...] [--quick | --full] [--out DIR] [--seed N]``,
``poc study {chaos,euler,compress} MODEL.py [...]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main", "run_script"]


def _parser() -> argparse.ArgumentParser:
    from .checks import CHECKS

    p = argparse.ArgumentParser(
        prog="poc",
        description="Numerical checks of heavy-tailed SGD theory (arXiv 2306.08125).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser(
        "validate",
        help="run theorem checks, write <out>/<check>.json, figures and REPORT.md",
        description="Run theorem checks. Exit code 0 if all pass, 1 if any fails, 2 on bad input.",
    )
    v.add_argument("checks", nargs="*", metavar="CHECK",
                   help=f"checks to run (default: all): {', '.join(CHECKS)}")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small sizes, about a minute per check (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the sizes behind the published figures (minutes per check)")
    v.set_defaults(mode="quick")
    v.add_argument("--out", type=Path, default=Path("figures"),
                   help="output directory (default: figures/)")
    v.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")
    v.add_argument("--no-progress", action="store_true", help="hide progress bars")
    sub.add_parser("list", help="list the available checks")
    _study_parser(sub)
    return p


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _study_parser(sub) -> None:
    s = sub.add_parser(
        "study", help="measure a rate on your own model: poc study {chaos,euler,compress} MODEL.py",
        description="Run a study on MODEL.py (which defines `drift`, `x0` and optionally a "
                    "`defaults` dict); writes OUT/<study>-<model>.json and .png and prints the "
                    "summary. Exit 0, 1 if --expected is given and the measurement disagrees, "
                    "2 on bad input (including a bad MODEL.py).")
    s.add_argument("study", choices=("chaos", "euler", "compress"))
    s.add_argument("model", type=Path, metavar="MODEL.py")
    s.add_argument("--alpha", type=float, nargs="+", help="noise index(es) (default 1.5)")
    s.add_argument("--sigma", type=float, help="noise scale (default 1)")
    s.add_argument("--T", type=float, help="horizon (default 1)")
    s.add_argument("--step", type=float, help="Euler step for chaos/compress (default 0.02)")
    s.add_argument("--steps", type=_floats, help="steps for euler, e.g. 0.125,0.0625,0.03125")
    s.add_argument("--ns", type=_ints, help="particle counts, e.g. 32,64,128,256")
    s.add_argument("--replicates", type=int, help="replicates per point")
    s.add_argument("--noise", help="noise kind: iid, isotropic or neuron (default iid)")
    s.add_argument("--expected", type=float, help="theory slope: adds a verdict")
    s.add_argument("--out", type=Path, default=Path("."), help="output directory (default .)")
    s.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    s.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _study(args) -> int:
    from ._study_run import run_study_command

    return run_study_command(args)


def _validate(args) -> int:
    from tqdm.auto import tqdm

    from .checks import CHECKS, Context, get_check, run_check
    from .report import write_report

    names = args.checks or list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; available: {', '.join(CHECKS)}")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    results = []
    bar = tqdm(names, desc="checks", disable=args.no_progress, dynamic_ncols=True)
    for name in bar:
        bar.set_postfix_str(name)
        ctx = Context(mode=args.mode, seed=args.seed, out=args.out, progress=not args.no_progress)
        results.append(run_check(get_check(name), ctx))
    bar.close()
    report = write_report(args.out, order=list(CHECKS))

    width = max(len(r["check"]) for r in results)
    print(f"{'check':<{width}}  verdict  cases  time (s)")
    for r in results:
        n_ok = sum(c["passed"] for c in r["cases"])
        print(f"{r['check']:<{width}}  {'PASS' if r['passed'] else 'FAIL':<7}  "
              f"{n_ok}/{len(r['cases']):<3}  {r['elapsed_s']:8.1f}")
        for c in r["cases"]:
            if not c["passed"]:
                print(f"  - {c['name']}: {c['detail']}")
    print(f"results in {args.out}/, summary in {report}")
    return 0 if all(r["passed"] for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``poc`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            from .checks import CHECKS, get_check

            for name in CHECKS:
                print(f"{name:10s} {get_check(name).TITLE}")
            return 0
        if args.command == "study":
            return _study(args)
        return _validate(args)
    except (ValueError, TypeError, ImportError) as exc:
        # Bad input, or a missing optional extra (the digits data need scikit-learn),
        # is the user's to fix: one line, no traceback, exit code 2
        # (POC_DEBUG=1 shows the traceback when the error is the toolkit's).
        if os.environ.get("POC_DEBUG"):
            raise
        print(f"poc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("poc: interrupted", file=sys.stderr)
        return 130


def run_script(check: str, argv: list[str] | None = None) -> int:
    """Entry point of the scripts in ``validation/``: ``python validation/X.py [--full] [--out DIR]``.

    Same options and exit codes as ``poc validate CHECK``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    return main(["validate", check, *args])


if __name__ == "__main__":
    sys.exit(main())
