"""The ``poc`` command: ``poc validate [CHECK ...] [--quick | --full] [--out DIR] [--seed N]
[--baseline DIR]`` and ``poc study {chaos,euler,compress} MODEL.py [...]``.

Exit codes (one meaning each; :data:`EXIT_CODES_HELP` is the text users see):
0 every check ran and passed (with ``--baseline``: nothing changed against
the baseline); 1 a check ran and its measurement disagreed with its claim
(with ``--baseline``: something changed against the baseline); 2 bad input
or usage; 3 a check could not run for lack of an optional extra; 4 a check
crashed; 130 interrupted. Subcommands turn errors into one line and a code
through :func:`run_guarded`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_ERROR",
    "EXIT_FAIL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "check_out_dir",
    "exit_code",
    "main",
    "run_guarded",
    "run_script",
]

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_ERROR = 4
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    every check ran and passed
  1    a check ran and its measurement disagreed with its claim (a finding, see REPORT.md)
  2    bad input or usage, including any problem with --out or --baseline (one line names it)
  3    a check could not run for lack of an optional extra (SKIPPED; the line says what to install)
  4    a check crashed (ERROR; its traceback is in OUT/<check>.log)
  130  interrupted (REPORT.md lists the checks that did not finish)
When several apply, the code is 4 if any check crashed, else 1 if any failed,
else 3 if any was skipped, else 0. POC_DEBUG=1 shows tracebacks.
With --baseline DIR, 0 and 1 compare with DIR instead of the claims:
  0    nothing changed against the baseline (a FAIL that was already there is no change)
  1    something changed against the baseline: a status or verdict, a case added or
       removed, a number moved beyond its stated uncertainty (or rounding); REPORT.md
       and the last line say what
and the code is 4 if any check crashed, else 1 if anything changed, else 3 if any
was skipped, else 0."""

_EXIT_OF_STATUS = {"ERROR": EXIT_ERROR, "FAIL": EXIT_FAIL, "SKIPPED": EXIT_SKIPPED, "PASS": EXIT_OK}


class UsageError(ValueError):
    """Bad input on the command line (exit code 2)."""


def exit_code(statuses: Iterable[str], changed: bool | None = None) -> int:
    """The exit code of a run whose checks ended with ``statuses``.

    4 if any is ERROR, else 1 if any is FAIL, else 3 if any is SKIPPED, else 0.
    With a baseline comparison (``changed`` not None), 1 means that something
    changed against the baseline instead: 4 if any is ERROR, else 1 if
    ``changed``, else 3 if any is SKIPPED, else 0.
    """
    codes = {_EXIT_OF_STATUS[s] for s in statuses}
    if changed is not None:
        codes.discard(EXIT_FAIL)
        if changed:
            codes.add(EXIT_FAIL)
    for code in (EXIT_ERROR, EXIT_FAIL, EXIT_SKIPPED):
        if code in codes:
            return code
    return EXIT_OK


