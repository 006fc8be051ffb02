#!/usr/bin/env python3
"""The scaling report (scripts/report on strong/weak scaling sweeps) on synthetic run directories
written here with known step and communication times, so every aggregated number has an
independent oracle computed below with numpy from the numbers this test chose:

  1. strong scaling, 3 repeats per rank count (strong_p<P>_r<k>), P = 1, 2, 4: per point the
     median, min and max of the repeats' median step times; per run comm = comm_s / train_s x
     step and compute = step - comm, then their medians over the repeats; speedup T_1 / T_P and
     efficiency T_1 / (P T_P) from the medians; exit status 0, no WARNING, every plot as PNG and
     PDF, the problem size (n, d, width, precision, threads) in scaling.md. One directory's name
     lies about its rank count (strong_p2_r2 holds a 4-rank run): the report must group by
     summary.json, so P = 4 has 4 repeats and P = 2 has 2.
  2. weak scaling with the widths of the bash-XOR bug (WIDTH_PER_RANK=2^16 gave 18, 34, 50 for
     P = 1, 2, 3): exit status 3, a WARNING line on stdout and on stderr naming the 2- and 3-rank
     runs, the check column of scaling.csv flags P = 2 and 3 and not P = 1, and scaling.md says so.
  3. weak scaling done right (width 1024 P, K = 1, directories named weak_p<P>): exit status 0,
     no flag; scaled speedup P T_1 / T_P and efficiency T_1 / T_P against numpy.
  4. the same runs under directory names that say nothing (run_a, run_b, ...): recognised as a
     weak-scaling sweep from summary.json alone, with the same numbers.
  5. style.median_ci, the one median + bootstrap helper of every figure: the median is numpy's,
     the interval holds the median and lies within [min, max], a constant sample gives a zero-width
     interval, and two calls agree (fixed seed).
Usage: check_report_scaling.py REPORT_SCRIPT
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

report = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(report))
from widemax_report import style  # noqa: E402 (the package sits beside the report script)

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr)


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def write_run(d, ranks, width, step, comm_share, steps=20, n=512, dim=64, threads=1):
    """A finished `widemax train` run directory with the given median step time (s) and
    communication share; train_s is not steps x step (the mean includes slower logged steps),
    so a report that mixed means and medians would not find the oracle's numbers."""
    os.makedirs(d)
    train_s = steps * step * 1.37
    cfg = {"command": "train", "activation": "softmax", "scale": "m", "width": width, "n": n,
           "d": dim, "d_out": 1, "precision": "fp64", "steps": steps, "threads": threads,
           "seed": 0, "lr": 1e-9}
    summ = {"width": width, "ranks": ranks, "hosts": [f"node{i % 2}" for i in range(ranks)],
            "grid": f"1x{ranks}", "threads": threads, "n": n, "d": dim, "d_out": 1,
            "precision": "fp64", "steps": steps, "initial_loss": 10.0, "final_loss": 9.0,
            "lr": 1e-9, "step_time_median_s": step, "train_s": train_s,
            "comm_s": comm_share * train_s, "compute_s": (1 - comm_share) * train_s,
            "comm_fraction": comm_share}
    for name, obj in (("config.json", cfg), ("summary.json", summ)):
        with open(os.path.join(d, name), "w") as f:
            json.dump(obj, f)


def run_report(sweep):
    p = subprocess.run([sys.executable, report, sweep], capture_output=True, text=True,
                       timeout=300)
    rows = []
    path = os.path.join(sweep, "report", "scaling.csv")
    if os.path.exists(path):
        rows = list(csv.DictReader(open(path)))
    md_path = os.path.join(sweep, "report", "scaling.md")
    md = open(md_path).read() if os.path.exists(md_path) else ""
    return p, {(int(r["ranks"]), int(r["width"])): r for r in rows}, md


def oracle(runs):
    """runs: [(step, share)] of one point -> the numbers the report must write."""
    step = np.array([s for s, _ in runs])
    comm = np.array([s * c for s, c in runs])
    return {"step_s": np.median(step), "step_min_s": step.min(), "step_max_s": step.max(),
            "comm_per_step_s": np.median(comm), "compute_per_step_s": np.median(step - comm),
            "repeats": len(runs)}


tmp = tempfile.mkdtemp()
rng = np.random.default_rng(7)

# 1. Strong scaling with repeats.
sweep = os.path.join(tmp, "strong")
truth = {1: [], 2: [], 4: []}
for p, base in ((1, 0.400), (2, 0.230), (4, 0.140)):
    for k in range(3):
        step = base * (1 + 0.2 * rng.random())
        share = 0.05 * p * (1 + 0.5 * rng.random())
        true_p = 4 if (p, k) == (2, 2) else p  # a directory name that lies
        write_run(os.path.join(sweep, f"strong_p{p}_r{k}"), true_p, 4096, step, share)
        truth[true_p].append((step, share))
