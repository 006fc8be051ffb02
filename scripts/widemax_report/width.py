"""The width-sweep report of `widemax train` runs: per (model, width) tables over the seeds,
width-scaling slopes, decay rates against the linearised-NTK prediction, and four plots.

scripts/report calls main() (its --help, in cli.py, lists the files written); a tree of scaling
runs is handed to scaling.py instead. What it deliberately does not do: hide results that
disagree with theory (the slope for c_m = m is reported as measured), or fill missing keys
(exp and relu have no entropy; runs without --ntk-every no NTK figures): they are empty cells.
"""
import json
import math
import os
import sys

import numpy as np

from . import scaling, style
from .models import model_key, model_name, with_flags
from .runs import find_runs, report_skipped
from .tables import loglog_fit, mean_std, write_csv

# Settings that should be equal for all runs of one model, or the width comparison is not clean.
SAME_SETTINGS = ("data", "n", "d", "d_out", "data_seed", "labels", "steps", "optimizer", "lr_auto",
                 "init", "sigma", "precision", "train_a", "batch")
SLOPE_QUANTITIES = ("ntk_drift", "w_drift_max", "lambda_min_0")

# (csv column, markdown header, formatter kind) of results.csv / results.md
COLUMNS = [
    ("model", "model", "s"),
    ("width", "width", "d"),
    ("n_runs", "runs", "d"),
    ("final_loss_mean", "final loss", "g"),
    ("final_loss_std", "± std", "g"),
    ("initial_loss_mean", "initial loss", "g"),
    ("ntk_drift_mean", "NTK drift", "g"),
    ("ntk_drift_std", "± std", "g"),
    ("w_drift_max_mean", "max_r ‖w_r−w_r(0)‖", "g"),
    ("w_drift_max_std", "± std", "g"),
    ("lambda_min_0_mean", "λ_min(H_0)", "g"),
    ("lambda_min_0_std", "± std", "g"),
    ("lambda_max_0_mean", "λ_max(H_0)", "g"),
    ("lr_mean", "lr", "g"),
    ("entropy_mean", "entropy", "g"),
    ("step_time_s_median", "step time (s)", "g"),
    ("loss_rate_early_mean", "decay/step early", "g"),
    ("loss_rate_late_mean", "decay/step late", "g"),
    ("ntk_rate_mean", "NTK rate", "g"),
]


