"""Plots and tables of `widemax diffusion` runs: the samples over the true density, the score
error against t and the training curves of one run, and for a sweep the score error against width.

scripts/plot_diffusion calls main() (its --help, in cli.py, lists the files written). What it
deliberately does not do: recompute anything the run wrote (the score errors, distances and weight
errors are the run's own), or report runs without a mixture in a sweep (CSV data has no exact
score, hence no score error).
"""
import math
import os
import sys

import numpy as np

from . import style
from .runs import Skip, find_runs, load_json, load_run, report_skipped
from .tables import fmt, loglog_fit, mean_std, write_csv


def with_score_error(run):
    """find_runs loader of a sweep: only runs that measured a score error."""
    if run.summary.get("score_rel_error") is None:
        raise Skip("no score error (no mixture)")
    return run


def read_points(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def mixture_marginal_density(mix, X, Y):
    """Density of the first two coordinates of the mixture on the grid (X, Y)."""
    P = np.stack([X, Y], axis=-1)
    dens = np.zeros_like(X)
    for w, mu, C in zip(mix["weights"], mix["means"], mix["covariances"]):
        mu2 = np.array(mu[:2])
        C2 = np.array(C)[:2, :2]
        Ci = np.linalg.inv(C2)
        diff = P - mu2
        q = np.einsum("...i,ij,...j->...", diff, Ci, diff)
        dens += w * np.exp(-0.5 * q) / (2 * math.pi * math.sqrt(np.linalg.det(C2)))
    return dens


def run_title(s, cfg):
    """The problem of one diffusion run, for a figure title."""
    size = style.size_text([cfg], [s], keys=("width", "precision", "ranks", "threads"))
    return (f"{s.get('mixture') or s.get('data')} (d = {s.get('d')}), {size}\n"
            f"{s.get('steps')} {s.get('optimizer')} steps of n = {s.get('n')} DSM rows, "
            f"lr {fmt(s.get('lr'))}")


def plot_run(run, out):
    plt = style.pyplot()

    os.makedirs(out, exist_ok=True)
    r = load_run(run)
    s, cfg, metrics = r.summary, r.config, r.metrics
    mix_path = os.path.join(run, "mixture.json")
    mix = load_json(mix_path) if os.path.exists(mix_path) else None
    title = run_title(s, cfg)
    written = []

    # Samples over the density contours.
    panels = [("samples.csv", "network score", "sliced_wasserstein", "mode_weight_error")]
    if os.path.exists(os.path.join(run, "samples_exact.csv")):
        panels.append(("samples_exact.csv", "exact score", "sliced_wasserstein_exact",
                       "mode_weight_error_exact"))
    pts = [read_points(os.path.join(run, f)) for f, _, _, _ in panels]
    allp = np.concatenate([p[:, :2] for p in pts])
    lo, hi = np.percentile(allp, 0.5, axis=0), np.percentile(allp, 99.5, axis=0)
    if mix is not None:
        means = np.array([m[:2] for m in mix["means"]])
        lo, hi = np.minimum(lo, means.min(axis=0)), np.maximum(hi, means.max(axis=0))
    pad = 0.15 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 5.4), squeeze=False,
                             sharex=True, sharey=True)
    for ax, P, (f, label, swk, wk) in zip(axes[0], pts, panels):
        if mix is not None:
            gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
            dens = mixture_marginal_density(mix, gx, gy)
            levels = dens.max() * np.array([0.01, 0.05, 0.2, 0.5, 0.8])
            ax.contour(gx, gy, dens, levels=levels, colors=style.OKABE_ITO[0], linewidths=0.8)
            ax.plot([], [], color=style.OKABE_ITO[0], lw=0.8,
                    label="true density p_0: 1, 5, 20, 50, 80% of its peak")
        ax.scatter(P[:, 0], P[:, 1], s=2 if len(P) > 1000 else 6, color=style.OKABE_ITO[3],
                   alpha=0.35, linewidths=0,
                   label=f"{len(P)} samples")
        outside = np.sum((P[:, 0] < lo[0]) | (P[:, 0] > hi[0]) | (P[:, 1] < lo[1]) |
                         (P[:, 1] > hi[1]))
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")
        sub = f"sliced Wasserstein SW₂ {fmt(s.get(swk))}"
        if s.get("sliced_wasserstein_floor") is not None:
            sub += f" (floor {fmt(s.get('sliced_wasserstein_floor'))})"
        if s.get(wk) is not None:
            sub += f"\nlargest mode-weight error {fmt(s.get(wk))}"
        if outside:
            sub += f", {outside} sample{'s' if outside > 1 else ''} outside the frame"
        ax.set_title(f"{label}: {s.get('sampler', '?')} sampler, {s.get('sample_steps')} steps\n"
                     + sub)
        ax.set_xlabel("x₁ (first coordinate)")
        ax.set_ylabel("x₂ (second coordinate)")
        style.legend_below(ax, markerscale=4)
    err = s.get("score_rel_error")
    fig.suptitle("Samples of the reverse process" + (f", score error {fmt(err)}" if err is not None
                                                       else "") + f"\n{title}")
    written.append(style.save(fig, os.path.join(out, "samples.png")))

    if mix is not None and s.get("score_rel_error_by_t"):
        written.append(plot_error_vs_t(plt, s, cfg, metrics, out, title))

    if metrics:
        steps = [m["step"] for m in metrics]
        panels = [("heldout_dsm_loss", style.LABELS["dsm_loss"], "held-out DSM loss")]
        if mix is not None:
            panels.insert(0, ("score_rel_error", style.LABELS["score_error"],
                              "relative score error, held out"))
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False,
                                 sharex=True)
        for i, (ax, (key, ylabel, name)) in enumerate(zip(axes[0], panels)):
            vals = [m.get(key) for m in metrics]
            ax.plot(steps, vals, **dict(style.series_style(i), markersize=3))
            pos = [v for v in vals if v is not None and v > 0]
            if pos and max(pos) > 10 * min(pos):  # a log axis only when it spans a decade
                ax.set_yscale("log")
            style.step_axis(ax, steps, log=False)
            ax.set_ylabel(ylabel)
            ax.set_title(name)
        fig.suptitle(f"Training\n{title}")
        written.append(style.save(fig, os.path.join(out, "training.png")))
    return written


