"""The reports of the width experiments of paper (a), "Exploring the Frontiers of Softmax"
(arXiv 2405.03251): activation-matched, lazy-threshold, ntk-perturbation and generalisation
(experiments/<name>.env define the runs; experiments/README.md shows the results).

Every number is a median over independent seeds with a percentile-bootstrap 95% interval
(style.median_ci); a slope against width is fitted per seed and the slopes are summarised the same
way, never fitted once over pooled points; every seed is drawn as a faint dot beside the band, so
outliers are visible. Each report writes results.md (tables), results.csv and its figures (PNG and
PDF) into the output directory.

The late loss rate of a run is -d ln L / dt fitted over the second half of its steps, and that of
the linearised model the same fit of the run's own linear_loss (gradient descent on the
linearisation at W_0, logged by widemax train), over the same steps: their ratio is 1 in the lazy
regime whatever the spectrum of H_0. The slowest-mode rate -2 ln(1 - eta lambda_min(H_0)) is shown
beside it.

What it deliberately does not do: run anything, or read anything but the run directories.
"""
import csv
import math
import os

import numpy as np

from . import models, runs, style, theory
from .width import number

LAZY_TOL = 0.05      # "within 5%" of the linearised rate
LOSS_FLOOR = 1e-22   # relative to L_0: below it, float64 round-off flattens the curves


# --- one run ---------------------------------------------------------------------------------

def curves(run):
    """Arrays step, loss, linear_loss, test_mean_loss of metrics.jsonl (NaN where absent)."""
    rec = [r for r in run.metrics if "step" in r]
    get = lambda k: np.array([number(r.get(k)) if number(r.get(k)) is not None else np.nan
                              for r in rec])
    return {"step": np.array([int(r["step"]) for r in rec]), "loss": get("loss"),
            "linear_loss": get("linear_loss"), "test_mean_loss": get("test_mean_loss")}


def late_rate(steps, values, floor):
    """-d ln(values)/d step over the second half of the steps, where values > floor; None with
    fewer than 3 such points."""
    if len(steps) == 0:
        return None
    keep = (steps >= steps[-1] / 2) & np.isfinite(values) & (values > floor)
    if keep.sum() < 3:
        return None
    return float(-np.polyfit(steps[keep], np.log(values[keep]), 1)[0])


def load(run):
    cfg, s = run.config, run.summary
    command = (cfg.get("provenance") or {}).get("argv", ["", "train"])[1]
    ntk = s.get("ntk") or {}
    r = {"name": run.name, "dir": run.dir, "model": models.model_name(cfg), "command": command,
         "width": int(s.get("width", cfg.get("width"))), "seed": cfg.get("seed"),
         "init": cfg.get("init"), "n": s.get("n_train", s.get("n", cfg.get("n"))),
         "d": s.get("d", cfg.get("d")), "summary": s, "cfg": cfg}
    for k in ("ntk_drift", "w_drift_max", "w_drift_q50", "w_drift_q90", "w_drift_q99",
              "test_mean_loss", "final_mean_loss", "initial_mean_loss", "initial_test_mean_loss",
              "lr"):
        r[k] = number(s.get(k, s.get("final_" + k)))
    r["lambda_min_0"] = number(ntk.get("lambda_min_0", s.get("lambda_min")))
    r["lambda_max_0"] = number(ntk.get("lambda_max_0", s.get("lambda_max")))
    if command == "train":
        c = curves(run)
        floor = LOSS_FLOOR * c["loss"][0] if len(c["loss"]) else 0
        r["rate"] = late_rate(c["step"], c["loss"], floor)
        r["rate_linear"] = late_rate(c["step"], c["linear_loss"], floor)
        r["rate_ratio"] = (r["rate"] / r["rate_linear"]
                           if r["rate"] is not None and r["rate_linear"] else None)
        q = (1 - r["lr"] * r["lambda_min_0"]) if r["lr"] and r["lambda_min_0"] else None
        r["rate_slowest"] = -2 * math.log(abs(q)) if q else None
        r["rate_ratio_slowest"] = (r["rate"] / r["rate_slowest"]
                                   if r["rate"] is not None and r["rate_slowest"] else None)
        last = c["linear_loss"][-1] if len(c["linear_loss"]) else np.nan
        r["final_over_linear"] = (float(c["loss"][-1] / last)
                                  if np.isfinite(last) and last > 0 else None)
        r["curve"] = c
    return r