def number(x):
    """A finite float, or None (missing key, null, NaN, or not a number)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def loss_curve(run):
    """(steps, losses) of the finite losses in metrics.jsonl, or None (no file, no loss, or a
    malformed line: the run is still reported, without its curve)."""
    steps, losses = [], []
    try:
        records = run.metrics
    except (OSError, ValueError):
        return None
    for rec in records:
        loss = number(rec.get("loss"))
        if loss is not None and "step" in rec:
            steps.append(int(rec["step"]))
            losses.append(loss)
    return (np.array(steps), np.array(losses)) if steps else None


def decay_rates(steps, losses, floor_rel):
    """Per-step decay rate -d ln(loss)/d step, fitted over the first and the second half of the
    part of the curve above floor_rel * loss[0]. A straight line on a log scale (linear
    convergence) has equal early and late rates."""
    if len(losses) < 2 or losses[0] <= 0:
        return None, None
    below = np.nonzero(losses <= floor_rel * losses[0])[0]
    end = below[0] if len(below) else len(losses)
    s, l = steps[:end], losses[:end]
    if len(s) < 4:
        return None, None
    half = len(s) // 2

    def rate(a, b):
        return float(-np.polyfit(a, np.log(b), 1)[0])
    return rate(s[:half + 1], l[:half + 1]), rate(s[half:], l[half:])


def load(run, floor_rel):
    """The quantities of one run that the report uses (a find_runs loader)."""
    cfg, summ = run.config, run.summary
    ntk = summ.get("ntk") or {}
    r = {
        "dir": run.dir,
        "run": run,
        "cfg": cfg,
        "model": model_name(cfg),
        "width": int(summ.get("width", cfg.get("width"))),
        "seed": cfg.get("seed"),
        "final_loss": number(summ.get("final_loss")),
        "initial_loss": number(summ.get("initial_loss")),
        "ntk_drift": number(summ.get("ntk_drift")),
        "w_drift": number(summ.get("w_drift")),
        "w_drift_max": number(summ.get("w_drift_max")),
        "entropy": number(summ.get("entropy")),
        "lambda_min_0": number(ntk.get("lambda_min_0")),
        "lambda_max_0": number(ntk.get("lambda_max_0")),
        "lr": number(summ.get("lr", cfg.get("lr"))),
        "step_time_median_s": number(summ.get("step_time_median_s")),
        "curve": loss_curve(run),
    }
    r["loss_rate_early"] = r["loss_rate_late"] = r["ntk_rate"] = None
    if r["curve"] is not None:
        r["loss_rate_early"], r["loss_rate_late"] = decay_rates(*r["curve"], floor_rel)
    if r["lr"] is not None and r["lambda_min_0"] is not None:
        # Linearised gradient descent: each residual mode shrinks by |1 - lr lambda| per step, so
        # the loss (squared residual) of the slowest mode by (1 - lr lambda_min)^2.
        q = abs(1.0 - r["lr"] * r["lambda_min_0"])
        r["ntk_rate"] = -2.0 * math.log(q) if q > 0 else None
    return r


def aggregate(runs):
    groups = {}
    for r in runs:
        groups.setdefault((r["model"], r["width"]), []).append(r)
    rows = []
    for (model, width), rs in sorted(groups.items(), key=lambda kv: (model_key(kv[0][0]), kv[0][1])):
        row = {"model": model, "width": width, "n_runs": len(rs),
               "seeds": " ".join(str(r["seed"]) for r in sorted(rs, key=lambda r: str(r["seed"])))}
        for key in ("final_loss", "initial_loss", "ntk_drift", "w_drift", "w_drift_max",
                    "lambda_min_0", "lambda_max_0", "lr", "entropy", "step_time_median_s",
                    "loss_rate_early", "loss_rate_late", "ntk_rate"):
            row[key + "_mean"], row[key + "_std"] = mean_std(r[key] for r in rs)
        # Median over the seeds: one run slowed down by other work on the machine must not move it.
        times = [r["step_time_median_s"] for r in rs if r["step_time_median_s"] is not None]
        row["step_time_s_median"] = float(np.median(times)) if times else None
        row["runs"] = rs
        rows.append(row)
    return rows


def fit_slope(runs, quantity, min_width):
    """ln(quantity) against ln(width) over the runs with a positive value (each seed one point)."""
    return loglog_fit([(r["width"], r[quantity]) for r in runs
                       if r[quantity] is not None and r[quantity] > 0 and r["width"] >= min_width])


def setting_mismatches(runs):
    """Per model, the SAME_SETTINGS whose values differ between its runs."""
    out = {}
    for r in runs:
        for k in SAME_SETTINGS:
            out.setdefault(r["model"], {}).setdefault(k, set()).add(json.dumps(r["cfg"].get(k)))
    return {m: {k: v for k, v in ks.items() if len(v) > 1} for m, ks in out.items()
            if any(len(v) > 1 for v in ks.values())}


def cell(x, kind):
    if x is None:
        return ""
    return f"{x:.3g}" if kind == "g" else str(x)


def write_markdown(path, sweep_dir, runs, skipped, rows, slopes, mismatches, args):
    lines = [f"# Width sweep report: {sweep_dir}", ""]
    cfgs = [r["cfg"] for r in runs]
    desc = sorted({f"n={c.get('n')} d={c.get('d')} data-seed={c.get('data_seed')} "
                   f"labels={c.get('labels')} steps={c.get('steps')} init={c.get('init')} "
                   f"sigma={c.get('sigma')} lr={'auto' if c.get('lr_auto') else 'fixed'}"
                   for c in cfgs})
    lines.append(f"{len(runs)} runs, {len(rows)} (model, width) groups. Settings: "
                 + "; ".join(desc) + ".")
    if skipped:
        lines += ["", f"Skipped {len(skipped)} directories:", ""]
        lines += [f"- `{d}`: {why}" for d, why in skipped]
    for model, ks in mismatches.items():
        lines += ["", f"**Warning**: the runs of {model} differ in "
                  + ", ".join(f"{k} ({', '.join(sorted(v))})" for k, v in ks.items())
                  + ", so their widths are not compared on equal terms."]
    lines += ["", "## Results per (model, width)", "",
              "Means over the seeds (± sample standard deviation); step time: median over the "
              "seeds of each run's median step time. NTK drift = "
              "‖H_T − H_0‖_F / ‖H_0‖_F at the last step. Decay/step = −d ln(loss)/d step, fitted "
              f"over the first and second half of the curve above {args.loss_floor:g} × initial "
              "loss (equal values: a straight line on a log scale). NTK rate = "
              "−2 ln(1 − lr λ_min(H_0)), the late rate of gradient descent on the linearised "
              "model.", ""]
    lines.append("| " + " | ".join(h for _, h, _ in COLUMNS) + " |")
    lines.append("|" + "|".join("---" if k == "s" else "---:" for _, _, k in COLUMNS) + "|")
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(c), k) for c, _, k in COLUMNS) + " |")
    lines += ["", "## Width-scaling slopes", "",
              "Least-squares slope of ln(quantity) against ln(width), every run one point"
              + (f", widths ≥ {args.min_width}" if args.min_width else "") + ". "
              "NTK theory for the c_m = √m scaling predicts the relative kernel change to shrink "
              "like m^−1/2 (slope ≈ −0.5). The slopes of the other models are reported as "
              "measured.", "",
              "| model | quantity | slope | ± std err | points | widths |", "|---|---|---:|---:|---:|---|"]
    for s in slopes:
        lines.append(f"| {s['model']} | {s['quantity']} | {s['slope']:.3f} | "
                     f"{cell(s['slope_stderr'], 'g')} | {s['n_points']} | "
                     f"{s['width_min']}–{s['width_max']} ({s['n_widths']}) |")
    lines += ["", "## Plots", ""]
    for name in ("final_loss_vs_width", "ntk_drift_vs_width", "loss_curves", "lambda_min_vs_width"):
        if os.path.exists(os.path.join(os.path.dirname(path), name + ".png")):
            lines.append(f"![{name}]({name}.png)")
            lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------------------------
# Plots (style.py: the median over the seeds with its bootstrap interval, every seed a dot)

def by_width(runs, value):
    """{width: [value of each run]} over the runs whose value is positive (log axes)."""
    out = {}
    for r in runs:
        v = value(r)
        if v is not None and v > 0:
            out.setdefault(r["width"], []).append(v)
    return out


def plot_vs_width(ax, runs_by_model, styles, value, fits=None, slope_label=None):
    """One band per model (median over seeds, bootstrap interval, seeds as dots) on log2 width
    and log y axes, with the model's fitted line dashed. Returns (medians, samples) for
    style.robust_ylim."""
    medians, samples = [], []
    for model, rs in runs_by_model.items():
        g = by_width(rs, value)
        if not g:
            continue
        st = styles[model]
        label = model
        fit = (fits or {}).get(model)
        if fit:
            err = f" ± {fit['slope_stderr']:.2f}" if fit["slope_stderr"] is not None else ""
            label += f": {slope_label or 'slope'} {fit['slope']:.2f}{err}"
            xs = np.array([fit["width_min"], fit["width_max"]], dtype=float)
            ax.plot(xs, np.exp(fit["intercept"]) * xs ** fit["slope"], ls=(0, (4, 2)),
                    color=st["color"], lw=1, zorder=2)
        ws = sorted(g)
        _, med = style.band(ax, ws, [g[w] for w in ws], st, label=label, log=True)
        medians += med
        samples += [(w, v, f"{model} m={w}") for w in ws for v in g[w]]
    ax.set_yscale("log")
    style.width_axis(ax, [r["width"] for rs in runs_by_model.values() for r in rs])
    return medians, samples


def reference(ax, runs, value, power, label, ls=":"):
    """A grey line ~ m^power through the median of the smallest width: a theory's slope."""
    g = by_width(runs, value)
    if len(g) < 2:
        return
    ws = sorted(g)
    xs = np.array([ws[0], ws[-1]], dtype=float)
    y0 = float(np.median(g[ws[0]]))
    ax.plot(xs, y0 * (xs / xs[0]) ** power, ls=ls, color=style.GREY, lw=1.6, label=label,
            zorder=2)


