"""The one figure style of every report (scripts/report, scripts/polarize_report,
scripts/plot_diffusion): colours, markers, axis labels, rank and width axes, the median with its
bootstrap interval, robust axis limits, the problem-size title, and saving PNG + PDF.

Rules every figure follows, so that it can go into a paper as it is:
  - colours from the Okabe-Ito palette (colour-blind safe; its yellow is left out, it is barely
    visible on white), and each series has its own marker and line style as well, so curves that
    lie on top of each other (softmax c_m = m and c_m = sqrt(m) have the same lr * lambda_min)
    stay visible and the figure reads in grey;
  - every axis has a label with its units or definition (LABELS; never a raw summary key);
  - several seeds or repeats are drawn as the median with a bootstrap interval (median_ci, band);
  - rank axes are log2 with integer ticks at the rank counts, width axes log2 with 2^k ticks;
  - step axes that include step 0 are symlog (linear below 1), so step 0 is drawn at 0;
  - axis limits come from the medians, not from single runs; a run off that scale is drawn as a
    triangle at the edge and named in the legend (robust_ylim);
  - constrained layout (no clipped titles), and each figure saved as PNG (DPI) and PDF.

What it deliberately does not do: choose what a figure shows or compute its numbers (the report
modules do), or change a table. The bootstrap uses a fixed seed, so a report run twice on the
same runs writes the same figures and tables.
"""
import math
import os

import numpy as np

from . import models

DPI = 160  # PNG resolution (print needs >= 150; the PDF beside it is vector)

# Okabe & Ito (2008), "Color universal design": blue, orange, bluish green, vermillion, reddish
# purple, sky blue, black. Their yellow (#F0E442) is not used.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1))]
# Marker sizes fall along the series, and the first markers are open: a series drawn exactly on
# top of an earlier one still shows the earlier one's ring around its own marker.
MARKER_SIZES = [8, 5.5, 6, 5, 6, 6, 6, 7]
GREY = "#7F7F7F"  # references and theory lines
CI_LEVEL = 0.95
N_BOOT = 2000

# Axis labels of the quantities the reports plot: definition and units, never the raw key.
LABELS = {
    "width": "width m (hidden neurons)",
    "ranks": "MPI ranks P",
    "step": "gradient step t",
    "loss": "training loss L = ½ Σᵢ ‖F(xᵢ) − yᵢ‖²",
    "final_loss": "final training loss L = ½ Σᵢ ‖F(xᵢ) − yᵢ‖²",
    "ntk_drift": "relative NTK drift ‖H_T − H_0‖_F / ‖H_0‖_F",
    "w_drift_max": "largest neuron move max_r ‖w_r(T) − w_r(0)‖₂",
    "lambda_min_0": "λ_min(H_0), smallest NTK eigenvalue at init",
    "kappa_inv": "lr · λ_min(H_0) = λ_min(H_0) / λ_max(H_0)",
    "step_ms": "time per step (ms, median)",
    "speedup": "speedup T_1 / T_P",
    "scaled_speedup": "scaled speedup P · T_1 / T_P",
    "efficiency": "parallel efficiency (%)",
    "score_error": "relative score error\nE‖s − ∇log p_t‖² / E‖∇log p_t‖²",
    "dsm_loss": "held-out DSM loss, mean per row\n½ ‖F − (ε + σ_t s_b)‖²",
    "hidden_entropy": "mean hidden-softmax entropy −Σ_r s_r log s_r (nats)",
    "entropy": "entropy of softmax(a) (nats)",
    "max_prob": "largest softmax weight max_j softmax(a)_j",
}


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), with the project's rcParams.
    Raises ImportError without matplotlib; the caller decides whether the tables go on without
    plots."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler
    matplotlib.rcParams.update({
        "figure.constrained_layout.use": True,
        "savefig.dpi": DPI,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 7.5,
        "legend.framealpha": 0.85,
        "axes.grid": True,
        "grid.alpha": 0.25,
        "lines.linewidth": 1.5,
        "lines.markersize": 5,
        # Colours only: a line drawn without a style of its own (a reference) has no markers.
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "pdf.fonttype": 42,  # TrueType in the PDF: editable text
    })
    return plt


