"""The scaling report of `widemax train` runs over rank counts (jobs/submit strong-scaling |
weak-scaling): step time, speedup and efficiency per rank count, and compute against
communication time, as a table and three plots.

scripts/report hands a tree of runs here when kind() recognises it. What it deliberately does not
do: check that the points ran alone on their nodes, or repeat them; every number is the run's own
median step time.
"""
import os
import re

from . import style
from .tables import write_csv

SCALING_NAME = re.compile(r"^(strong|weak)_p(\d+)$")


def kind(runs):
    """'strong' or 'weak' when the runs (width.load dicts) form a scaling sweep over ranks: every
    directory is named strong_p<P> or weak_p<P>, or the runs share one model, differ in their rank
    count and keep the width (strong) or the width per rank (weak) fixed. Else None."""
    names = [SCALING_NAME.match(os.path.basename(os.path.normpath(r["dir"]))) for r in runs]
    if all(names) and len({m.group(1) for m in names}) == 1:
        return names[0].group(1)
    ranks = [r["run"].summary.get("ranks", 1) for r in runs]
    if len(runs) < 2 or len(set(ranks)) != len(ranks) or len({r["model"] for r in runs}) != 1:
        return None
    widths = [r["width"] for r in runs]
    if len(set(widths)) == 1:
        return "strong"
    if len({w / p for w, p in zip(widths, ranks)}) == 1:
        return "weak"
    return None


def report(out, runs, kind, sweep, no_plots):
    rows = []
    for r in runs:
        s = r["run"].summary
        steps = max(int(s.get("steps", 1)), 1)
        rows.append({"ranks": int(s.get("ranks", 1)), "nodes": len(set(s.get("hosts", []))) or 1,
                     "grid": s.get("grid", ""), "width": int(s["width"]),
                     "step_s": float(s["step_time_median_s"]),
                     "compute_per_step_s": float(s.get("compute_s", 0)) / steps,
                     "comm_per_step_s": float(s.get("comm_s", 0)) / steps,
                     "comm_fraction": float(s.get("comm_fraction", 0)), "dir": r["dir"]})
    rows.sort(key=lambda x: x["ranks"])
    base = rows[0]
    t1 = base["step_s"] * (base["ranks"] if kind == "strong" else 1)  # as if on one rank
    for x in rows:
        p = x["ranks"]
        if kind == "strong":
            x["speedup"] = t1 / x["step_s"]
            x["efficiency"] = t1 / (p * x["step_s"])
        else:
            x["speedup"] = p * t1 / x["step_s"]
            x["efficiency"] = t1 / x["step_s"]
    cols = ["ranks", "nodes", "grid", "width", "step_s", "speedup", "efficiency",
            "compute_per_step_s", "comm_per_step_s", "comm_fraction"]
    write_csv(os.path.join(out, "scaling.csv"), cols, rows)
    eff_name = "T1 / (P TP)" if kind == "strong" else "T1 / TP"
    with open(os.path.join(out, "scaling.md"), "w") as f:
        f.write(f"# {kind.capitalize()} scaling: {sweep}\n\n")
        f.write(f"Efficiency is {eff_name}; speedup is "
                + ("T1 / TP" if kind == "strong" else "the scaled speedup P T1 / TP")
                + f"; step times are each run's median. Baseline: {base['ranks']} rank(s).\n\n")
        f.write("| ranks | nodes | grid | width | step (ms) | speedup | efficiency | compute/step (ms) "
                "| comm/step (ms) | comm share |\n|---|---|---|---|---|---|---|---|---|---|\n")
        for x in rows:
            f.write(f"| {x['ranks']} | {x['nodes']} | {x['grid']} | {x['width']} | "
                    f"{x['step_s'] * 1e3:.3f} | {x['speedup']:.2f} | {100 * x['efficiency']:.1f}% | "
                    f"{x['compute_per_step_s'] * 1e3:.3f} | {x['comm_per_step_s'] * 1e3:.3f} | "
                    f"{100 * x['comm_fraction']:.1f}% |\n")
    plots = [] if no_plots else plot(out, rows, kind, eff_name)
    print(f"report: {kind} scaling over ranks {[x['ranks'] for x in rows]} below {sweep}")
    with open(os.path.join(out, "scaling.md")) as f:
        print(f.read())
    print("report: wrote scaling.csv, scaling.md" + (", " + ", ".join(plots) if plots else "")
          + f" -> {out}")
    return 0


def plot(out, rows, kind, eff_name):
    plt = style.pyplot()
    p = [x["ranks"] for x in rows]
    written = []
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(p, [x["speedup"] for x in rows], "o-", label="measured")
    ax.plot(p, p, "k:", label="ideal")
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("speedup" if kind == "strong" else "scaled speedup")
    ax.set_title(f"{kind} scaling: speedup")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(style.save(fig, os.path.join(out, "speedup.png"), dpi=120))

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(p, [100 * x["efficiency"] for x in rows], "o-", label=eff_name)
    ax.axhline(100, color="k", ls=":", label="ideal")
    ax.set_ylim(0, max(110, max(100 * x["efficiency"] for x in rows) * 1.1))
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("efficiency (%)")
    ax.set_title(f"{kind} scaling efficiency")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(style.save(fig, os.path.join(out, "scaling_efficiency.png"), dpi=120))

    fig, ax = plt.subplots(figsize=(6, 4.5))
    labels = [str(q) for q in p]
    comp = [x["compute_per_step_s"] * 1e3 for x in rows]
    comm = [x["comm_per_step_s"] * 1e3 for x in rows]
    ax.bar(labels, comp, label="compute")
    ax.bar(labels, comm, bottom=comp, label="communication")
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("time per step (ms)")
    ax.set_title(f"{kind} scaling: compute vs communication")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    written.append(style.save(fig, os.path.join(out, "comm_compute.png"), dpi=120))
    return written