# --- statistics ----------------------------------------------------------------------------

BIG = 1e300  # stands for +inf (a censored m*) inside the bootstrap, which cannot take inf


def ci(values, log=False):
    v = [BIG if x == math.inf else x for x in values if x is not None]
    return tuple(math.inf if x is not None and x >= BIG / 10 else x
                 for x in style.median_ci(v, log=log))


def ci_cell(values, log=False, spec=".3g"):
    m, lo, hi = ci(values, log=log)
    if m is None:
        return ""
    f = lambda x: "∞" if math.isinf(x) else f"{x:{spec}}"
    return f"{f(m)} [{f(lo)}, {f(hi)}]"


def per_seed_slopes(rows, key, x="width"):
    """Per seed, the least-squares slope of ln(row[key]) against ln(row[x]) over that seed's rows
    (at least 3 distinct x). Returns the list of slopes."""
    by_seed = {}
    for r in rows:
        if r.get(key) is not None and r[key] > 0:
            by_seed.setdefault(r["seed"], []).append((r[x], r[key]))
    out = []
    for pts in by_seed.values():
        if len({p for p, _ in pts}) >= 3:
            out.append(float(np.polyfit(np.log([p for p, _ in pts]), np.log([v for _, v in pts]),
                                        1)[0]))
    return out


def group(rows, *keys):
    g = {}
    for r in rows:
        g.setdefault(tuple(r[k] for k in keys), []).append(r)
    return g


def md_table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def write_csv(path, header, body):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(body)
    os.replace(tmp, path)


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def bands_vs_width(ax, rows, key, models_, styles, log=True, label_fmt="{m}"):
    for mdl in models_:
        sub = [r for r in rows if r["model"] == mdl]
        widths = sorted({r["width"] for r in sub})
        style.band(ax, widths, [[r[key] for r in sub if r["width"] == w] for w in widths],
                   styles[mdl], label=label_fmt.format(m=mdl), log=log)


def reference_line(ax, widths, y0, power, label):
    w = np.array(sorted(widths), dtype=float)
    ax.plot(w, y0 * (w / w[0]) ** power, color=style.GREY, ls=":", lw=1.2, label=label)


def rate_ratio_panel(ax, rows, order, styles, widths, ylabel):
    """The late loss rate over the linearised model's against width, one band per model, with the
    5% lazy band and the line at 1."""
    bands_vs_width(ax, rows, "rate_ratio", order, styles, log=False)
    ax.axhspan(1 - LAZY_TOL, 1 + LAZY_TOL, color=style.GREY, alpha=0.15, lw=0,
               label=f"within {LAZY_TOL:.0%} (lazy)")
    ax.axhline(1, color=style.GREY, ls=":", lw=1)
    style.width_axis(ax, widths)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def title(ax, text):
    ax.set_title(text, fontsize=10)


# --- activation-matched --------------------------------------------------------------------

MATCHED_KEYS = [("ntk_drift", True), ("w_drift_max", True), ("w_drift_q50", True),
                ("w_drift_q90", True), ("w_drift_q99", True), ("lambda_min_0", True),
                ("lambda_max_0", True), ("rate_ratio", False), ("rate_ratio_slowest", False),
                ("final_over_linear", True), ("final_mean_loss", True), ("test_mean_loss", True)]