def series_style(i, filled=None):
    """Colour, marker, line style and marker size of series i (any number of series: after the
    seven colours the markers and line styles keep them apart)."""
    ms = MARKER_SIZES[i % len(MARKER_SIZES)]
    style = {"color": OKABE_ITO[i % len(OKABE_ITO)], "marker": MARKERS[i % len(MARKERS)],
             "linestyle": LINESTYLES[i % len(LINESTYLES)], "markersize": ms}
    if filled is False or (filled is None and i == 0):
        style["markerfacecolor"] = "none"
        style["markeredgewidth"] = 1.4
    return style


def model_styles(names):
    """A style per model: a model of experiments/models.tsv keeps its own style whichever models
    are plotted, the others take the next styles in order."""
    known = {m: i for i, m in enumerate(models.ORDER)}
    extra = iter(range(len(known), len(known) + len(names)))
    return {m: series_style(known[m] if m in known else next(extra)) for m in names}


def model_colors(names):
    return {m: s["color"] for m, s in model_styles(names).items()}


def sequential(n, plt=None):
    """n colours in order (for widths or steps): viridis from dark blue to green, without its
    light yellow end."""
    cmap = (plt or pyplot()).get_cmap("viridis")
    return [cmap(0.82 * i / max(1, n - 1)) for i in range(n)]


# --- statistics ------------------------------------------------------------------------------

def median_ci(values, level=CI_LEVEL, n_boot=N_BOOT, log=False, seed=0):
    """Median of the values and a percentile-bootstrap interval of the median (level, n_boot
    resamples with a fixed seed): (median, lo, hi). None values are dropped; with one value the
    interval is that value, with none all three are None. log=True works on ln(values) (positive
    values only), so that the median of an even count is a geometric mean, as on a log axis."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if log:
        v = np.log(v[v > 0])
    if len(v) == 0:
        return None, None, None
    med = float(np.median(v))
    if len(v) == 1:
        lo = hi = med
    else:
        rng = np.random.default_rng(seed)
        boots = np.median(v[rng.integers(0, len(v), size=(n_boot, len(v)))], axis=1)
        lo, hi = (float(q) for q in np.quantile(boots, [(1 - level) / 2, (1 + level) / 2]))
    return tuple(math.exp(x) for x in (med, lo, hi)) if log else (med, lo, hi)


def ci_text(level=CI_LEVEL):
    return f"median, band: {round(100 * level)}% bootstrap interval of the median"


def band(ax, x, groups, style, label=None, log=False, points=True, band_alpha=0.18):
    """The median over each group of samples (one group per x) as a line with markers, its
    bootstrap interval as a shaded band, and every sample as a faint dot. Returns the medians."""
    xs, med, lo, hi = [], [], [], []
    for xi, g in zip(x, groups):
        m, a, b = median_ci(g, log=log)
        if m is None:
            continue
        xs.append(xi), med.append(m), lo.append(a), hi.append(b)
        if points:
            vals = [v for v in g if v is not None and (not log or v > 0)]
            ax.scatter([xi] * len(vals), vals, s=9, color=style["color"], alpha=0.3,
                       linewidths=0, zorder=1)
    if not xs:
        return [], []
    if any(b > a for a, b in zip(lo, hi)):
        ax.fill_between(xs, lo, hi, color=style["color"], alpha=band_alpha, linewidth=0, zorder=1)
    ax.plot(xs, med, label=label, zorder=3, **style)
    return xs, med


# --- axes ------------------------------------------------------------------------------------

def _pow2_label(v):
    k = math.log2(v)
    return f"$2^{{{int(round(k))}}}$" if abs(k - round(k)) < 1e-9 else f"{v:g}"


def width_axis(ax, widths, axis="x", label=None):
    """A log2 width axis with one tick per power of two between the widths (every other one when
    there are many), labelled 2^k."""
    import matplotlib.ticker as mt
    widths = [w for w in widths if w and w > 0]
    a = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log", base=2)
    if widths:
        k0, k1 = math.floor(math.log2(min(widths))), math.ceil(math.log2(max(widths)))
        every = 1 if k1 - k0 <= 10 else 2
        a.set_major_locator(mt.FixedLocator([2.0 ** k for k in range(k0, k1 + 1, every)]))
        a.set_major_formatter(mt.FuncFormatter(lambda v, _: _pow2_label(v)))
        a.set_minor_locator(mt.NullLocator())
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label or LABELS["width"])


def rank_axis(ax, ranks, label=None):
    """A log2 axis of rank counts with integer ticks exactly at the measured counts (no 1.25
    ranks), a little room on both sides."""
    import matplotlib.ticker as mt
    ranks = sorted({int(p) for p in ranks})
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(mt.FixedLocator(ranks))
    ax.xaxis.set_major_formatter(mt.FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.xaxis.set_minor_locator(mt.NullLocator())
    ax.set_xlim(ranks[0] / 2 ** 0.3, ranks[-1] * 2 ** 0.3)
    ax.set_xlabel(label or LABELS["ranks"])


def step_axis(ax, steps, log=True, label=None):
    """The step axis. log=True with step 0 among the steps: symlog, linear in [0, 1] and log
    beyond, so step 0 is drawn at 0 (not moved to 0.5 or dropped)."""
    if log:
        if min(steps, default=1) <= 0:
            ax.set_xscale("symlog", linthresh=1, linscale=0.5)
            ax.set_xlim(0, max(steps) * 1.15)
        else:
            ax.set_xscale("log")
    ax.set_xlabel(label or LABELS["step"])


def robust_ylim(ax, core, samples, log=True, pad=0.25):
    """Y limits from the core values (the medians drawn), padded by pad of their range (in log
    space on a log axis, and by at least a factor of 2); any sample outside is drawn as a triangle at the edge and the legend
    names it, so one outlying run neither stretches the axis nor disappears (a band reaching it
    is cut at the edge). samples: (x, y, name) triples. Returns the off-scale samples."""
    core = [v for v in core if v is not None and (v > 0 or not log)]
    if not core:
        return []
    f, g = (np.log, np.exp) if log else ((lambda v: v), (lambda v: v))
    lo, hi = f(min(core)), f(max(core))
    # On a log axis at least a factor of 2 beyond the medians: a seed that close is spread, not
    # an outlier.
    margin = max(pad * (hi - lo), math.log(2)) if log else pad * max(hi - lo, 1e-9)
    lo, hi = g(lo - margin), g(hi + margin)
    off = [(x, y, n) for x, y, n in samples if y is not None and (y < lo or y > hi)
           and (y > 0 or not log)]
    ax.set_ylim(lo, hi)
    for x, y, _ in off:
        edge = hi if y > hi else lo
        ax.plot([x], [edge], marker="^" if y > hi else "v", color="black", ms=6, ls="none",
                clip_on=False, zorder=5)
    if off:
        names = "; ".join(f"{n}: {y:.3g}" for _, y, n in off[:3]) + ("; …" if len(off) > 3 else "")
        ax.plot([], [], marker="v", color="black", ls="none",
                label=f"off scale ({len(off)}): {names}")
    return off


def legend_below(ax, ncol=2, **kw):
    """The axes' legend under its x label, so that it covers no data (constrained layout makes
    room for it)."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, **kw)