def plot_error_vs_t(plt, s, cfg, metrics, out, title):
    """The score error per time bucket at every logged step (colour: the step, on a colour bar),
    the final one as a black step function, and beside it that of the zero network (F = 0: the
    baseline alone, or s = -x / sigma_t^2 in x0 mode) as a dashed one."""
    import matplotlib as mpl
    buckets = s["score_rel_error_by_t"]
    lo_t = np.array([b["t_lo"] for b in buckets])
    hi_t = np.array([b["t_hi"] for b in buckets])
    # The middle of each bucket in the sampling variable: t for uniform, log t for log.
    log_t = cfg.get("time_sampling") == "log"
    mid = np.sqrt(lo_t * hi_t) if log_t else 0.5 * (lo_t + hi_t)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    logged = [m for m in metrics if m.get("score_rel_error_by_t")]
    final = np.array([np.nan if b["rel_error"] is None else b["rel_error"] for b in buckets])
    core, samples = list(final[np.isfinite(final) & (final > 0)]), []
    curves = logged[:-1] if logged and logged[-1]["step"] == s.get("steps") else logged
    top = max([m["step"] for m in curves], default=1)
    cmap = mpl.colors.LinearSegmentedColormap.from_list(
        "steps", style.sequential(8, plt)) if curves else None
    norm = mpl.colors.Normalize(vmin=0, vmax=max(top, 1))
    few = len(curves) <= 6  # few curves: each in the legend; many: a colour bar of the steps
    for i, m in enumerate(curves):
        vals = np.array([np.nan if v is None else v for v in m["score_rel_error_by_t"]])
        kw = dict(style.series_style(i), markersize=4) if few else dict(marker="o", ms=2)
        kw["color"] = cmap(norm(m["step"]))
        ax.plot(mid, vals, alpha=0.8 if few else 0.55, lw=1, **kw,
                label=f"step {m['step']}" if few else None)
        samples += [(t, v, f"step {m['step']}, t = {t:.2g}") for t, v in zip(mid, vals)
                    if np.isfinite(v)]
    if curves:
        # The axis follows the later half of the run and the final curve; earlier outliers are
        # drawn at the edge (the untrained network at large t can be nearly exact by chance).
        late = [v for m in curves if m["step"] >= top / 2 for v in m["score_rel_error_by_t"]
                if v is not None and v > 0]
        core += [min(late), max(late)] if late else []
        first = [v for v in curves[0]["score_rel_error_by_t"] if v is not None and v > 0]
        core += [max(first)] if first else []
    ax.step(np.append(lo_t, hi_t[-1]), np.append(final, final[-1]), where="post", color="black",
            lw=1.8, label=f"final (step {s.get('steps')}), per bucket; overall "
                          f"{fmt(s.get('score_rel_error'))}")
    zero = np.array([np.nan if b.get("zero_network_rel_error") is None
                     else b["zero_network_rel_error"] for b in buckets])
    if np.isfinite(zero).any():
        ax.step(np.append(lo_t, hi_t[-1]), np.append(zero, zero[-1]), where="post", color="0.45",
                lw=1.5, ls="--", label=f"zero network F = 0 (the baseline alone); overall "
                                       f"{fmt(s.get('zero_network_score_rel_error'))}")
        core += list(zero[np.isfinite(zero) & (zero > 0)])
    ax.set_xscale("log")
    ax.set_yscale("log")
    style.robust_ylim(ax, core, samples)
    if curves and not few:
        cb = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.02)
        cb.set_label("logged step (lines at the bucket middles)")
    ax.set_xlabel(f"diffusion time t ({len(buckets)} buckets of equal probability, t sampled "
                  f"{'log-uniformly' if log_t else 'uniformly'})")
    ax.set_ylabel(style.LABELS["score_error"])
    ax.set_title(f"Relative score error against diffusion time\n{title}")
    ax.legend(loc="lower left")
    return style.save(fig, os.path.join(out, "score_error_vs_t.png"))


