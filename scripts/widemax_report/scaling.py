"""The scaling report of `widemax train` runs over rank counts (jobs/submit strong-scaling |
weak-scaling): step time, speedup and efficiency per point, and compute against communication
time, as a table and three plots.

A point is a (ranks, width) pair read from each run's summary.json, not from its directory name,
so repeated runs of one point (<kind>_p<P>_r<k>, jobs/submit REPEATS=K) are aggregated. The one
statistic is the median, in every column:
  - per run: step = its median step time (summary step_time_median_s); comm = its communication
    share of the training time (comm_s / train_s; widemax records totals, not per-step
    communication times) times that step; compute = step - comm;
  - per point: the median over the repeats of each of the three, and the spread of the step time
    as min-max over the repeats (with K = 3 a bootstrap interval of the median would be the same
    range, so min-max is what is shown);
  - speedup and efficiency from the medians, their bars from the min and max of T_P.
With K > 1 the medians of compute and comm need not add up exactly to the median step; the
comm_compute plot draws the step median and its min-max over the stacked bars so that any such
gap is visible.

Checks: weak scaling must keep the width per rank constant, strong scaling the width; a point
that does not (the width per rank of the most points, ties: the smallest rank count's) is marked
in the table (column check) and on stdout and stderr with a WARNING line, the tables and plots
are still written, and main() returns 3. Points that differ in n, d, d_out, precision, threads or
steps get a WARNING line too (exit status unchanged).

scripts/report hands a tree of runs here when kind() recognises it. What it deliberately does
not do: check that the points ran alone on their nodes (jobs/scaling.sbatch asks for
--exclusive), or drop slow repeats.
"""
import os
import re
import sys
from fractions import Fraction

import numpy as np

from . import style
from .tables import write_csv

SCALING_NAME = re.compile(r"^(strong|weak)_p(\d+)(?:_r(\d+))?$")
SIZE_KEYS = ("n", "d", "d_out", "precision", "threads", "steps")
STATUS_NOT_CONSTANT = 3


def kind(runs):
    """'strong' or 'weak' when the runs (width.load dicts) form a scaling sweep over ranks: every
    directory is named strong_p<P>[_r<k>] or weak_p<P>[_r<k>], or the runs share one model, cover
    two or more rank counts, one width per rank count, and keep the width (strong) or the width
    per rank (weak) fixed. Else None."""
    names = [SCALING_NAME.match(os.path.basename(os.path.normpath(r["dir"]))) for r in runs]
    if all(names) and len({m.group(1) for m in names}) == 1:
        return names[0].group(1)
    if len({r["model"] for r in runs}) != 1:
        return None
    by_p = {}
    for r in runs:
        by_p.setdefault(int(r["run"].summary.get("ranks", 1)), set()).add(r["width"])
    if len(by_p) < 2 or any(len(ws) != 1 for ws in by_p.values()):
        return None
    widths = {p: next(iter(ws)) for p, ws in by_p.items()}
    if len(set(widths.values())) == 1:
        return "strong"
    if len({Fraction(w, p) for p, w in widths.items()}) == 1:
        return "weak"
    return None


def run_times(summary):
    """(step, comm, compute) of one run in seconds: its median step, the communication share of
    its training time applied to that step, and the rest."""
    step = float(summary["step_time_median_s"])
    train_s = float(summary.get("train_s") or 0)
    share = float(summary["comm_s"]) / train_s if train_s > 0 and "comm_s" in summary \
        else float(summary.get("comm_fraction", 0))
    comm = share * step
    return step, comm, step - comm