def report_matched(rows, out, plt):
    rows = [r for r in rows if r["command"] == "train"]
    order = sorted({r["model"] for r in rows}, key=models.model_key)
    styles = style.model_styles(order)
    ns = sorted({r["n"] for r in rows})
    header = ["model", "n", "width", "seeds"] + [k for k, _ in MATCHED_KEYS]
    body = []
    for (mdl, n, w), g in sorted(group(rows, "model", "n", "width").items(),
                                 key=lambda kv: (models.model_key(kv[0][0]), kv[0][1], kv[0][2])):
        body.append([mdl, n, w, len(g)] + [ci_cell([r[k] for r in g], log=lg) for k, lg in
                                           MATCHED_KEYS])
    slope_rows = []
    for (mdl, n), g in sorted(group(rows, "model", "n").items(),
                              key=lambda kv: (models.model_key(kv[0][0]), kv[0][1])):
        slope_rows.append([mdl, n] + [ci_cell(per_seed_slopes(g, k), spec=".2f") for k in
                                      ("ntk_drift", "w_drift_max", "w_drift_q50", "w_drift_q99",
                                       "lambda_min_0")])
    write_csv(os.path.join(out, "results.csv"), header, body)
    text = ["# activation-matched\n", f"{style.ci_text()} over seeds; slopes fitted per seed.\n",
            md_table(header, body), "\n## Slopes of ln(quantity) against ln(m), per seed\n",
            md_table(["model", "n", "ntk_drift", "w_drift_max", "w_drift_q50", "w_drift_q99",
                      "lambda_min_0"], slope_rows)]
    write_text(os.path.join(out, "results.md"), "\n".join(text))
    if plt is None:
        return
    widths = sorted({r["width"] for r in rows})
    # NTK drift and the largest move, per n.
    fig, axes = plt.subplots(2, len(ns), figsize=(5.4 * len(ns), 8.4), squeeze=False,
                             constrained_layout=True)
    for j, n in enumerate(ns):
        sub = [r for r in rows if r["n"] == n]
        ws = sorted({r["width"] for r in sub})
        for i, (key, lab) in enumerate([("ntk_drift", style.LABELS["ntk_drift"]),
                                        ("w_drift_max", style.LABELS["w_drift_max"])]):
            ax = axes[i][j]
            bands_vs_width(ax, sub, key, order, styles)
            med = [ci([r[key] for r in sub if r["width"] == ws[0]], log=True)[0]]
            if med[0]:
                reference_line(ax, ws, med[0], -0.5, "m^-1/2 (NTK theory)")
            style.width_axis(ax, ws)
            ax.set_yscale("log")
            ax.set_ylabel(lab)
            title(ax, f"n = {n}, symmetric init, lr = 1/λ_max(H_0), T = "
                      f"{style.shared([r['summary'].get('steps') for r in sub])} steps")
            ax.grid(alpha=0.3)
        style.legend_below(axes[1][j], ncol=2, fontsize=8)
    style.save(fig, os.path.join(out, "drift_vs_width.png"))
    # Quantiles of the per-neuron displacement, n = smallest, one panel per model.
    n0 = ns[0]
    fig, axes = plt.subplots(1, len(order), figsize=(4.3 * len(order), 4.6), squeeze=False,
                             sharey=True, constrained_layout=True)
    for j, mdl in enumerate(order):
        ax = axes[0][j]
        sub = [r for r in rows if r["model"] == mdl and r["n"] == n0]
        for i, (key, lab) in enumerate([("w_drift_q50", "median"), ("w_drift_q90", "90%"),
                                        ("w_drift_q99", "99%"), ("w_drift_max", "max")]):
            ws = sorted({r["width"] for r in sub})
            style.band(ax, ws, [[r[key] for r in sub if r["width"] == w] for w in ws],
                       style.series_style(i), label=lab, log=True)
        m50 = ci([r["w_drift_q50"] for r in sub if r["width"] == widths[0]], log=True)[0]
        if m50:
            reference_line(ax, widths, m50, -0.5, "m^-1/2")
        style.width_axis(ax, widths)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        title(ax, f"{mdl}, n = {n0}")
        style.legend_below(ax, ncol=3, fontsize=8)
    axes[0][0].set_ylabel("‖w_r(T) − w_r(0)‖₂ over the neurons r\n(quantiles, median over seeds)")
    style.save(fig, os.path.join(out, "displacement_quantiles.png"))
    # Late rate against the linearised model's, and the held-out loss.
    fig, axes = plt.subplots(2, len(ns), figsize=(5.4 * len(ns), 8.4), squeeze=False,
                             constrained_layout=True)
    for j, n in enumerate(ns):
        sub = [r for r in rows if r["n"] == n]
        ws = sorted({r["width"] for r in sub})
        ax = axes[0][j]
        rate_ratio_panel(ax, sub, order, styles, ws,
                         "late loss rate / linearised model's rate\n(same steps, same H_0)")
        title(ax, f"n = {n}")
        ax = axes[1][j]
        bands_vs_width(ax, sub, "test_mean_loss", order, styles)
        style.width_axis(ax, ws)
        ax.set_yscale("log")
        ax.set_ylabel("held-out mean loss ½‖F(x) − y‖² at T")
        ax.grid(alpha=0.3)
        style.legend_below(ax, ncol=2, fontsize=8)
    style.save(fig, os.path.join(out, "rate_and_test_vs_width.png"))


