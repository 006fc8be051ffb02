"""The command lines of the report scripts: scripts/report, scripts/polarize_report and
scripts/plot_diffusion each call one function here with sys.argv[1:].

Each parser carries the command's whole --help (what it reads, every file it writes, what it does
not do). The parsers import nothing beyond the standard library (and models.py, which needs
nothing else), so --help works under any python3; numpy and matplotlib are imported after parsing, and their absence is reported with the
interpreter's name and how to install them instead of a traceback.
"""
import argparse
import importlib
import os
import subprocess
import sys

from . import models, runs

REPORT_HELP = """\
Summarise a width sweep of `widemax train` runs (tables, width-scaling slopes, plots).

What it does: finds every run directory below SWEEP_DIR (at any depth: a directory holding both
summary.json and config.json, as written by `widemax train --out DIR`), groups the runs by model
(the names of experiments/models.tsv: {models}) and width, averages
over the seeds, and writes into the output directory (default SWEEP_DIR/report):

  results.csv, results.md   one row per (model, width): n_runs, final loss mean/std, initial loss,
                            final NTK drift ||H_T - H_0||_F / ||H_0||_F mean/std, max_r
                            ||w_r(T) - w_r(0)||, lambda_min(H_0) mean/std, lambda_max(H_0),
                            lr, final hidden-softmax entropy (softmax only), step time (median
                            over the seeds of each run's median),
                            and the loss decay rate per step (early and late part of the curve)
                            next to the linearised-NTK prediction -2 ln(1 - lr lambda_min(H_0))
  slopes.csv (+ results.md) per model, the least-squares slope of ln(quantity) against ln(width)
                            over all runs (every seed is one point), for quantity = ntk_drift,
                            w_drift_max and lambda_min_0, with its standard error
  final_loss_vs_width.png   final loss against width, log-log
  ntk_drift_vs_width.png    NTK drift and max_r ||w_r - w_r(0)|| against width, log-log, with the
                            fitted lines (slopes in the legend) and NTK theory's m^-1/2 drawn
                            through softmax c_m = sqrt(m)
  loss_curves.png           loss against step (log y, one y axis shared by the panels), one curve
                            per width, one panel per model, with the linearised model's late rate
                            -2 ln(1 - lr lambda_min(H_0)) and the bound L_0 (1 - lr lambda_min/2)^t
                            for the widest width
  lambda_min_vs_width.png   lambda_min(H_0) (with the m^1 of c_m = m) and lr * lambda_min(H_0) =
                            lambda_min/lambda_max against width, log-log
In every plot a point over seeds is the median with a 95% bootstrap interval of the median
(a band; every seed is a faint dot), the axes are labelled with their definitions, the title
gives the problem size, a seed far off the medians' scale is drawn as a triangle at the edge, and
each PNG has a PDF beside it.

Scaling sweeps (jobs/submit strong-scaling | weak-scaling): when every run directory is named
strong_p<P>[_r<k>] or weak_p<P>[_r<k>], or the runs share one model and differ in their rank
count at a fixed width (strong) or width per rank (weak), the report is about ranks instead of
widths. A point is a (ranks, width) pair read from summary.json (not from the directory name), so
repeated runs (REPEATS=K: <kind>_p<P>_r<k>) are aggregated. It writes:

  scaling.csv, scaling.md   one row per point: nodes, grid, width, width per rank, repeats, the
                            median step time T_P with its min-max over the repeats, speedup
                            T_1 / T_P (weak: the scaled speedup P T_1 / T_P), strong-scaling
                            efficiency T_1 / (P T_P) or weak-scaling efficiency T_1 / T_P, compute
                            and communication time per step and the communication share, and a
                            check column; the problem size (n, d, width or width per rank,
                            precision, threads) heads the table
  speedup.png               speedup against ranks (log2, integer ticks), with the ideal line
  scaling_efficiency.png    efficiency against ranks, with 100%
  comm_compute.png          compute and communication time per step, stacked, per point, with the
                            step time and its min-max
Every time is a median: per run its median step time (step_time_median_s), communication = the
run's communication share of its training time (comm_s / train_s) times that step, compute = the
rest; per point the median of each over the repeats. The spread is the min-max of the repeats'
step times. The baseline T_1 is the smallest rank count's step time (scaled as if it were one
rank). Weak scaling must keep the width per rank constant and strong scaling the width: a point
that does not (against the value of most points) is marked in the check column, a WARNING line
names its run directories on stdout and stderr, every file is still written, and the report exits
with status 3. Points that differ in n, d, d_out, precision, threads or steps get a WARNING too.

What it deliberately does not do: it never runs widemax, never edits a run directory, and does not
hide results that disagree with theory (the slope for c_m = m is reported as measured). Missing
keys (exp and relu have no entropy; runs without --ntk-every have no NTK figures) become empty
cells. A directory with config.json but no summary.json (a failed or unfinished run) is skipped
and listed. Exits with status 1 when no run is found, 2 when SWEEP_DIR does not exist, 3 when a
scaling sweep's width (per rank) is not constant.
"""