def points(runs):
    """One row per (ranks, width), sorted by ranks then width, with the repeats' medians."""
    groups = {}
    for r in runs:
        s = r["run"].summary
        groups.setdefault((int(s.get("ranks", 1)), int(s["width"])), []).append(r)
    rows = []
    for (p, w), rs in sorted(groups.items()):
        times = np.array([run_times(r["run"].summary) for r in rs])
        ss = [r["run"].summary for r in rs]
        rows.append({
            "ranks": p, "width": w, "width_per_rank": w / p, "repeats": len(rs),
            "nodes": int(np.median([len(set(s.get("hosts", []))) or 1 for s in ss])),
            "grid": "/".join(sorted({str(s.get("grid", "")) for s in ss})),
            "step_s": float(np.median(times[:, 0])), "step_min_s": float(times[:, 0].min()),
            "step_max_s": float(times[:, 0].max()),
            "comm_per_step_s": float(np.median(times[:, 1])),
            "compute_per_step_s": float(np.median(times[:, 2])),
            "comm_fraction": float(np.median(times[:, 1] / times[:, 0])),
            "size": {k: sorted({str(s.get(k, r["cfg"].get(k))) for s, r in zip(ss, rs)})
                     for k in SIZE_KEYS},
            "dirs": [r["dir"] for r in rs], "check": "ok"})
    return rows


def check_constant(rows, kind):
    """Marks the points whose width (strong) or width per rank (weak) is not the sweep's: the
    value of the most points, ties broken by the smallest rank count. Returns (reference, the
    flagged rows)."""
    def value(x):
        return Fraction(x["width"]) if kind == "strong" else Fraction(x["width"], x["ranks"])
    counts = {}
    for x in rows:
        counts[value(x)] = counts.get(value(x), 0) + 1
    ref = max(counts, key=lambda v: (counts[v], -min(x["ranks"] for x in rows if value(x) == v)))
    bad = [x for x in rows if value(x) != ref]
    what = "width" if kind == "strong" else "width per rank"
    for x in bad:
        x["check"] = f"{what} {float(value(x)):g} != {float(ref):g}"
    return ref, bad


def size_mismatches(rows):
    """{key: values} of the SIZE_KEYS whose values differ between (or within) the points."""
    out = {}
    for k in SIZE_KEYS:
        vals = sorted({v for x in rows for v in x["size"][k]})
        if len(vals) > 1:
            out[k] = vals
    return out


def pow2(w):
    w = float(w)
    return f"{w:g} (2^{int(np.log2(w))})" if w >= 1 and w == int(w) and int(w) & (int(w) - 1) == 0 \
        else f"{w:g}"


def size_title(rows, kind, ref):
    one = {k: v[0] for k, v in ((k, sorted({s for x in rows for s in x["size"][k]}))
                                 for k in SIZE_KEYS) if len(v) == 1}
    parts = [f"n = {one.get('n', '?')}", f"d = {one.get('d', '?')}"]
    if one.get("d_out", "1") != "1":
        parts.append(f"d_out = {one['d_out']}")
    parts.append(("width " if kind == "strong" else "width per rank ") + pow2(ref))
    parts.append(one.get("precision", "precision varies"))
    th = one.get("threads")
    parts.append(f"{th} thread{'s' if th != '1' else ''} per rank" if th else "threads vary")
    return ", ".join(parts)