# --- lazy-threshold ------------------------------------------------------------------------

def threshold(points, tol):
    """The smallest width from which on every width has err <= tol, from (width, err) points
    (err >= 0; None or inf: not met), interpolated in ln err against ln m between the last width
    outside and the first inside. Returns (m*, censored) with censored "below" (the narrowest
    width already meets it: m* <= it), "above" (the widest does not: m* = inf) or None."""
    pts = sorted((w, math.inf if e is None else e) for w, e in points)
    if not pts:
        return None, None
    k = len(pts)
    while k > 0 and pts[k - 1][1] <= tol:
        k -= 1
    if k == len(pts):
        return math.inf, "above"
    if k == 0:
        return float(pts[0][0]), "below"
    (w0, e0), (w1, e1) = pts[k - 1], pts[k]
    if not math.isfinite(e0) or e1 <= 0 or e0 <= e1:
        return float(w1), None
    f = (math.log(tol) - math.log(e0)) / (math.log(e1) - math.log(e0))
    f = min(max(f, 0.0), 1.0)
    return float(math.exp(math.log(w0) + f * (math.log(w1) - math.log(w0)))), None


LAMBDA_TOL = 2.0  # lambda_min/lambda_max(H_0) at least half of its value at the widest width


def rate_err(q):
    return None if q is None else abs(q - 1)


def lambda_err(k, k_ref):
    """k_ref / k with k = lambda_min/lambda_max(H_0): <= 2 where H_0 keeps half of the smallest
    relative eigenvalue of the widest networks, its stand-in for the limit (the perturbation
    lemma's condition lambda_min(H) >= lambda / 2, made scale-free: H grows like m under c_m = m);
    inf for a singular H_0 (m d below n)."""
    return k_ref / k if k and k > 0 and k_ref else math.inf


def kappa(r):
    lo, hi = r["lambda_min_0"], r["lambda_max_0"]
    return lo / hi if lo is not None and hi else None


def thresholds(g, lam_ref):
    """The thresholds of one (model, n, seed): lazy (rate within 5% of the linearised model's),
    well-conditioned (lambda_min/lambda_max(H_0) >= half of its widest value), slowest (rate within 5% of the slowest
    mode's -2 ln(1 - eta lambda_min)), and m* = the larger of the first two, each (m*, censored)."""
    t = {"rate": threshold([(r["width"], rate_err(r["rate_ratio"])) for r in g], LAZY_TOL),
         "lambda": threshold([(r["width"], lambda_err(kappa(r), lam_ref)) for r in g],
                             LAMBDA_TOL),
         "slowest": threshold([(r["width"], rate_err(r["rate_ratio_slowest"])) for r in g],
                              LAZY_TOL)}
    a, b = t["rate"], t["lambda"]
    t["both"] = a if (a[0] or 0) >= (b[0] or 0) else b
    return t