POLARIZE_HELP = """\
Tables and plots of the polarisation experiments of issue 9 (experiments/polarize.sh, jobs/submit
polarize-sweep and entropy-bridge).

It finds every run directory below DIR (one holding summary.json and config.json) and reports on
what it finds, into OUT (default DIR/report), with results.md holding every table:

`widemax polarize` runs (config.json has "command": "polarize"):
  toy.csv               one row per run: loss, T, d, init (a = 0 or 1 + 0.1 N), ||beta||, lr,
                        steps, entropy at step 0 and at the end, max_prob, final loss, first step
                        with max_prob >= 1/2 and with entropy <= log(T)/2, steps at which the
                        entropy rose and the last such step
  toy_entropy.png       entropy and max_prob against step (symlog x: step 0 at 0), one panel per
                        loss, each run named by its T, d, init, ||beta||, lr and steps
  asymptotics.png       for logistic runs with a = 0 and a constant lr: (1 - max_prob) ln^2(lr t)
                        against t, which the reduced dynamics (experiments/README.md, "Polarisation") predict to
                        tend to 2
  T sweep (runs named flow_T<T>, const_T<T>, init_T<T>):
  T_sweep.csv           per T: flow time tau_1/2 at which max_prob first reaches 1/2 on the
                        gradient-flow clock (flow_T) and with plain GD at lr 0.5 (const_T), their
                        ratio, the flow time at which the entropy first falls to log(T)/2, the
                        entropy / log T at tau_1/2, steps taken, the final entropy / log T,
                        max_prob, loss, and whether the final argmax is the token with the largest
                        initial <beta, v_j> (from init_T<T>/V.npy and beta.npy) with that token's
                        rank
  T_sweep_slope.txt     the least-squares slope of ln tau_1/2 against ln T and its standard error
  T_sweep.png           entropy / log T against flow time, one curve per T; tau_1/2 against T
                        (log-log) with the least-squares slope
`widemax train` runs (the bridge; named <model>_w<width>_s<seed>):
  bridge.csv            per (model, width): seeds, mean entropy of the hidden softmax at step 0 and
                        at the end (mean +- std over seeds), log m, the change, the change relative
                        to log m, the final loss, and the NTK drift
  bridge.png            final and initial mean entropy against width with log m (the maximum),
                        the signed change against width, and |change| against width (log-log)
                        with the fitted slope

What it does not do: run anything, edit run directories, or hide results that disagree with a
claim (every number is the measured one). Runs without summary.json are listed and skipped.
Every plot follows the figure style of the report package (scripts/widemax_report/style.py):
labelled axes, medians over seeds with a 95% bootstrap band, step 0 drawn at 0 on log step axes,
the problem size in the title, and a PDF beside each PNG.

Exits with status 1 when no run is found.
"""