proc, rows, md = run_report(sweep)
check(proc.returncode == 0, f"strong: exit status {proc.returncode}, stderr {proc.stderr}")
check("WARNING" not in proc.stdout + proc.stderr, "strong: a WARNING on a clean sweep")
check(sorted(rows) == [(1, 4096), (2, 4096), (4, 4096)], f"strong: points {sorted(rows)}")
t1 = oracle(truth[1])["step_s"]
for p, runs in truth.items():
    want, got = oracle(runs), rows.get((p, 4096))
    if got is None:
        continue
    for k, v in want.items():
        check(close(float(got[k]), float(v)), f"strong P={p} {k}: csv {got[k]}, oracle {v}")
    check(close(float(got["speedup"]), t1 / want["step_s"]), f"strong P={p} speedup {got['speedup']}")
    check(close(float(got["efficiency"]), t1 / (p * want["step_s"])),
          f"strong P={p} efficiency {got['efficiency']}")
    check(close(float(got["speedup_min"]), t1 / want["step_max_s"]), f"strong P={p} speedup_min")
    check(got["check"] == "ok", f"strong P={p} flagged: {got['check']}")
check(int(rows[(4, 4096)]["repeats"]) == 4 and int(rows[(2, 4096)]["repeats"]) == 2,
      "strong: the runs are not grouped by the ranks of summary.json")
for name in ("speedup", "scaling_efficiency", "comm_compute"):
    for ext in ("png", "pdf"):
        f = os.path.join(sweep, "report", f"{name}.{ext}")
        check(os.path.isfile(f) and os.path.getsize(f) > 2000, f"strong: {name}.{ext} missing")
for words in ("n = 512", "d = 64", "width 4096", "fp64", "1 thread per rank", "min–max"):
    check(words in md, f"strong: scaling.md does not say '{words}'")

# 2. Weak scaling with the XOR widths: flagged.
sweep = os.path.join(tmp, "weak_bad")
for p, w in ((1, 18), (2, 34), (3, 50)):
    write_run(os.path.join(sweep, f"weak_p{p}"), p, w, 0.01 * p, 0.1)
proc, rows, md = run_report(sweep)
check(proc.returncode == 3, f"weak XOR widths: exit status {proc.returncode}, expected 3")
for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
    warn = [line for line in text.splitlines() if "WARNING" in line]
    check(any("weak_p2" in line for line in warn) and any("weak_p3" in line for line in warn)
          and not any("weak_p1" in line for line in warn),
          f"weak XOR widths: the WARNING lines on {stream} do not name exactly p2 and p3: {warn}")
flagged = {p for (p, _), r in rows.items() if r["check"] != "ok"}
check(flagged == {2, 3}, f"weak XOR widths: flagged ranks {flagged}, expected {{2, 3}}")
check("WARNING" in md and "width per rank" in md, "weak XOR widths: scaling.md has no warning")
check(os.path.isfile(os.path.join(sweep, "report", "speedup.png")),
      "weak XOR widths: the plots were not written")

# 3. and 4. Weak scaling done right, with telling and with uninformative directory names.
for label, names in (("weak", "weak_p{p}"), ("anonymous", "run_{c}")):
    sweep = os.path.join(tmp, label)
    steps = {}
    for i, p in enumerate((1, 2, 4, 8)):
        steps[p] = 0.05 * (1 + 0.04 * np.log2(p)) * (1 + 0.1 * rng.random())
        write_run(os.path.join(sweep, names.format(p=p, c="abcd"[i])), p, 1024 * p, steps[p], 0.2)
    proc, rows, md = run_report(sweep)
    check(proc.returncode == 0, f"{label}: exit status {proc.returncode}: {proc.stderr}")
    check("Weak scaling" in md and "width per rank 1024" in md,
          f"{label}: not reported as weak scaling of width per rank 1024")
    for p, t in steps.items():
        got = rows.get((p, 1024 * p))
        check(got is not None and close(float(got["speedup"]), p * steps[1] / t)
              and close(float(got["efficiency"]), steps[1] / t) and got["check"] == "ok",
              f"{label} P={p}: {got}")

# 5. The median + bootstrap helper.
v = list(rng.normal(size=7))
m, lo, hi = style.median_ci(v)
check(close(m, float(np.median(v))), f"median_ci median {m} vs numpy {np.median(v)}")
check(min(v) <= lo <= m <= hi <= max(v), f"median_ci interval {lo}, {hi} around {m}")
check(style.median_ci(v) == (m, lo, hi), "median_ci is not deterministic")
check(style.median_ci([2.0] * 5) == (2.0, 2.0, 2.0), "median_ci of a constant sample")
mg = style.median_ci([1.0, 100.0], log=True)[0]
check(close(mg, 10.0), f"median_ci(log=True) of 1 and 100 is {mg}, not their geometric mean 10")

if failures:
    sys.exit(f"FAIL: {len(failures)} check(s) failed (directories kept in {tmp})")
import shutil  # noqa: E402
shutil.rmtree(tmp)
print("ok: scaling report: strong repeats aggregated by summary.json (medians, min-max, speedup, "
      "efficiency match numpy), XOR weak widths flagged with exit 3, weak and unnamed sweeps, "
      "median_ci")