def report_threshold(rows, out, plt):
    rows = [r for r in rows if r["command"] == "train"]
    order = sorted({r["model"] for r in rows}, key=models.model_key)
    styles = style.model_styles(order)
    ns = sorted({r["n"] for r in rows})
    widths = sorted({r["width"] for r in rows})
    mstar = {}  # (model, n) -> [(seed, {kind: (m*, censored)})]
    lam_ref, k_ref = {}, {}
    for (mdl, n), g in group(rows, "model", "n").items():
        wide = [r for r in g if r["width"] == widths[-1]]
        lam_ref[(mdl, n)] = ci([r["lambda_min_0"] for r in wide], log=True)[0]
        k_ref[(mdl, n)] = ci([kappa(r) for r in wide], log=True)[0]
    for (mdl, n, seed), g in group(rows, "model", "n", "seed").items():
        mstar.setdefault((mdl, n), []).append((seed, thresholds(g, k_ref[(mdl, n)])))
    body, exps = [], []
    for mdl in order:
        per_seed = {}
        for n in ns:
            vals = mstar.get((mdl, n), [])
            lam = lam_ref.get((mdl, n))
            widest = [r for r in rows if r["model"] == mdl and r["n"] == n
                      and r["width"] == widths[-1]]
            d = style.shared([r["d"] for r in widest]) or "8"
            th = theory.numbers(n, float(d), lam) if lam else {}
            cells = {}
            for kind in ("both", "rate", "lambda", "slowest"):
                ms = [t[kind][0] for _, t in vals if t[kind][0] is not None]
                cen = [t[kind][1] for _, t in vals if t[kind][1]]
                note = ", ".join(f"{cen.count(x)} {x}" for x in sorted(set(cen)))
                cells[kind] = ci_cell(ms, log=True) + (f" ({note})" if note else "")
            ms = [t["both"][0] for _, t in vals if t["both"][0] is not None]
            med = ci(ms, log=True)[0]
            body.append([mdl, n, len(ms), cells["both"], cells["rate"], cells["lambda"],
                         cells["slowest"], f"{lam:.3g}" if lam else "",
                         f"{th.get('m_theorem', math.nan):.2e}",
                         f"{th.get('eta_theorem', math.nan):.2e}",
                         f"{th.get('R_theorem', math.nan):.2e}",
                         (f"{math.log10(th['m_theorem'] / med):.1f}"
                          if th and med and math.isfinite(med) else "")])
            for seed, t in vals:
                if t["both"][0] is not None and t["both"][1] is None:
                    per_seed.setdefault(seed, []).append((n, t["both"][0]))
        slopes = [float(np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]),
                                   1)[0]) for pts in per_seed.values() if len(pts) >= 3]
        exps.append([mdl, len(slopes), ci_cell(slopes, spec=".2f")])
    header = ["model", "n", "seeds", "m* (median [95% CI])", "m*: rate within 5%",
              "m*: λ_min/λ_max(H_0) >= ½ widest", "m*: rate within 5% of slowest mode",
              "λ_ref = λ_min(H_0) at widest m", "theorem m", "theorem η", "theorem R",
              "log10(theorem m / m*)"]
    write_csv(os.path.join(out, "results.csv"), header, body)
    ratio_rows = []
    for (mdl, n, w), g in sorted(group(rows, "model", "n", "width").items(),
                                 key=lambda kv: (models.model_key(kv[0][0]), kv[0][1], kv[0][2])):
        ratio_rows.append([mdl, n, w, len(g), ci_cell([r["rate_ratio"] for r in g]),
                           ci_cell([r["rate_ratio_slowest"] for r in g]),
                           ci_cell([r["final_over_linear"] for r in g], log=True)])
    text = ["# lazy-threshold\n",
            "m* = the larger of two thresholds, per seed: the smallest width from which on the "
            f"late loss rate is within {LAZY_TOL:.0%} of the linearised model's (same steps), and "
            "the smallest from which on λ_min/λ_max(H_0) keeps half of its median at the widest "
            "width (the perturbation lemma's condition, scale-free; below it H_0 is near-singular and the "
            "loss plateaus, where the rates of two stalled curves can agree). Each is "
            "interpolated per seed in log-log between grid widths; the slowest-mode column uses "
            "-2 ln(1 - η λ_min(H_0)) instead, which needs enough steps for the slowest mode to "
            "dominate; "
            f"{style.ci_text()} over seeds. Theorem numbers: scripts/widemax_report/theory.py "
            "(constants set to 1, B = 1, delta = 0.1, lambda = the measured λ_min(H_0) at the "
            "widest width).\n", md_table(header, body),
            "\n## Exponent of m* against n, fitted per seed (seeds with m* inside the grid at >= 3 n)\n",
            md_table(["model", "seeds", "exponent"], exps),
            "\n## Rate ratios per (model, n, width)\n",
            md_table(["model", "n", "width", "seeds", "rate / linearised rate",
                      "rate / slowest-mode rate", "L(T) / L_lin(T)"], ratio_rows)]
    write_text(os.path.join(out, "results.md"), "\n".join(text))
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), constrained_layout=True)
    ax = axes[0]
    for mdl in order:
        ms = [[t["both"][0] for _, t in mstar.get((mdl, n), [])
               if t["both"][0] is not None and math.isfinite(t["both"][0])] for n in ns]
        style.band(ax, ns, ms, styles[mdl], label=mdl, log=True)
    nn = np.array(ns, dtype=float)
    for p, ls in ((1, ":"), (2, "--")):
        ax.plot(nn, widths[1] * (nn / nn[0]) ** p, color=style.GREY, ls=ls, lw=1,
                label=f"∝ n^{p} (reference)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.set_xlabel("training samples n")
    style.width_axis(ax, widths, axis="y", label="lazy threshold m*(n) (neurons)")
    ax.grid(alpha=0.3)
    title(ax, f"m*: rate within {LAZY_TOL:.0%} of the linearised model's, λ_min/λ_max(H_0) ≥ ½ widest")
    style.legend_below(ax, ncol=2, fontsize=8)
    ax = axes[1]
    n_show = ns[len(ns) // 2]
    shown = [r for r in rows if r["n"] == n_show]
    rate_ratio_panel(ax, shown, order, styles, widths, "late loss rate / linearised model's rate")
    # A stalled run far off 1 (a near-singular H_0 at the narrowest widths) must not set the scale.
    core = [ci([r["rate_ratio"] for r in shown if r["model"] == mdl and r["width"] == w])[0]
            for mdl in order for w in widths]
    style.robust_ylim(ax, [c for c in core if c is not None and abs(c - 1) < 1] + [0.9, 1.1],
                      [(r["width"], r["rate_ratio"], r["name"]) for r in shown], log=False)
    title(ax, f"n = {n_show}")
    style.legend_below(ax, ncol=2, fontsize=8)
    style.save(fig, os.path.join(out, "lazy_threshold.png"))


# --- ntk-perturbation ----------------------------------------------------------------------

def report_perturbation(rows, out, plt):
    rows = [r for r in rows if r["command"] == "ntk"]
    for r in rows:
        s = r["summary"]
        r["R"] = number(s.get("perturb_radius"))
        r["diff_rel"] = number(s.get("ntk_perturb_diff_rel"))
    hinf = [r for r in rows if r["name"].startswith("hinf_")]
    pert = [r for r in rows if not r["name"].startswith("hinf_") and r["R"]]
    order = sorted({r["model"] for r in pert}, key=models.model_key)
    styles = style.model_styles(order)
    widths = sorted({r["width"] for r in pert})
    # ||H_0(m) - H_inf||_F / ||H_inf||_F, H_inf the mean of the widest runs' H.
    dev = []

    def scale(r):
        # H grows like c_m^2 / m: like m under softmax c_m = m, O(1) otherwise. Dividing it out
        # compares kernels of different widths (the relative deviation is unchanged otherwise).
        cfg = r["cfg"]
        return float(r["width"]) if (cfg.get("activation") == "softmax"
                                     and cfg.get("scale") == "m") else 1.0

    def load_h(r):
        return np.load(os.path.join(r["dir"], "H.npy")) / scale(r)

    for mdl in order:
        hs = [load_h(r) for r in hinf if r["model"] == mdl
              and os.path.exists(os.path.join(r["dir"], "H.npy"))]
        if not hs:
            continue
        Hinf = np.mean(hs, axis=0)
        seen = set()
        for r in sorted(pert, key=lambda r: r["R"]):
            key = (r["model"], r["width"], r["seed"])
            path = os.path.join(r["dir"], "H.npy")
            if r["model"] != mdl or key in seen or not os.path.exists(path):
                continue
            seen.add(key)
            H0 = load_h(r)
            dev.append({"model": mdl, "width": r["width"], "seed": r["seed"],
                        "dev": float(np.linalg.norm(H0 - Hinf) / np.linalg.norm(Hinf))})
        # The reference's own noise: one widest run against the mean of the others.
        if len(hs) > 1:
            own = [float(np.linalg.norm(hs[i] - np.mean(hs[:i] + hs[i + 1:], axis=0))
                         / np.linalg.norm(Hinf)) for i in range(len(hs))]
            dev.append({"model": mdl, "width": hinf[0]["width"], "seed": "ref",
                        "dev": float(np.median(own))})
    body = []
    fit_rows = []
    for mdl in order:
        for w in widths:
            g = [r for r in pert if r["model"] == mdl and r["width"] == w]
            # Per seed: ln(diff_rel) = ln C + p ln R over the radii.
            fits = []
            for seed, gs in group(g, "seed").items():
                pts = [(r["R"], r["diff_rel"]) for r in gs if r["diff_rel"]]
                if len(pts) >= 3:
                    p, lnc = np.polyfit(np.log([a for a, _ in pts]), np.log([b for _, b in pts]), 1)
                    fits.append((p, math.exp(lnc)))
            fit_rows.append([mdl, w, len(fits), ci_cell([f[0] for f in fits], spec=".3f"),
                             ci_cell([f[1] for f in fits], log=True)])
            for R in sorted({r["R"] for r in g}):
                body.append([mdl, w, R, ci_cell([r["diff_rel"] for r in g if r["R"] == R],
                                                log=True)])
    dev_rows = []
    for mdl in order:
        d = [x for x in dev if x["model"] == mdl and x["seed"] != "ref"]
        ref = [x["dev"] for x in dev if x["model"] == mdl and x["seed"] == "ref"]
        dev_rows.append([mdl, ci_cell(per_seed_slopes(d, "dev"), spec=".3f"),
                         f"{ref[0]:.2e}" if ref else ""] +
                        [ci_cell([x["dev"] for x in d if x["width"] == w], log=True)
                         for w in widths])
    write_csv(os.path.join(out, "results.csv"), ["model", "width", "R", "diff_rel"], body)
    text = ["# ntk-perturbation\n",
            "‖H(W_0 + Δ) − H(W_0)‖_F / ‖H(W_0)‖_F with every neuron moved by R (max_r ‖Δ_r‖ = "
            f"R); {style.ci_text()} over seeds.\n",
            "## Fit C R^p per (model, width), per seed\n",
            md_table(["model", "width", "seeds", "p", "C"], fit_rows),
            "\n## ‖H_0(m) − H_inf‖_F / ‖H_inf‖_F (H_inf: mean H_0 of the widest runs; H / m for "
            "softmax c_m = m, whose H grows like m)\n",
            md_table(["model", "slope against m (per seed)", "noise of H_inf itself"] +
                     [f"m = {w}" for w in widths], dev_rows),
            "\n## Every (model, width, R)\n", md_table(["model", "width", "R", "diff_rel"], body)]
    write_text(os.path.join(out, "results.md"), "\n".join(text))
    if plt is None:
        return
    fig, axes = plt.subplots(1, len(order) + 1, figsize=(4.2 * (len(order) + 1), 4.8),
                             squeeze=False, constrained_layout=True)
    colors = style.sequential(len(widths), plt)
    for j, mdl in enumerate(order):
        ax = axes[0][j]
        for i, w in enumerate(widths):
            g = [r for r in pert if r["model"] == mdl and r["width"] == w]
            Rs = sorted({r["R"] for r in g})
            st = dict(style.series_style(i), color=colors[i])
            style.band(ax, Rs, [[r["diff_rel"] for r in g if r["R"] == R] for R in Rs], st,
                       label=f"m = 2^{int(round(math.log2(w)))}", log=True, points=False)
        Rs = np.array(sorted({r["R"] for r in pert}))
        g0 = [r["diff_rel"] for r in pert if r["model"] == mdl and r["R"] == Rs[0]
              and r["width"] == widths[-1]]
        if g0:
            y0 = float(np.median(g0))
            ax.plot(Rs, y0 * Rs / Rs[0], color=style.GREY, ls=":", lw=1.2, label="∝ R (through the widest m)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("perturbation radius R = max_r ‖Δ_r‖₂")
        ax.grid(alpha=0.3)
        title(ax, mdl)
        style.legend_below(ax, ncol=2, fontsize=7)
    axes[0][0].set_ylabel("‖H(W_0 + Δ) − H(W_0)‖_F / ‖H(W_0)‖_F")
    ax = axes[0][-1]
    for mdl in order:
        d = [x for x in dev if x["model"] == mdl and x["seed"] != "ref"]
        style.band(ax, widths, [[x["dev"] for x in d if x["width"] == w] for w in widths],
                   styles[mdl], label=mdl, log=True)
    meds = [ci([x["dev"] for x in dev if x["width"] == widths[0] and x["seed"] != "ref"],
               log=True)[0]]
    if meds[0]:
        reference_line(ax, widths, meds[0], -0.5, "m^-1/2 (the lemma)")
    style.width_axis(ax, widths)
    ax.set_yscale("log")
    ax.set_ylabel("‖H_0(m) − H_inf‖_F / ‖H_inf‖_F")
    title(ax, f"H_inf: mean of {len(hinf) // max(1, len(order))} runs at m = "
              f"{hinf[0]['width'] if hinf else '?'}")
    ax.grid(alpha=0.3)
    style.legend_below(ax, ncol=2, fontsize=7)
    style.save(fig, os.path.join(out, "ntk_perturbation.png"))


# --- generalisation ------------------------------------------------------------------------

def report_generalisation(rows, out, plt):
    rows = [r for r in rows if r["command"] == "train"]
    order = sorted({r["model"] for r in rows}, key=models.model_key)
    inits = sorted({r["init"] for r in rows})
    widths = sorted({r["width"] for r in rows})
    header = ["model", "init", "width", "seeds", "test mean loss at T", "test mean loss at 0",
              "train mean loss at T"]
    body = []
    for (mdl, init, w), g in sorted(group(rows, "model", "init", "width").items(),
                                    key=lambda kv: (models.model_key(kv[0][0]), kv[0][1],
                                                    kv[0][2])):
        body.append([mdl, init, w, len(g), ci_cell([r["test_mean_loss"] for r in g], log=True),
                     ci_cell([r["initial_test_mean_loss"] for r in g], log=True),
                     ci_cell([r["final_mean_loss"] for r in g], log=True)])
    slopes = []
    for (mdl, init), g in sorted(group(rows, "model", "init").items(),
                                 key=lambda kv: (models.model_key(kv[0][0]), kv[0][1])):
        slopes.append([mdl, init, ci_cell(per_seed_slopes(g, "test_mean_loss"), spec=".3f")])
    write_csv(os.path.join(out, "results.csv"), header, body)
    write_text(os.path.join(out, "results.md"), "\n".join([
        "# generalisation\n", f"{style.ci_text()} over seeds.\n", md_table(header, body),
        "\n## Slope of ln(test loss) against ln(m), per seed\n",
        md_table(["model", "init", "slope"], slopes)]))
    if plt is None:
        return
    fig, axes = plt.subplots(1, len(order), figsize=(5.6 * len(order), 4.8), squeeze=False,
                             sharey=True, constrained_layout=True)
    for j, mdl in enumerate(order):
        ax = axes[0][j]
        for i, init in enumerate(inits):
            sub = [r for r in rows if r["model"] == mdl and r["init"] == init]
            st = style.series_style(i)
            style.band(ax, widths, [[r["test_mean_loss"] for r in sub if r["width"] == w]
                                    for w in widths], st, label=f"{init} init: held-out", log=True)
            st2 = dict(st, linestyle=":", alpha=0.8, marker="x")
            style.band(ax, widths, [[r["final_mean_loss"] for r in sub if r["width"] == w]
                                    for w in widths], st2, label=f"{init} init: training",
                       log=True, points=False)
        if mdl == models.with_flags(scale="m"):
            # Linearised theory: F(W_0) ~ sqrt(m) stays in the fit, so the held-out loss grows ~ m.
            g0 = [r["test_mean_loss"] for r in rows if r["model"] == mdl
                  and r["init"] == "gaussian" and r["width"] == widths[0]]
            if g0:
                reference_line(ax, widths, float(np.median(g0)), 1.0,
                               "∝ m (linearised theory, gaussian init)")
        style.width_axis(ax, widths)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        title(ax, f"{mdl}: n = {style.shared([r['n'] for r in rows])} training, "
                  f"{style.shared([r['summary'].get('n_test') for r in rows])} held-out samples")
        style.legend_below(ax, ncol=2, fontsize=8)
    axes[0][0].set_ylabel("mean loss ½‖F(x) − y‖² at the last step")
    style.save(fig, os.path.join(out, "generalisation.png"))


REPORTS = {"activation-matched": report_matched, "lazy-threshold": report_threshold,
           "ntk-perturbation": report_perturbation, "generalisation": report_generalisation}


def main(args):
    out = args.out or os.path.join(args.sweep_dir, "report")
    os.makedirs(out, exist_ok=True)
    found, skipped = runs.find_runs(args.sweep_dir, exclude=out, load=load)
    runs.report_skipped("width_report", skipped)
    if not found:
        print(f"width_report: no finished runs below {args.sweep_dir}")
        return 1
    plt = None if args.no_plots else style.pyplot()
    REPORTS[args.experiment](found, out, plt)
    print(f"width_report {args.experiment}: {len(found)} runs ({len(skipped)} skipped) -> {out}")
    return 0