# --- titles ----------------------------------------------------------------------------------

def shared(values, fmt=str):
    """One value if all are equal, else 'lo–hi' for numbers or 'a/b' for others."""
    vals = sorted({v for v in values if v is not None}, key=lambda v: (str(type(v)), v))
    if not vals:
        return None
    if len(vals) == 1:
        return fmt(vals[0])
    if all(isinstance(v, (int, float)) for v in vals):
        return f"{fmt(vals[0])}–{fmt(vals[-1])}"
    return "/".join(fmt(v) for v in vals)


def size_text(cfgs, summaries, keys=("n", "d", "width", "precision", "ranks", "threads")):
    """The problem size of a set of runs for a figure title: 'n = 32, d = 8, fp64, 2 ranks × 1
    thread' (a key that differs between the runs shows its range; width is left out when it is
    the figure's axis)."""
    def get(k):
        return [s.get(k, c.get(k)) for c, s in zip(cfgs, summaries)]
    parts = []
    for k in keys:
        v = shared(get(k), fmt=lambda x: f"{x:g}" if isinstance(x, float) else str(x))
        if v is None:
            continue
        if k == "precision":
            parts.append(v)
        elif k == "ranks":
            parts.append(f"{v} rank{'s' if v != '1' else ''}")
        elif k == "threads":
            th = f"{v} thread{'s' if v != '1' else ''}"
            if parts and "rank" in parts[-1]:
                parts[-1] += " × " + th
            else:
                parts.append(th)
        else:
            parts.append(f"{k} = {v}")
    return ", ".join(parts)


def save(fig, path, dpi=DPI):
    """Writes the figure as PATH (PNG, dpi) and as the PDF beside it, and closes it. Returns the
    PNG's file name."""
    plt = pyplot()
    fig.savefig(path, dpi=dpi)
    fig.savefig(os.path.splitext(path)[0] + ".pdf")
    plt.close(fig)
    return os.path.basename(path)