def report(out, runs, kind, sweep, no_plots):
    rows = points(runs)
    ref, bad = check_constant(rows, kind)
    mism = size_mismatches(rows)
    good = [x for x in rows if x["check"] == "ok"] or rows
    base = good[0]
    t1 = base["step_s"] * (base["ranks"] if kind == "strong" else 1)  # as if on one rank

    def speed(x, t):
        return t1 / t if kind == "strong" else x["ranks"] * t1 / t
    for x in rows:
        p = x["ranks"]
        x["speedup"] = speed(x, x["step_s"])
        x["speedup_min"], x["speedup_max"] = speed(x, x["step_max_s"]), speed(x, x["step_min_s"])
        x["efficiency"] = x["speedup"] / p
        x["efficiency_min"], x["efficiency_max"] = x["speedup_min"] / p, x["speedup_max"] / p
    cols = ["ranks", "nodes", "grid", "width", "width_per_rank", "repeats", "step_s",
            "step_min_s", "step_max_s", "speedup", "speedup_min", "speedup_max", "efficiency",
            "efficiency_min", "efficiency_max", "compute_per_step_s", "comm_per_step_s",
            "comm_fraction", "check"]
    write_csv(os.path.join(out, "scaling.csv"), cols, rows)
    title = size_title(rows, kind, ref)
    eff_name = "T_1 / (P T_P)" if kind == "strong" else "T_1 / T_P"
    what = "width" if kind == "strong" else "width per rank"
    rule = ("the width per rank must stay constant in a weak-scaling sweep" if kind == "weak"
            else "the width must stay fixed in a strong-scaling sweep")
    warnings = [f"{kind} scaling: {x['ranks']} rank(s) ran width {x['width']}, a {what} of "
                f"{float(x['width'] if kind == 'strong' else x['width_per_rank']):g}, not "
                f"{float(ref):g} ({rule}): " + ", ".join(x["dirs"]) for x in bad]
    warnings += [f"{kind} scaling: the points differ in {k} ({', '.join(v)}), so their times are "
                 "not of one problem" for k, v in mism.items()]
    with open(os.path.join(out, "scaling.md"), "w") as f:
        f.write(f"# {kind.capitalize()} scaling: {sweep}\n\n")
        f.write(f"Problem: {title}; {len(runs)} runs in {len(rows)} points (ranks, width).\n\n")
        f.write(f"Every time is a median: per run its median step time, split into communication "
                f"(the run's communication share of its training time) and compute (the rest); "
                f"per point the median over its repeats, with the min–max of the step time over "
                f"the repeats. Efficiency is {eff_name}; speedup is "
                + ("T_1 / T_P" if kind == "strong" else "the scaled speedup P T_1 / T_P")
                + f", both from the medians. Baseline T_1: {base['ranks']} rank(s)"
                + (" (scaled to one rank)" if kind == "strong" and base["ranks"] != 1 else "")
                + ".\n\n")
        for w in warnings:
            f.write(f"**WARNING**: {w}.\n\n")
        f.write("| ranks | nodes | grid | width | width/rank | repeats | step (ms) | min–max (ms) "
                "| speedup | efficiency | compute/step (ms) | comm/step (ms) | comm share "
                "| check |\n|" + "---|" * 14 + "\n")
        for x in rows:
            f.write(f"| {x['ranks']} | {x['nodes']} | {x['grid']} | {x['width']} | "
                    f"{x['width_per_rank']:g} | {x['repeats']} | {x['step_s'] * 1e3:.3f} | "
                    f"{x['step_min_s'] * 1e3:.3f}–{x['step_max_s'] * 1e3:.3f} | "
                    f"{x['speedup']:.2f} | {100 * x['efficiency']:.1f}% | "
                    f"{x['compute_per_step_s'] * 1e3:.3f} | {x['comm_per_step_s'] * 1e3:.3f} | "
                    f"{100 * x['comm_fraction']:.1f}% | "
                    f"{'ok' if x['check'] == 'ok' else '**' + x['check'] + '**'} |\n")
    plots = []
    if not no_plots:
        try:
            plots = plot(out, rows, kind, eff_name, title)
        except ImportError:
            print("report: matplotlib is missing (apt-get install -y python3-matplotlib); "
                  "tables written without plots", file=sys.stderr)
    print(f"report: {kind} scaling over ranks {sorted({x['ranks'] for x in rows})} below {sweep}")
    with open(os.path.join(out, "scaling.md")) as f:
        print(f.read())
    print("report: wrote scaling.csv, scaling.md" + (", " + ", ".join(plots) if plots else "")
          + f" -> {out}")
    for w in warnings:
        print(f"WARNING: {w}")
        print(f"report: WARNING: {w}", file=sys.stderr)
    return STATUS_NOT_CONSTANT if bad else 0