DIFFUSION_HELP = """\
Plots and tables of `widemax diffusion` runs: samples over the true density, score error vs t,
and (for a sweep) score error vs width.

One run (a directory with summary.json, config.json, metrics.jsonl, samples.csv and, with a
mixture, mixture.json and samples_exact.csv), into OUT (default RUN_DIR):
  samples.png           the samples drawn with the network (and, when present, with the exact
                        score) over the contours of the true density p_0 (2-D; in more dimensions
                        the first two coordinates over the marginal density); titles give the
                        sliced Wasserstein distance and the largest weight error
  score_error_vs_t.png  relative score error per time bucket at each logged step (colour: the
                        step, every step in the legend or on a colour bar), with the final one in
                        black; log-log
  training.png          overall relative score error and held-out DSM loss against the step, one
                        panel each

A sweep (any directory tree of such runs, e.g. written by experiments/score_vs_width.sh or
jobs/submit score-vs-width), into OUT (default SWEEP_DIR/report):
  results.csv, results.md   one row per width: runs, mean and sample std of the final relative
                            score error, per-bucket errors, sliced Wasserstein (and its exact-score
                            and floor values), weight error, modes covered, training time; and the
                            least-squares slope of ln(score error) against ln(width)
  score_error_vs_width.png  overall and per-bucket relative score error against width (log-log,
                            median over seeds with a bootstrap band, every run a faint point)

Every plot follows the figure style of the report package (scripts/widemax_report/style.py):
labelled axes, medians over seeds with a 95% bootstrap band, the problem size in the title, and a
PDF beside each PNG.

What it deliberately does not do: it never runs widemax and never edits a run directory. Runs
without summary.json (failed or unfinished) are listed and skipped. Runs without a mixture (CSV
data only) have no score error; they are skipped in the sweep tables. Exits with status 1 when
RUN_DIR is not a finished run or the sweep has none.
"""


def parser(prog, text, **kw):
    first, _, rest = text.partition("\n\n")
    return argparse.ArgumentParser(prog=prog, description=first + " See the details below.",
                                   epilog=rest, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   **kw)


def add_allow_missing(p):
    p.add_argument("--allow-missing", action="store_true",
                   help="exit 0 although runs of the sweep's run lists (runs*.txt) are missing or "
                        "failed (they are listed either way)")


def report_parser():
    p = parser("report", REPORT_HELP.replace("{models}", ", ".join(models.ORDER)))
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", help="directory searched (recursively) for runs")
    p.add_argument("--out", metavar="DIR", help="output directory (default: SWEEP_DIR/report)")
    p.add_argument("--min-width", type=int, default=0, metavar="M",
                   help="fit the slopes only over runs with width >= M (default: all widths)")
    p.add_argument("--loss-floor", type=float, default=1e-12, metavar="R",
                   help="the loss decay rates use the part of each loss curve above "
                        "R * initial loss, before round-off flattens it (default: 1e-12)")
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    add_allow_missing(p)
    return p


def polarize_parser():
    p = parser("polarize_report", POLARIZE_HELP)
    p.add_argument("dir", metavar="DIR", help="directory searched (recursively) for runs")
    p.add_argument("--out", metavar="OUT", help="output directory (default: DIR/report)")
    add_allow_missing(p)
    return p


def diffusion_parser():
    p = parser("plot_diffusion", DIFFUSION_HELP,
               usage="%(prog)s RUN_DIR [--out DIR]\n       %(prog)s --sweep SWEEP_DIR [--out DIR]")
    p.add_argument("run_dir", nargs="?", metavar="RUN_DIR", help="one run directory")
    p.add_argument("--sweep", metavar="SWEEP_DIR", help="a directory tree of runs (a width sweep)")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: RUN_DIR, or SWEEP_DIR/report with --sweep)")
    add_allow_missing(p)
    return p