def sweep(root, out):
    runs, skipped = find_runs(root, exclude=out, load=with_score_error)
    report_skipped("plot_diffusion", skipped)
    if not runs:
        print(f"plot_diffusion: no finished diffusion run with a score error below {root}",
              file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    nb = len(runs[0].summary["score_rel_error_by_t"])
    by_w = {}
    for r in runs:
        by_w.setdefault(int(r.summary["width"]), []).append(r)
    header = ["width", "runs", "score_rel_error_mean", "score_rel_error_std"] + \
        [f"bucket{b}_mean" for b in range(nb)] + \
        [f"zero_network_bucket{b}_mean" for b in range(nb)] + \
        ["sliced_wasserstein_mean", "sliced_wasserstein_exact_mean", "sliced_wasserstein_floor_mean",
         "mode_weight_error_mean", "modes_covered_min", "train_s_mean"]
    rows = []
    for w in sorted(by_w):
        rs = [r.summary for r in by_w[w]]
        row = {"width": w, "runs": len(rs)}
        row["score_rel_error_mean"], row["score_rel_error_std"] = mean_std(
            s["score_rel_error"] for s in rs)
        for b in range(nb):
            row[f"bucket{b}_mean"] = mean_std(s["score_rel_error_by_t"][b]["rel_error"]
                                              for s in rs if len(s["score_rel_error_by_t"]) == nb)[0]
            # Runs from before the zero network was reported have no such entry.
            row[f"zero_network_bucket{b}_mean"] = mean_std(
                s["score_rel_error_by_t"][b].get("zero_network_rel_error") for s in rs
                if len(s["score_rel_error_by_t"]) == nb)[0]
        for k in ("sliced_wasserstein", "sliced_wasserstein_exact", "sliced_wasserstein_floor",
                  "mode_weight_error", "train_s"):
            row[k + "_mean"] = mean_std(s.get(k) for s in rs)[0]
        row["modes_covered_min"] = min(s.get("modes_covered") or 0 for s in rs)
        rows.append(row)
    write_csv(os.path.join(out, "results.csv"), header, rows)
    edges = runs[0].summary["score_rel_error_by_t"]
    cfgs = sorted({f"mixture={r.summary.get('mixture')} steps={r.summary.get('steps')} "
                   f"n={r.summary.get('n')} sampler={r.summary.get('sampler')}" for r in runs})
    lines = [f"# Score error vs width: {root}", "",
             f"{len(runs)} runs, {len(rows)} widths. Settings: " + "; ".join(cfgs) + ".", "",
             "Relative score error E‖s − ∇log p_t‖² / E‖∇log p_t‖² on held-out (x_t, t), mean over "
             "the seeds (± sample std); per time bucket: "
             + ", ".join(f"b{b} = [{e['t_lo']:.3g}, {e['t_hi']:.3g}]" for b, e in enumerate(edges))
             + ". SW: sliced Wasserstein distance of the samples to fresh mixture samples (exact: "
             "the same sampler with the exact score; floor: two fresh sets).", "",
             "| width | runs | score error | ± std | " + " | ".join(f"b{b}" for b in range(nb))
             + " | SW | SW exact | SW floor | max weight error | modes covered (min) | train s |",
             "|---:|---:|---:|---:|" + "---:|" * nb + "---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['width']} | {row['runs']} | {fmt(row['score_rel_error_mean'])} | "
                     f"{fmt(row['score_rel_error_std'])} | "
                     + " | ".join(fmt(row[f'bucket{b}_mean']) for b in range(nb))
                     + f" | {fmt(row['sliced_wasserstein_mean'])} | "
                     f"{fmt(row['sliced_wasserstein_exact_mean'])} | "
                     f"{fmt(row['sliced_wasserstein_floor_mean'])} | "
                     f"{fmt(row['mode_weight_error_mean'])} | {row['modes_covered_min']} | "
                     f"{fmt(row['train_s_mean'], '.0f')} |")
    if len(rows) >= 2:
        slope = loglog_fit([(r.summary["width"], r.summary["score_rel_error"]) for r in runs])["slope"]
        lines += ["", f"Least-squares slope of ln(score error) against ln(width), every run one "
                  f"point: {slope:.3f}."]
    lines += ["", "![score error vs width](score_error_vs_width.png)", ""]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    plt = style.pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ws = [row["width"] for row in rows]
    overall = [[r.summary["score_rel_error"] for r in by_w[w]] for w in ws]
    colors = style.sequential(nb, plt)
    for b in range(nb):
        groups = [[r.summary["score_rel_error_by_t"][b]["rel_error"] for r in by_w[w]
                   if len(r.summary["score_rel_error_by_t"]) == nb] for w in ws]
        if all(g and all(v is not None and v > 0 for v in g) for g in groups):
            st = dict(style.series_style(b + 1, filled=True), color=colors[b], markersize=4,
                      linewidth=1)
            style.band(ax, ws, groups, st, log=True, points=False, band_alpha=0.1,
                       label=f"t in [{edges[b]['t_lo']:.2g}, {edges[b]['t_hi']:.2g}]")
    style.band(ax, ws, overall, dict(style.series_style(6), linewidth=2.2, linestyle="-"),
               log=True, label="all t (every run a dot)")
    ax.set_yscale("log")
    style.width_axis(ax, ws)
    ax.set_ylabel(style.LABELS["score_error"].replace("\n", " (held out)\n"))
    seeds = style.shared([len(by_w[w]) for w in ws])
    ss = [r.summary for r in runs]
    ax.set_title(f"Score error against width ({seeds} seeds per width)\n"
                 f"{style.shared([x.get('mixture') for x in ss])}: "
                 f"{style.shared([x.get('steps') for x in ss])} "
                 f"{style.shared([x.get('optimizer') for x in ss])} steps of n = "
                 f"{style.shared([x.get('n') for x in ss])} DSM rows, "
                 + style.size_text([r.config for r in runs], ss,
                                   keys=("precision", "ranks", "threads")))
    style.legend_below(ax, ncol=3, title="relative score error by time bucket; "
                       + style.ci_text(), title_fontsize=7)
    style.save(fig, os.path.join(out, "score_error_vs_width.png"))
    print(f"plot_diffusion: {len(runs)} runs, {len(rows)} widths -> {out}/results.md, results.csv, "
          "score_error_vs_width.png")
    return 0


def main(args):
    """scripts/plot_diffusion: args from cli.diffusion_parser()."""
    if args.sweep:
        return sweep(args.sweep, args.out or os.path.join(args.sweep, "report"))
    if not os.path.exists(os.path.join(args.run_dir, "summary.json")):
        print(f"plot_diffusion: {args.run_dir} has no summary.json (not a finished run)",
              file=sys.stderr)
        return 1
    out = args.out or args.run_dir
    written = plot_run(args.run_dir, out)
    print("plot_diffusion: " + ", ".join(os.path.join(out, w) for w in written))
    return 0
