"""The one run loader of the report package: finds run directories and reads their files.

A run directory is what `widemax train | diffusion | polarize --out DIR` writes: config.json (the
settings), metrics.jsonl (one JSON object per logged step) and, once the run has finished,
summary.json. find_runs() walks a tree in sorted order and returns the finished runs and the
directories it skipped, each with its reason, so every report agrees on what a run is and says
the same about the ones it leaves out. `python3 -m widemax_report.runs RUN_DIR...` prints one line
per finished run (train, ntk, diffusion, polarize); the experiment runners print it after each
run.

What it deliberately does not do: interpret the numbers (the report modules do), write anything,
or import numpy (the runners call it with whatever python3 they find).
"""
import argparse
import gzip
import json
import os
import sys
from functools import cached_property


class Skip(Exception):
    """Raised by a find_runs() loader to leave a run out, with the reason as its message."""


class Run:
    """One finished run directory: its path, name, config.json, summary.json and metrics.jsonl."""

    def __init__(self, path, config, summary):
        self.dir = path
        self.name = os.path.basename(os.path.normpath(path))
        self.config = config
        self.summary = summary

    @cached_property
    def metrics(self):
        """The records of metrics.jsonl (or metrics.jsonl.gz) in order; [] without either. Read on first use, since
        some reports never need the curves. A malformed line raises ValueError."""
        path = os.path.join(self.dir, "metrics.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                return [json.loads(line) for line in f if line.strip()]
        # experiments/results/*/runs keep it compressed (experiments/reproduce).
        if os.path.exists(path + ".gz"):
            with gzip.open(path + ".gz", "rt") as f:
                return [json.loads(line) for line in f if line.strip()]
        return []


def load_json(path):
    with open(path) as f:
        return json.load(f)


def load_run(d):
    """The Run of directory d; OSError or ValueError if config.json or summary.json is missing or
    not JSON."""
    return Run(d, load_json(os.path.join(d, "config.json")), load_json(os.path.join(d, "summary.json")))


NO_SUMMARY = "no summary.json (failed or unfinished run)"


def find_runs(root, exclude=None, load=None):
    """Every finished run below root (root included), in sorted walk order.

    exclude: a directory not to descend into (the report's own output directory).
    load(run): turns a Run into what the caller keeps; it may raise Skip(reason). Unreadable
    files (and a loader's KeyError or TypeError on a summary without an expected key) skip the
    run too, so that one damaged directory does not stop a report of a hundred runs.
    Returns (runs, skipped) with skipped a list of (directory, reason)."""
    runs, skipped = [], []
    for d, subdirs, files in os.walk(root):
        subdirs.sort()
        if exclude and os.path.abspath(d) == os.path.abspath(exclude):
            subdirs[:] = []
            continue
        has_cfg, has_summ = "config.json" in files, "summary.json" in files
        if not (has_cfg or has_summ):
            continue
        if not (has_cfg and has_summ):
            skipped.append((d, NO_SUMMARY if has_cfg else "summary.json without config.json"))
            continue
        try:
            run = load_run(d)
            runs.append(load(run) if load else run)
        except Skip as e:
            skipped.append((d, str(e)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            skipped.append((d, f"unreadable: {e}"))
    return runs, skipped


def run_lists(root):
    """The run names of every run list in root (runs.txt, runs-*.txt: one line "NAME COMMAND ARGS"
    per run, written by the local runner and by jobs/submit, one file per invocation), in order of
    first appearance."""
    names = []
    try:
        files = sorted(f for f in os.listdir(root) if f == "runs.txt" or
                       (f.startswith("runs-") and f.endswith(".txt")))
    except OSError:
        return names
    seen = set()
    for f in files:
        with open(os.path.join(root, f)) as fh:
            for line in fh:
                w = line.split()
                if w and not w[0].startswith("#") and w[0] not in seen:
                    seen.add(w[0])
                    names.append(w[0])
    return names


def first_error(root, name):
    """Why run `name` of the sweep in root did not finish: its exit code and the first error line
    of its log (the local runner's logs/NAME.log and logs/NAME.exit, or the Slurm output of the task
    that ran it, slurm-*.out naming it), as far as they are there."""
    why = []
    d = os.path.join(root, name)
    why.append("no run directory" if not os.path.isdir(d) else NO_SUMMARY)
    logs = [os.path.join(root, "logs", name + ".log")]
    try:
        logs += sorted(os.path.join(root, f) for f in os.listdir(root)
                       if f.startswith("slurm-") and f.endswith(".out"))
    except OSError:
        pass
    ex = os.path.join(root, "logs", name + ".exit")
    if os.path.exists(ex):
        with open(ex) as f:
            why.append(f"exit {f.read().strip()}")
    for log in logs:
        if not os.path.exists(log):
            continue
        with open(log, errors="replace") as f:
            text = f.read()
        if log.endswith(".out") and f": {name} on " not in text and f"/{name}\n" not in text:
            continue
        for line in text.splitlines():
            low = line.lower()
            if "error" in low or "exit code" in low or "killed" in low:
                why.append(f"{os.path.basename(log)}: {line.strip()[:200]}")
                break
        break
    return "; ".join(why)


def report_missing(prog, root, finished_names):
    """Prints the runs of root's run lists that have not finished, each with first_error(); returns
    their number (0 when root has no run list)."""
    listed = run_lists(root)
    done = set(finished_names)
    missing = [n for n in listed if n not in done]
    if missing:
        print(f"{prog}: {len(missing)} of the {len(listed)} runs of the run list in {root} are "
              "missing or failed (the report leaves them out):", file=sys.stderr)
        for n in missing:
            print(f"  {n}: {first_error(root, n)}", file=sys.stderr)
    return len(missing)


def report_skipped(prog, skipped):
    for d, why in skipped:
        print(f"{prog}: skipped {d}: {why}", file=sys.stderr)


def summary_line(s):
    """One line on a finished run, from its summary.json, for the experiment runners."""
    if "max_prob" in s:  # widemax polarize
        return (f"entropy {s['initial_entropy']:.4f} -> {s['entropy']:.4g} "
                f"(log T {s['max_entropy']:.3f}), max_prob {s['max_prob']:.4f}, "
                f"loss {s['final_loss']:.3g}")
    if "score_rel_error" in s:  # widemax diffusion
        return (f"score error {s['score_rel_error']:.4f}  SW {s['sliced_wasserstein']:.3f} "
                f"(exact {s['sliced_wasserstein_exact']:.3f})  weight error "
                f"{s['mode_weight_error']:.3f}  modes {s['modes_covered']}/{s['modes']}  "
                f"{s['train_s']:.0f}+{s['sample_s']:.0f} s")
    if "initial_loss" not in s and "lambda_min" in s:  # widemax ntk
        line = f"lambda_min {s['lambda_min']:.4g}  lambda_max {s['lambda_max']:.4g}"
        if s.get("ntk_perturb_diff_rel") is not None:
            line += (f"  R {s['perturb_radius']:g}: ||H(W0+D) - H(W0)||/||H(W0)|| "
                     f"{s['ntk_perturb_diff_rel']:.3e}")
        return line
    line = f"loss {s['initial_loss']:.3e} -> {s['final_loss']:.3e}"  # widemax train
    if s.get("ntk_drift") is not None:
        line += f"  ntk_drift {s['ntk_drift']:.3e}"
    if s.get("entropy") is not None:
        line += f"  entropy {s['entropy']:.4f}"
    return line


def main(argv):
    p = argparse.ArgumentParser(
        prog="python3 -m widemax_report.runs",
        description="Print one line per finished widemax run directory (train: initial and "
                    "final loss, NTK drift, hidden-softmax entropy; diffusion: score error, "
                    "sliced Wasserstein, weight error, modes; polarize: entropy, max_prob, "
                    "loss). Exits with status 1 if a directory has no readable summary.json.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a run directory")
    rc = 0
    for d in p.parse_args(argv).run_dirs:
        try:
            print(summary_line(load_json(os.path.join(d, "summary.json"))))
        except (OSError, ValueError, KeyError) as e:
            print(f"{d}: no readable summary.json ({e})", file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