def plot(out, rows, kind, eff_name, title):
    plt = style.pyplot()
    import matplotlib.ticker as mt
    p = [x["ranks"] for x in rows]
    ok = [x for x in rows if x["check"] == "ok"]
    bad = [x for x in rows if x["check"] != "ok"]
    meas, flag = style.series_style(0), style.series_style(3)
    reps = max(x["repeats"] for x in rows)
    spread = f"median of {reps} repeats, bars: min–max" if reps > 1 else "one run per point"
    written = []

    def errbars(ax, xs, key, scale=1.0, st=meas, label=None):
        if not xs:
            return
        y = np.array([x[key] for x in xs]) * scale
        lo = y - np.array([x[key + "_min"] for x in xs]) * scale
        hi = np.array([x[key + "_max"] for x in xs]) * scale - y
        ax.errorbar([x["ranks"] for x in xs], y, yerr=[lo, hi], capsize=3, label=label, **st)

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    errbars(ax, ok, "speedup", label=f"measured ({spread})")
    errbars(ax, bad, "speedup", st=dict(flag, linestyle="none"),
            label="width per rank not constant" if kind == "weak" else "width not fixed")
    ax.plot(sorted(set(p)), sorted(set(p)), color="black", ls=":", lw=1.2, label="ideal: P")
    style.rank_axis(ax, p)
    ys = [v for x in rows for v in (x["speedup_min"], x["speedup_max"])] + p
    k0, k1 = int(np.floor(np.log2(min(ys)))), int(np.ceil(np.log2(max(ys))))
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_locator(mt.FixedLocator([2.0 ** k for k in range(k0, k1 + 1)]))
    ax.yaxis.set_major_formatter(mt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(mt.NullLocator())
    ax.set_ylabel(style.LABELS["speedup" if kind == "strong" else "scaled_speedup"])
    ax.set_title(f"{kind.capitalize()} scaling: speedup\n{title}")
    ax.legend()
    written.append(style.save(fig, os.path.join(out, "speedup.png")))

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    errbars(ax, ok, "efficiency", scale=100, label=f"{eff_name} ({spread})")
    errbars(ax, bad, "efficiency", scale=100, st=dict(flag, linestyle="none"),
            label="width per rank not constant" if kind == "weak" else "width not fixed")
    ax.axhline(100, color="black", ls=":", lw=1.2, label="ideal: 100%")
    top = max(100 * x["efficiency_max"] for x in rows)
    ax.set_ylim(0, max(110, top * 1.1))
    style.rank_axis(ax, p)
    ax.set_ylabel(style.LABELS["efficiency"])
    ax.set_title(f"{kind.capitalize()} scaling efficiency\n{title}")
    ax.legend(loc="lower left")
    written.append(style.save(fig, os.path.join(out, "scaling_efficiency.png")))

    fig, ax = plt.subplots(figsize=(max(5.5, 0.6 * len(rows) + 3), 4.2))
    labels = [f"{x['ranks']}" + (f"\nw {x['width']}" if len({y['width'] for y in rows}) > 1
                                 and kind == "weak" else "") for x in rows]
    xs = np.arange(len(rows))
    comp = np.array([x["compute_per_step_s"] for x in rows]) * 1e3
    comm = np.array([x["comm_per_step_s"] for x in rows]) * 1e3
    ax.bar(xs, comp, color=style.OKABE_ITO[0], label="compute (median)", width=0.6)
    ax.bar(xs, comm, bottom=comp, color=style.OKABE_ITO[1], hatch="//", edgecolor="white",
           label="communication (median)", width=0.6)
    step = np.array([x["step_s"] for x in rows]) * 1e3
    ax.errorbar(xs, step, yerr=[step - np.array([x["step_min_s"] for x in rows]) * 1e3,
                                np.array([x["step_max_s"] for x in rows]) * 1e3 - step],
                color="black", marker="_", ms=14, ls="none", capsize=3,
                label="step (median" + (", min–max)" if reps > 1 else ")"))
    for i, x in enumerate(rows):
        if x["check"] != "ok":
            ax.annotate("!", (xs[i], step[i]), textcoords="offset points", xytext=(0, 8),
                        ha="center", color=style.OKABE_ITO[3], fontsize=12, fontweight="bold")
    ax.set_xticks(xs, labels)
    ax.set_xlabel(style.LABELS["ranks"])
    ax.set_ylabel("time per step (ms)")
    ax.grid(False, axis="x")
    ax.set_title(f"{kind.capitalize()} scaling: compute and communication per step\n{title}")
    ax.legend()
    written.append(style.save(fig, os.path.join(out, "comm_compute.png")))
    return written