WIDTH_REPORT_HELP = """\
Report one of the width experiments of paper (a): activation-matched, lazy-threshold,
ntk-perturbation or generalisation (experiments/<name>.env).

What it does: finds every finished run below SWEEP_DIR (config.json and summary.json, at any
depth), and writes into the output directory (default SWEEP_DIR/report) results.md (tables:
medians over seeds with 95% bootstrap intervals, slopes fitted per seed), results.csv and the
experiment's figures as PNG and PDF:
  activation-matched  drift_vs_width, displacement_quantiles, rate_and_test_vs_width
  lazy-threshold      lazy_threshold (m*(n) and the rate ratio), with the theorem's numbers
                      (scripts/widemax_report/theory.py) in results.md
  ntk-perturbation    ntk_perturbation (||H(W_0 + Delta) - H(W_0)|| against R, and
                      ||H_0(m) - H_inf|| against m; reads the runs' H.npy)
  generalisation      generalisation (held-out and training loss against m)

What it deliberately does not do: run anything (experiments/reproduce NAME does both).
"""


def width_report_parser():
    p = parser("width_report", WIDTH_REPORT_HELP)
    p.add_argument("experiment", choices=["activation-matched", "lazy-threshold",
                                          "ntk-perturbation", "generalisation"])
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", help="directory searched (recursively) for runs")
    p.add_argument("--out", metavar="DIR", help="output directory (default: SWEEP_DIR/report)")
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    add_allow_missing(p)
    return p


def width_report(argv):
    return run("width_report", "paper_a", width_report_parser().parse_args(argv))


def other_interpreter():
    """An interpreter that has numpy and matplotlib when this one lacks them: $WIDEMAX_PYTHON,
    then $PYTHON (the experiment runners' key), then Debian's /usr/bin/python3; None if none has
    (or this process was already handed over once)."""
    if os.environ.get("WIDEMAX_REPORT_REEXEC"):
        return None
    here = os.path.realpath(sys.executable)
    for cand in (os.environ.get("WIDEMAX_PYTHON"), os.environ.get("PYTHON"), "/usr/bin/python3"):
        if not cand or not os.access(cand, os.X_OK) or os.path.realpath(cand) == here:
            continue
        if subprocess.run([cand, "-c", "import numpy, matplotlib"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return cand
    return None


def run(prog, module, args):
    """Imports widemax_report.<module> (numpy, matplotlib) and calls its main(args). When this
    interpreter lacks them (a pyenv or venv python3 first on PATH), the script is run again by
    one that has them (other_interpreter), once."""
    try:
        mod = importlib.import_module(f"{__package__}.{module}")
    except ModuleNotFoundError as e:
        if e.name not in ("numpy", "matplotlib"):
            raise
        other = other_interpreter()
        if other:
            os.environ["WIDEMAX_REPORT_REEXEC"] = "1"
            sys.stdout.flush()
            os.execv(other, [other, os.path.abspath(sys.argv[0])] + sys.argv[1:])
        print(f"{prog}: {sys.executable} has no module '{e.name}', and neither has "
              "$WIDEMAX_PYTHON, $PYTHON or /usr/bin/python3. Install it (Debian: apt-get "
              "install python3-numpy python3-matplotlib; a venv: pip install numpy matplotlib) "
              "or name an interpreter that has it in WIDEMAX_PYTHON", file=sys.stderr)
        return 2
    status = mod.main(args)
    # Every report counts what is missing: the runs of the sweep's run lists that did not finish.
    root = getattr(args, "sweep_dir", None) or getattr(args, "dir", None) or \
        getattr(args, "sweep", None)
    if root and os.path.isdir(root):
        finished = [os.path.basename(d) for d, _, files in os.walk(root) if "summary.json" in files]
        if runs.report_missing(prog, root, finished) and not args.allow_missing:
            print(f"{prog}: exit status 1 for the missing runs (--allow-missing: 0)",
                  file=sys.stderr)
            return status or 1
    return status


def report(argv):
    return run("report", "width", report_parser().parse_args(argv))


def polarize_report(argv):
    return run("polarize_report", "polarize", polarize_parser().parse_args(argv))


def plot_diffusion(argv):
    p = diffusion_parser()
    a = p.parse_args(argv)
    if (a.run_dir is None) == (a.sweep is None):
        p.error("give either RUN_DIR or --sweep SWEEP_DIR")
    return run("plot_diffusion", "diffusion", a)