def sweep_title(runs):
    cfgs = [r["cfg"] for r in runs]
    summ = [r["run"].summary for r in runs]
    steps = style.shared([c.get("steps") for c in cfgs])
    lr = "lr = 1/λ_max(H_0)" if all(c.get("lr_auto") for c in cfgs) else \
        f"lr {style.shared([r['lr'] for r in runs], fmt=lambda x: f'{x:.3g}')}"
    seeds = style.shared([len(rs) for rs in group_seeds(runs).values()])
    return (style.size_text(cfgs, summ, keys=("n", "d", "precision", "ranks", "threads"))
            + f"\n{steps} full-batch GD steps, {lr}; {seeds} seeds per point")


def group_seeds(runs):
    out = {}
    for r in runs:
        out.setdefault((r["model"], r["width"]), []).append(r)
    return out


def make_plots(out, runs, rows, fits):
    plt = style.pyplot()
    models = sorted({r["model"] for r in runs}, key=model_key)
    by_model = {m: [r for r in runs if r["model"] == m] for m in models}
    styles = style.model_styles(models)
    title = sweep_title(runs)
    sqrtm = with_flags(activation="softmax", scale="sqrt-m")
    linear = with_flags(activation="softmax", scale="m")
    written = []

    def save(fig, name):
        written.append(style.save(fig, os.path.join(out, name)))

    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    plot_vs_width(ax, by_model, styles, lambda r: r["final_loss"])
    ax.set_ylabel(style.LABELS["final_loss"])
    ax.set_title(f"Final training loss against width\n{title}")
    style.legend_below(ax, title=style.ci_text(), title_fontsize=7)
    save(fig, "final_loss_vs_width.png")

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4))
    for ax, key in ((axes[0], "ntk_drift"), (axes[1], "w_drift_max")):
        med, smp = plot_vs_width(ax, by_model, styles, lambda r, k=key: r[k],
                                 fits={m: fits.get((m, key)) for m in models},
                                 slope_label="fitted slope")
        # NTK theory's m^-1/2 is a claim about the softmax with c_m = sqrt(m): drawn through it.
        reference(ax, by_model.get(sqrtm) or runs, lambda r, k=key: r[k], -0.5,
                  "NTK theory (c_m = √m): ∝ $m^{-1/2}$")
        style.robust_ylim(ax, med, smp)
        ax.set_ylabel(style.LABELS[key])
        style.legend_below(ax, title=style.ci_text() + "; dashed: least-squares fit",
                           title_fontsize=7)
    axes[0].set_title("Kernel: relative change of the empirical NTK by the last step T")
    axes[1].set_title("Weights: the largest single-neuron move by the last step T")
    fig.suptitle("Distance from initialisation after training, against width\n"
                 + title.replace("\n", "; "))
    save(fig, "ntk_drift_vs_width.png")

    save(loss_curves(plt, models, rows, title), "loss_curves.png")

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    med, smp = plot_vs_width(axes[0], by_model, styles, lambda r: r["lambda_min_0"],
                             fits={m: fits.get((m, "lambda_min_0")) for m in models},
                             slope_label="fitted slope")
    if linear in by_model:
        reference(axes[0], by_model[linear], lambda r: r["lambda_min_0"], 1.0,
                  f"H ∝ c_m²/m: ∝ m for {linear}")
    style.robust_ylim(axes[0], med, smp)
    axes[0].set_ylabel(style.LABELS["lambda_min_0"])
    axes[0].set_title("Smallest NTK eigenvalue at initialisation")
    style.legend_below(axes[0], title=style.ci_text() + "; dashed: least-squares fit",
                       title_fontsize=7)

    def ratio(r):
        return (r["lambda_min_0"] / r["lambda_max_0"]
                if r["lambda_min_0"] is not None and r["lambda_max_0"] else None)
    med, smp = plot_vs_width(axes[1], by_model, styles, ratio)
    style.robust_ylim(axes[1], med, smp)
    axes[1].set_ylabel(style.LABELS["kappa_inv"])
    axes[1].set_title("The linear convergence rate under lr = 1/λ_max(H_0)")
    note = (f"\n{linear} and {sqrtm} coincide:\nopen circles under the squares"
            if linear in by_model and sqrtm in by_model else "")
    style.legend_below(axes[1], title=style.ci_text() + note.replace(":\n", ": "),
                       title_fontsize=7)
    fig.suptitle("NTK spectrum at initialisation against width\n" + title.replace("\n", "; "))
    save(fig, "lambda_min_vs_width.png")
    return written