def check_out_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """Create ``path`` if needed and make sure files can be written in it.

    Raises
    ------
    UsageError
        One line naming the path and the reason: it is a file, it cannot be
        created, or it is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot create the directory ({exc.strerror or exc})") from None
    import tempfile

    try:  # access() is not enough: read-only mounts, ACLs, root on NFS
        with tempfile.TemporaryFile(dir=path, prefix=".poc-write-test."):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write files there ({exc.strerror or exc})") from None
    return path


def _err(msg: str) -> None:
    print(f"poc: {msg}", file=sys.stderr, flush=True)


def run_guarded(command: Callable[[], int]) -> int:
    """Run ``command()`` and turn what it raises into one line on stderr and an exit code.

    ValueError/TypeError (bad input) and OSError (files, permissions) give 2,
    a missing optional extra gives 3 with the install command, any other
    exception gives 4, and KeyboardInterrupt gives 130. With the environment
    variable ``POC_DEBUG=1`` the exception is re-raised with its traceback.
    Subcommands (``poc validate``, ``poc study``) wrap their body in it.
    """
    from ._validation import MissingExtraError

    try:
        return command()
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("POC_DEBUG"):
            raise
        from .checks._base import one_line

        if isinstance(exc, MissingExtraError):
            _err(f"error: {exc}")
            return EXIT_SKIPPED
        if isinstance(exc, ValueError | TypeError):
            _err(f"error: {exc}")
            return EXIT_USAGE
        if isinstance(exc, OSError):
            where = f"{exc.filename}: " if exc.filename else ""
            _err(f"error: {where}{exc.strerror or exc}")
            return EXIT_USAGE
        _err(f"internal error: {one_line(exc)} (run with POC_DEBUG=1 for the traceback)")
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    from .checks import available_checks

    checks = available_checks()
    p = argparse.ArgumentParser(
        prog="poc",
        description="Numerical checks of heavy-tailed SGD theory (arXiv 2306.08125).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser(
        "validate",
        help="run theorem checks, write <out>/<check>.json, figures and REPORT.md",
        description="Run theorem checks, write OUT/<check>.json, the figures and OUT/REPORT.md.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("checks", nargs="*", metavar="CHECK",
                   help=f"checks to run (default: all): {', '.join(checks)}")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small sizes, about a minute per check (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the sizes behind the published figures (minutes per check)")
    v.set_defaults(mode="quick")
    v.add_argument("--out", type=Path, default=Path("figures"),
                   help="output directory (default: figures/)")
    v.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")
    v.add_argument("--no-progress", action="store_true",
                   help="print only a line when each check starts and ends (no bars or heartbeat)")
    v.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the work units on Dask: 'local' (one worker process per core), "
                        "'local:N' (N workers) or 'tcp://HOST:PORT' (a running scheduler); "
                        "needs the extra 'dask'. Same numbers as without it.")
    v.add_argument("--baseline", type=Path, metavar="DIR",
                   help="compare every case with the results of an earlier run in DIR (e.g. the "
                        "committed figures/): exit 1 then means that something changed against "
                        "it (a verdict, a case, a number beyond its uncertainty), 0 that nothing "
                        "did; REPORT.md and the last line list the changes")
    v.add_argument("--no-cache", action="store_true",
                   help="ignore OUT/.cache (finished work units kept for resuming a run) and "
                        "do not write it")
    sub.add_parser("list", help="list the available checks")
    _study_parser(sub)
    return p


def _end_line(r: dict, out: Path) -> str:
    status = r["status"]
    if status == "SKIPPED":
        return f"SKIPPED: {r['reason']}"
    if status == "ERROR":
        return f"ERROR: {r['reason']} (traceback in {out / r['log']})"
    from .report import beyond_line

    paper = [c for c in r["cases"] if c.get("source") != "beyond the paper"]
    beyond = [c for c in r["cases"] if c.get("source") == "beyond the paper"]
    n_ok = sum(c["passed"] for c in paper)
    extra = f"; {beyond_line(beyond)}" if beyond else ""
    return f"{status}, {n_ok}/{len(paper)} cases pass{extra}, {r['elapsed_s']:.1f} s"


def _step(text: str) -> float | str:
    """``--step``: a number, or the word ``theorem`` (the compression theorem's step per n)."""
    if text.strip() == "theorem":
        return "theorem"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number or 'theorem', got {text!r}") from None


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
                    "2 on bad input (including a bad MODEL.py).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("study", choices=("chaos", "euler", "compress"))
    s.add_argument("model", type=Path, metavar="MODEL.py")
    s.add_argument("--alpha", type=float, nargs="+", help="noise index(es) (default 1.5)")
    s.add_argument("--sigma", type=float, help="noise scale (default 1)")
    s.add_argument("--T", type=float, help="horizon (default 1)")
    s.add_argument("--step", type=_step, help="Euler step for chaos/compress (default 0.02); "
                   "for compress also 'theorem': K_n = ceil(T n^(alpha/2+1)) steps of T / K_n "
                   "at each n")
    s.add_argument("--steps", type=_floats, help="steps for euler, e.g. 0.125,0.0625,0.03125")
    s.add_argument("--ns", type=_ints, help="particle counts, e.g. 32,64,128,256")
    s.add_argument("--replicates", type=int, help="replicates per point")
    s.add_argument("--noise", help="noise kind: iid, isotropic or neuron (default iid)")
    s.add_argument("--expected", type=float, help="theory slope: adds a verdict")
    s.add_argument("--out", type=Path, default=Path("."), help="output directory (default .)")
    s.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    s.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _study(args) -> int:
    from .studies.command import run_study_command

    return run_study_command(args, check_out=check_out_dir)




def _print_table(results: list[dict]) -> None:
    from .report import beyond_line

    width = max(len("check"), *(len(r["check"]) for r in results))
    print(f"{'check':<{width}}  verdict  cases  time (s)")
    for r in results:
        paper = [c for c in r["cases"] if c.get("source") != "beyond the paper"]
        beyond = [c for c in r["cases"] if c.get("source") == "beyond the paper"]
        n_ok = sum(c["passed"] for c in paper)
        cases = f"{n_ok}/{len(paper)}" if r["status"] in ("PASS", "FAIL") else "-"
        print(f"{r['check']:<{width}}  {r['status']:<7}  {cases:<5}  {r['elapsed_s']:8.1f}")
        if r["status"] == "FAIL":
            for c in paper:
                if not c["passed"]:
                    print(f"  - {c['name']}: {c['detail']}")
        if beyond and r["status"] in ("PASS", "FAIL"):
            print(f"  {beyond_line(beyond)}")
        elif r["status"] in ("SKIPPED", "ERROR"):
            print(f"  - {r['reason']}")


def summary_sentence(results: list[dict], report: Path, comparison=None) -> str:
    """The last line of ``poc validate``: how many checks pass and what the others mean.

    With a baseline comparison (:class:`poc.baseline.Comparison`) it ends with
    what changed against the baseline, and the exit code follows the comparison.
    """
    n = len(results)
    n_pass = sum(r["status"] == "PASS" for r in results)
    head = f"{n_pass} of {n} check{'s' if n != 1 else ''} pass{'es' if n == 1 else ''}"
    parts = [head]
    for r in results:
        name = r["check"]
        if r["status"] == "FAIL":
            parts.append(f"{name} FAILS: a measured disagreement with the paper's claim, "
                         f"see {report}#{name}")
        elif r["status"] == "SKIPPED":
            parts.append(f"{name} SKIPPED: needs the optional extra '{r.get('extra', '?')}' "
                         f"({r.get('install', '')})")
        elif r["status"] == "ERROR":
            parts.append(f"{name} ERROR: the check crashed ({r['reason']}), traceback in "
                         f"{report.parent / r['log']}")
        if r.get("beyond_the_paper") and r["status"] in ("PASS", "FAIL"):
            b = r["beyond_the_paper"]
            parts.append(f"{name} beyond the paper (not in its verdict): {b['status']} "
                         f"{b['passed']}/{b['cases']}")
    changed = None
    if comparison is not None:
        changed = comparison.changed
        parts.append(comparison.summary())
    return "; ".join(parts) + f" (exit code {exit_code((r['status'] for r in results), changed)})"


def _scheduler_precheck(spec: str) -> None:
    """Bad ``--scheduler`` input and a missing extra as a UsageError (exit 2), before any check.

    A missing Dask is exit 2, not 3: 3 means that a check was SKIPPED for lack of an extra,
    while here the command line asks for something this installation cannot do, and no
    check runs at all.
    """
    from ._cluster import import_distributed, parse_scheduler
    from ._validation import MissingExtraError

    try:
        parse_scheduler(spec)
        import_distributed()
    except (ValueError, MissingExtraError) as exc:
        raise UsageError(str(exc)) from None


@contextlib.contextmanager
def _client(args):
    from ._cluster import scheduler_client

    if args.scheduler is None:
        yield None
        return
    try:
        cm = scheduler_client(args.scheduler, dashboard=not args.no_progress)
        client = cm.__enter__()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        kind = "cluster" if args.scheduler.startswith("tcp://") else "LocalCluster"
        _err(f"Dask {kind}: {len(client.scheduler_info().get('workers', {}))} workers at "
             f"{client.scheduler.address}"
             + (f", dashboard {client.dashboard_link}" if _has_dashboard(client) else ""))
        yield client
    except BaseException:
        if not cm.__exit__(*sys.exc_info()):
            raise
    else:
        cm.__exit__(None, None, None)


def _has_dashboard(client) -> bool:
    try:
        import bokeh  # noqa: F401  (without it the dashboard's pages are empty)

        return bool(client.scheduler_info().get("services", {}).get("dashboard"))
    except Exception:
        return False


def _cache_line(cache) -> str:
    line = (f"work units: {cache.hits} from the cache ({cache.directory}), "
            f"{cache.computed} computed")
    if cache.corrupt:
        line += f", {cache.corrupt} corrupted cache entries found and recomputed"
    return line


def _validate(args) -> int:
    from .cache import UnitCache
    from .checks import Context, available_checks, run_check
    from .report import utc_now, write_report

    checks = available_checks()
    names = args.checks or list(checks)
    unknown = [n for n in names if n not in checks]
    if unknown:
        raise UsageError(f"unknown check(s) {', '.join(unknown)}; available: {', '.join(checks)}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    baseline = None
    if args.baseline is not None:
        from .baseline import load_baseline

        try:  # read before any check runs: --out may be the baseline directory itself
            baseline = load_baseline(args.baseline)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    out = check_out_dir(args.out)
    cache = None if args.no_cache else UnitCache(out / ".cache")
    if args.scheduler is not None:
        _scheduler_precheck(args.scheduler)

    run = {"seed": args.seed, "mode": args.mode, "started": utc_now(), "checks": list(names)}
    results: list[dict] = []
    try:
        with _client(args) as client:
            for i, name in enumerate(names, 1):
                _err(f"[{i}/{len(names)}] {name}: started")
                ctx = Context(mode=args.mode, seed=args.seed, out=out,
                              progress=not args.no_progress, client=client, cache=cache,
                              dashboard=client.dashboard_link
                              if client is not None and _has_dashboard(client) else None)
                r = run_check(checks[name], ctx, name=name)
                results.append(r)
                _err(f"[{i}/{len(names)}] {name}: {_end_line(r, out)}")
    except KeyboardInterrupt:
        unfinished = names[len(results):]
        run["unfinished"] = unfinished
        report = write_report(out, order=list(checks), run=run)
        _err(f"interrupted during {unfinished[0]}; not finished: {', '.join(unfinished)}; "
             f"{report} rebuilt from the results in {out} and marks them")
        return EXIT_INTERRUPTED

    comparison = None
    if baseline is not None:
        from .baseline import compare_results

        comparison = compare_results(results, baseline, args.baseline)
    report = write_report(out, order=list(checks), run=run, comparison=comparison)
    _print_table(results)
    if comparison is not None:
        shown = 20  # the full list is in REPORT.md
        for change in comparison.changes[:shown]:
            print(f"  changed: {change.text()}")
        if len(comparison.changes) > shown:
            print(f"  ... and {len(comparison.changes) - shown} more changes, listed in {report}")
    if cache is not None:
        print(_cache_line(cache))
    print(f"results in {out}/, summary in {report}")
    print(summary_sentence(results, report, comparison))
    return exit_code((r["status"] for r in results), None if comparison is None else comparison.changed)


def _list(args) -> int:
    from .checks import available_checks, get_check

    for name in available_checks():
        print(f"{name:10s} {get_check(name).TITLE}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``poc`` console script; returns the exit code."""

    def command() -> int:
        args = _parser().parse_args(argv)
        return {"validate": _validate, "list": _list, "study": _study}[args.command](args)

    return run_guarded(command)


def run_script(check: str, argv: list[str] | None = None) -> int:
    """Deprecated: run ``poc validate CHECK`` with the options ``argv``.

    .. deprecated:: 0.2.0
       It was documented as the entry point of the scripts in ``validation/``, but none
       uses it: they compute their claims themselves. Call :func:`main`,
       ``main(["validate", check, *argv])``, or run ``poc validate CHECK``.

    Parameters
    ----------
    check : str
        Name of the check.
    argv : list of str, optional
        Options of ``poc validate`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code of ``poc validate CHECK``.
    """
    import warnings

    warnings.warn("poc.cli.run_script is deprecated: use poc.cli.main(['validate', check, *argv]) "
                  "or the command `poc validate CHECK`", DeprecationWarning, stacklevel=2)
    args = list(sys.argv[1:] if argv is None else argv)
    return main(["validate", check, *args])


if __name__ == "__main__":
    sys.exit(main())