def loss_curves(plt, models, rows, title):
    """One panel per model, one loss curve per width (median over seeds at each logged step,
    with the bootstrap band), on one shared log y axis; with, for the widest width, the
    linearised model's late rate -2 ln(1 - lr lambda_min(H_0)) and NTK theory's bound
    L_0 (1 - lr lambda_min / 2)^t."""
    ncols = min(2, len(models))
    nrows = math.ceil(len(models) / ncols)
    fig = plt.figure(figsize=(5.6 * ncols + 2.2, 3.8 * nrows))
    # The last column holds the one legend (the widths are the same in every panel).
    gs = fig.add_gridspec(nrows, ncols + 1, width_ratios=[1] * ncols + [0.36])
    axes = np.empty((nrows, ncols), dtype=object)
    for i in range(nrows):
        for j in range(ncols):
            axes[i, j] = fig.add_subplot(gs[i, j], sharex=axes[0, 0] if i or j else None,
                                         sharey=axes[0, 0] if i or j else None)
    legend_ax = fig.add_subplot(gs[:, ncols])
    legend_ax.axis("off")
    all_widths = sorted({r["width"] for r in rows})
    colors = dict(zip(all_widths, style.sequential(len(all_widths), plt)))
    lstyle = {w: style.LINESTYLES[i % 4] for i, w in enumerate(all_widths)}
    handles = {}
    for ax, model in zip(axes.flat, models):
        mrows = [r for r in rows if r["model"] == model]
        for row in mrows:
            curves = [r["curve"] for r in row["runs"] if r["curve"] is not None]
            if not curves:
                continue
            common = sorted(set.intersection(*(set(c[0].tolist()) for c in curves)))
            vals = [[dict(zip(c[0].tolist(), c[1]))[s] for c in curves] for s in common]
            stats = [style.median_ci([max(v, 1e-300) for v in vs], log=True) for vs in vals]
            w = row["width"]
            med = [m for m, _, _ in stats]
            if len(curves) > 1:
                ax.fill_between(common, [a for _, a, _ in stats], [b for _, _, b in stats],
                                color=colors[w], alpha=0.15, linewidth=0)
            lab = f"$m = 2^{{{int(math.log2(w))}}}$" if w & (w - 1) == 0 else f"m = {w}"
            h, = ax.plot(common, med, color=colors[w], ls=lstyle[w], lw=1.4, label=lab)
            handles.setdefault(lab, h)
        widest = max(mrows, key=lambda r: r["width"], default=None)
        curves = [r for r in (widest["runs"] if widest else []) if r["curve"] is not None]
        rates = [r["ntk_rate"] for r in curves if r["ntk_rate"] is not None]
        if curves and rates:
            rate = float(np.median(rates))
            lr_lmin = float(np.median([r["lr"] * r["lambda_min_0"] for r in curves]))
            steps = curves[0]["curve"][0]
            l0 = float(np.exp(np.median([np.log(r["curve"][1][0]) for r in curves])))
            # The rate line is anchored at the median curve's value at the middle step: it is a
            # prediction of the slope, not of the level (the fast modes decay first).
            mid = steps[len(steps) // 2]
            lmid = float(np.exp(np.median([np.log(max(dict(zip(r["curve"][0].tolist(),
                                                               r["curve"][1]))[mid], 1e-300))
                                           for r in curves])))
            t = np.array([steps[0], steps[-1]], dtype=float)
            h, = ax.plot(t, lmid * np.exp(-rate * (t - mid)), color="black", ls=(0, (2, 1.5)),
                         lw=1.2, label="linearised NTK, widest m:\nrate −2 ln(1 − lr λ_min(H_0))")
            handles.setdefault("rate", h)
            tt = np.linspace(steps[0], steps[-1], 50)
            h, = ax.plot(tt, l0 * (1 - lr_lmin / 2) ** tt, color=style.GREY, ls="-.", lw=1.2,
                         label="NTK bound, widest m:\nL_0 (1 − lr λ_min(H_0)/2)^t")
            handles.setdefault("bound", h)
        ax.set_yscale("log")
        ax.set_title(model)
        ax.set_xlabel(style.LABELS["step"])
        ax.set_ylabel(style.LABELS["loss"])
        ax.label_outer()
    for ax in list(axes.flat)[len(models):]:
        ax.set_visible(False)
    legend_ax.legend(handles=list(handles.values()), loc="center left", fontsize=7.5,
                     title="width (median over seeds,\nband: 95% bootstrap\ninterval)",
                     title_fontsize=7.5)
    fig.suptitle("Training loss along gradient descent, one shared y axis "
                 f"(straight line: linear convergence)\n{title.replace(chr(10), '; ')}")
    return fig

# ----------------------------------------------------------------------------------------------

def main(args):
    """scripts/report: args from cli.report_parser()."""
    sweep = args.sweep_dir
    if not os.path.isdir(sweep):
        print(f"report: {sweep}: no such directory", file=sys.stderr)
        return 2
    out = args.out or os.path.join(sweep, "report")
    runs, skipped = find_runs(sweep, exclude=out, load=lambda run: load(run, args.loss_floor))
    report_skipped("report", skipped)
    if not runs:
        print(f"report: no run found below {sweep} (a run directory holds summary.json and "
              "config.json, as written by `widemax train --out DIR`)", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    kind = scaling.kind(runs)
    if kind:
        return scaling.report(out, runs, kind, sweep, args.no_plots)

    rows = aggregate(runs)
    models = sorted({r["model"] for r in runs}, key=model_key)
    fits, slopes = {}, []
    for m in models:
        for q in SLOPE_QUANTITIES:
            fit = fit_slope([r for r in runs if r["model"] == m], q, args.min_width)
            if fit:
                fits[(m, q)] = fit
                slopes.append({"model": m, "quantity": q, **fit})
    mismatches = setting_mismatches(runs)
    for row in rows:
        seeds = [r["seed"] for r in row["runs"]]
        if len(set(map(str, seeds))) < len(seeds):
            print(f"report: warning: {row['model']} width {row['width']} has several runs with the "
                  f"same seed (seeds {row['seeds']}); they are averaged as if independent. "
                  "This report compares widths; it does not analyse scaling sweeps over ranks.",
                  file=sys.stderr)
    for model, ks in mismatches.items():
        print(f"report: warning: runs of {model} differ in " + ", ".join(ks), file=sys.stderr)

    write_csv(os.path.join(out, "results.csv"),
              [c for c, _, _ in COLUMNS] + ["seeds", "initial_loss_std", "w_drift_mean",
                                            "lambda_max_0_std", "entropy_std"], rows)
    write_csv(os.path.join(out, "slopes.csv"),
              ["model", "quantity", "slope", "slope_stderr", "intercept", "n_points", "n_widths",
               "width_min", "width_max"], slopes)
    plots = []
    if not args.no_plots:
        try:
            plots = make_plots(out, runs, rows, fits)
        except ImportError:
            print("report: matplotlib is missing (apt-get install -y python3-matplotlib); "
                  "tables written without plots", file=sys.stderr)
    write_markdown(os.path.join(out, "results.md"), sweep, runs, skipped, rows, slopes,
                   mismatches, args)

    print(f"report: {len(runs)} runs in {len(rows)} (model, width) groups below {sweep}"
          + (f", {len(skipped)} skipped" if skipped else ""))
    print(f"{'model':<14} {'width':>7} {'runs':>4} {'final loss':>10} {'NTK drift':>10} "
          f"{'w_drift_max':>11} {'lmin(H0)':>10} {'rate early':>10} {'late':>9} {'NTK':>9}")
    for r in rows:
        def col(k, w):
            return f"{r[k]:>{w}.3g}" if r[k] is not None else " " * (w - 1) + "-"
        print(f"{r['model']:<14} {r['width']:>7} {r['n_runs']:>4} {col('final_loss_mean', 10)} "
              f"{col('ntk_drift_mean', 10)} {col('w_drift_max_mean', 11)} "
              f"{col('lambda_min_0_mean', 10)} {col('loss_rate_early_mean', 10)} "
              f"{col('loss_rate_late_mean', 9)} {col('ntk_rate_mean', 9)}")
    print("slopes of ln(quantity) vs ln(width), least squares over all runs:")
    for s in slopes:
        err = f" ± {s['slope_stderr']:.3f}" if s["slope_stderr"] is not None else ""
        print(f"  {s['model']:<14} {s['quantity']:<13} {s['slope']:+.3f}{err}  "
              f"({s['n_points']} runs, widths {s['width_min']}..{s['width_max']})")
    print("report: wrote results.csv, results.md, slopes.csv"
          + (", " + ", ".join(plots) if plots else "") + f" -> {out}")
    return 0
