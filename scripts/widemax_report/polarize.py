"""Tables and plots of the polarisation experiments of issue 9 (experiments/polarize.sh, jobs/submit
polarize-sweep | entropy-bridge): the value-softmax toy runs, the sweep over the softmax length T,
and the bridge (the hidden-softmax entropy of `widemax train` runs against width).

scripts/polarize_report calls main() (its --help, in cli.py, lists the files written). Which
report a run joins is decided by its config.json command and its directory name: polarize runs
named flow_T<T>, const_T<T>, init_T<T> are the T sweep, other polarize runs the toy, and train
runs named <model>_w<width>_s<seed> with a logged entropy the bridge. What it deliberately does
not do: hide results that disagree with a claim (every number is the measured one).
"""
import json
import math
import os
import re
import sys

import numpy as np

from . import style
from .models import model_key
from .runs import find_runs, report_skipped
from .tables import md_table, write_csv


def lstsq_slope(x, y):
    """Least-squares slope of ln y against ln x, with its standard error. numpy's lstsq, not the
    polyfit of tables.loglog_fit: the two differ in the last bits, and T_sweep_slope.txt (in full
    precision) of the recorded results was computed this way."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if len(lx) < 2:
        return float("nan"), float("nan")
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef = np.linalg.lstsq(A, ly, rcond=None)[0]
    if len(lx) > 2:
        resid = ly - A @ coef
        se = math.sqrt(resid @ resid / (len(lx) - 2) / np.sum((lx - lx.mean()) ** 2))
    else:
        se = float("nan")
    return float(coef[0]), se


# --- widemax polarize ------------------------------------------------------------------------------

def toy_rows(runs):
    rows = []
    for r in runs:
        c, s = r.config, r.summary
        init = "a=0" if c["a_mean"] == 0 and c["a_noise"] == 0 else \
            f"a={c['a_mean']:g}+{c['a_noise']:g}N"
        rows.append(dict(run=r.name, loss=c["loss"], T=c["T"], d=c["d"], init=init,
                         beta_norm=c.get("beta_norm", 1.0), lr=c["lr"],
                         schedule=c.get("lr_schedule", "constant"), steps=c["steps"],
                         entropy_0=s["initial_entropy"], entropy=s["entropy"],
                         log_T=s["max_entropy"], max_prob=s["max_prob"],
                         final_loss=s["final_loss"], step_max_prob_half=s["first_step_max_prob_half"],
                         step_entropy_half=s["first_step_entropy_half"],
                         entropy_increases=s["entropy_increase_steps"],
                         last_increase=s["last_entropy_increase_step"]))
    return rows


def report_toy(runs, out, md):
    keys = ["run", "loss", "T", "d", "init", "beta_norm", "lr", "steps", "entropy_0", "entropy",
            "max_prob", "final_loss", "step_max_prob_half", "step_entropy_half",
            "entropy_increases", "last_increase"]
    rows = toy_rows(runs)
    write_csv(os.path.join(out, "toy.csv"), keys, rows)
    md.append("## Value-softmax runs\n")
    md.append(md_table(rows, keys, {"entropy_0": ".4f", "entropy": ".4g", "max_prob": ".4f"}))
    md.append("")
    plt = style.pyplot()
    runs = sorted(runs, key=toy_order)
    losses = sorted({r.config["loss"] for r in runs})
    fig, axes = plt.subplots(2, len(losses), figsize=(4.8 * len(losses) + 0.5, 9),
                             squeeze=False, sharex="col", sharey="row")
    for col, loss in enumerate(losses):
        mine = [r for r in runs if r.config["loss"] == loss and r.metrics]
        for i, r in enumerate(mine):
            st = dict(style.series_style(i), markevery=max(1, len(r.metrics) // 8))
            t = [l["step"] for l in r.metrics]
            axes[0][col].plot(t, [l["entropy"] for l in r.metrics], label=toy_label(r), **st)
            axes[1][col].plot(t, [l["max_prob"] for l in r.metrics], label=toy_label(r), **st)
        for T in sorted({r.config["T"] for r in mine}):
            axes[0][col].axhline(math.log(T), color=style.GREY, lw=0.8, ls=":")
        axes[0][col].set_title(f"{loss} loss")
        # Below the column: the same runs in both rows, and no curve under the legend.
        style.legend_below(axes[1][col], ncol=1, title="dotted: log T, the maximum",
                           title_fontsize=7)
        for ax in (axes[0][col], axes[1][col]):
            style.step_axis(ax, [l["step"] for r in mine for l in r.metrics])
        axes[0][col].set_xlabel("")
    axes[0][0].set_ylabel(style.LABELS["entropy"])
    axes[1][0].set_ylabel(style.LABELS["max_prob"])
    fig.suptitle("Value-softmax model y = V softmax(a): entropy and largest weight along "
                 "gradient descent (step 0 at 0)\n" + toy_title(runs))
    style.save(fig, os.path.join(out, "toy_entropy.png"))

    asym = [r for r in runs if r.config["loss"] == "logistic" and r.config["a_mean"] == 0 and
            r.config["a_noise"] == 0 and r.config.get("lr_schedule", "constant") == "constant"
            and r.metrics]
    if asym:
        fig, ax = plt.subplots(figsize=(6.5, 4.4))
        md.append("Asymptotics of the logistic runs from a = 0: (1 - max_prob) ln^2(lr t) at the "
                  "last step (the reduced dynamics predict -> 2)\n")
        for i, r in enumerate(asym):
            lr = r.config["lr"]
            pts = [(l["step"], (1 - l["max_prob"]) * math.log(lr * l["step"]) ** 2)
                   for l in r.metrics if lr * l["step"] > math.e]
            if not pts:
                continue
            ax.plot([lr * t for t, _ in pts], [v for _, v in pts], label=toy_label(r),
                    **dict(style.series_style(i), markevery=max(1, len(pts) // 8)))
            md.append(f"- {r.name}: {pts[-1][1]:.3f} at step {pts[-1][0]}")
        ax.axhline(2, color="black", ls="--", lw=1.2,
                   label="reduced dynamics: 1 − max_prob ≈ 2 / ln²(lr t) → 2")
        ax.set_xscale("log")
        ax.set_xlabel("flow time lr · t (from lr · t > e)")
        ax.set_ylabel("(1 − max_prob) · ln²(lr · t)")
        ax.set_title("Logistic loss from a = 0: approach to the predicted rate\n" + toy_title(asym))
        ax.legend()
        style.save(fig, os.path.join(out, "asymptotics.png"))
        md.append("")


def toy_order(r):
    c = r.config
    return (c["loss"], c.get("beta_norm", 1.0), c["T"], c["a_mean"] != 0 or c["a_noise"] != 0,
            c["steps"], r.name)


def toy_label(r):
    """A readable name of a toy run from its config (not its directory name)."""
    c = r.config
    init = "a = 0" if c["a_mean"] == 0 and c["a_noise"] == 0 else \
        f"a = {c['a_mean']:g} + {c['a_noise']:g} N(0,1)"
    parts = [f"T = d = {c['T']}" if c["T"] == c["d"] else f"T = {c['T']}, d = {c['d']}", init]
    if c["loss"] == "square":
        parts.append(f"‖β‖ = {c.get('beta_norm', 1.0):g}")
    parts.append(f"lr {c['lr']:g}" + ("/max_prob" if c.get("lr_schedule", "constant") !=
                                       "constant" else ""))
    parts.append(f"{c['steps']:.0e} steps".replace("e+0", "e"))
    return ", ".join(parts)


def toy_title(runs):
    cfgs = [r.config for r in runs]
    summ = [r.summary for r in runs]
    v = style.shared([c.get("v_scale") for c in cfgs], fmt=lambda x: f"{x:g}")
    return (f"V ~ {v} N(0,1), plain GD; "
            + style.size_text(cfgs, summ, keys=("precision", "ranks", "threads")))


def winner_check(init_run, final_run):
    """Is the final argmax the token with the largest initial <beta, v_j>? Returns (bool, rank).

    From the initial run's V.npy and beta.npy when they are there, else from the
    init_scores_top.json that experiments/reproduce keeps in their place (the largest initial
    scores with their tokens); past its end the rank is reported as "> K".
    """
    w = final_run.summary["argmax"]
    top = os.path.join(init_run.dir, "init_scores_top.json")
    if not os.path.exists(os.path.join(init_run.dir, "V.npy")) and os.path.exists(top):
        with open(top) as f:
            t = json.load(f)
        if w not in t["token"]:
            return False, f"> {len(t['token'])}"
        cw = t["score"][t["token"].index(w)]
        rank = sum(1 for c in t["score"] if c > cw) + 1
        return rank == 1, rank
    V = np.load(os.path.join(init_run.dir, "V.npy"))
    beta = np.load(os.path.join(init_run.dir, "beta.npy"))[:, 0]
    c0 = V @ beta
    rank = int(np.sum(c0 > c0[w])) + 1  # 1: the largest
    return rank == 1, rank


def report_T_sweep(runs, out, md):
    by = {}
    for r in runs:
        m = re.fullmatch(r"(flow|const|init)_T(\d+)", r.name)
        if m:
            by.setdefault(int(m.group(2)), {})[m.group(1)] = r
    if not by:
        return
    rows = []
    for T in sorted(by):
        g = by[T]
        row = dict(T=T)
        if "flow" in g:
            s = g["flow"].summary
            row.update(tau_half_flow=s["flow_time_max_prob_half"], steps_half_flow=s[
                "first_step_max_prob_half"], steps_flow=s["steps"], flow_time_end=s["flow_time"],
                tau_entropy_half_flow=s["flow_time_entropy_half"],
                entropy_ratio_at_half=s["entropy_at_max_prob_half"] / math.log(T)
                if s["entropy_at_max_prob_half"] >= 0 else None,
                entropy_ratio=s["entropy_ratio"], entropy=s["entropy"], max_prob=s["max_prob"],
                final_loss=s["final_loss"], entropy_increases=s["entropy_increase_steps"],
                step_time_s=s["step_time_median_s"])
            if "init" in g:
                won, rank = winner_check(g["init"], g["flow"])
                row.update(winner_is_top_c0=won, winner_rank_c0=rank)
        if "const" in g:
            s = g["const"].summary
            row.update(tau_half_const=s["flow_time_max_prob_half"],
                       steps_half_const=s["first_step_max_prob_half"])
            if row.get("tau_half_flow", -1) > 0 and s["flow_time_max_prob_half"] > 0:
                row["flow_over_const"] = row["tau_half_flow"] / s["flow_time_max_prob_half"]
        rows.append(row)
    keys = ["T", "tau_half_flow", "tau_half_const", "flow_over_const", "tau_entropy_half_flow",
            "entropy_ratio_at_half", "steps_half_flow", "steps_half_const", "steps_flow", "flow_time_end", "entropy", "entropy_ratio",
            "max_prob", "final_loss", "entropy_increases", "winner_is_top_c0", "winner_rank_c0",
            "step_time_s"]
    write_csv(os.path.join(out, "T_sweep.csv"), keys, rows)
    ok = [(r["T"], r["tau_half_flow"]) for r in rows if r.get("tau_half_flow", -1) > 0]
    sl, se = lstsq_slope(*zip(*ok)) if len(ok) >= 2 else (float("nan"), float("nan"))
    md.append("## Sweep over the softmax length T\n")
    md.append(md_table(rows, keys, {"entropy_ratio": ".4f", "max_prob": ".4f",
                                    "flow_over_const": ".3f"}))
    md.append(f"\nSlope of ln tau_1/2 against ln T (flow clock, all T): {sl:.3f} +- {se:.3f}")
    local = [f"{ok[i][0]:g}->{ok[i + 1][0]:g}: "
             f"{math.log(ok[i + 1][1] / ok[i][1]) / math.log(ok[i + 1][0] / ok[i][0]):.3f}"
             for i in range(len(ok) - 1)]
    md.append("Local slopes between neighbouring T: " + ", ".join(local) + "\n")
    with open(os.path.join(out, "T_sweep_slope.txt"), "w") as f:
        f.write(f"{sl} {se}\n")

    plt = style.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    Ts = sorted(by)
    colors = dict(zip(Ts, style.sequential(len(Ts), plt)))
    for k, T in enumerate(Ts):
        if "flow" not in by[T] or by[T]["flow"].summary["flow_time_max_prob_half"] <= 0:
            continue
        half = by[T]["flow"].summary["flow_time_max_prob_half"]
        ms = by[T]["flow"].metrics
        st = dict(style.series_style(k, filled=True), color=colors[T], linestyle="-",
                  markevery=max(1, len(ms) // 10), markersize=4)
        axes[0].plot([l["flow_time"] / half for l in ms], [l["entropy"] / math.log(T) for l in ms],
                     label=f"T = {tex_count(T)}", **st)
        if "const" in by[T] and by[T]["const"].metrics:
            mc = by[T]["const"].metrics
            axes[0].plot([l["flow_time"] / half for l in mc], [l["entropy"] / math.log(T) for l in mc],
                         ls=":", lw=2.2, color=colors[T])
    if any("const" in g for g in by.values()):
        axes[0].plot([], [], ls=":", lw=2.2, color=style.GREY,
                     label=f"plain GD, lr {const_lr(by)} (dotted, T ≤ {max(T for T in Ts if 'const' in by[T]):g})")
    axes[0].axvline(1, color=style.GREY, lw=0.8)
    axes[0].set_xlim(0, 2)
    axes[0].set_xlabel("flow time τ / τ½(T)   (τ = Σ_t lr_t; τ½: first max_prob ≥ 1/2)")
    axes[0].set_ylabel("entropy of softmax(a) / log T")
    axes[0].set_title("Entropy collapse on the flow clock, lr_t = lr / max_prob")
    axes[0].legend()
    if ok:
        x, y = zip(*ok)
        axes[1].loglog(x, y, label=f"τ½, flow clock; least-squares slope {pm(sl, se)}",
                       **style.series_style(0))
        c = [(r["T"], r["tau_half_const"]) for r in rows if r.get("tau_half_const", -1) > 0]
        if c:
            axes[1].loglog(*zip(*c), label=f"τ½, plain GD lr {const_lr(by)}",
                           **dict(style.series_style(1), linestyle="none"))
        axes[1].loglog(x, np.array(x, float) * y[0] / x[0], color=style.GREY, ls="--", lw=1.2,
                       label="∝ T (slope 1), through T = 10")
    axes[1].set_xlabel("softmax length T (tokens)")
    axes[1].set_ylabel("flow time τ½ to max_prob ≥ 1/2")
    axes[1].set_title("Time to polarise against the length")
    axes[1].legend()
    runs_all = [g[k] for g in by.values() for k in g if k != "init"]
    fig.suptitle("Logistic loss from a = 0 against the softmax length T\n"
                 + f"d = {style.shared([r.config['d'] for r in runs_all])}, "
                 + style.size_text([r.config for r in runs_all], [r.summary for r in runs_all],
                                   keys=("precision", "ranks", "threads")))
    style.save(fig, os.path.join(out, "T_sweep.png"))


def tex_count(T):
    """10^k for a power of ten (1e+06 reads badly in a legend), else the integer."""
    k = math.log10(T)
    return f"$10^{{{round(k)}}}$" if T >= 1000 and abs(k - round(k)) < 1e-12 else f"{T:g}"


def pm(value, err):
    """'0.89 ± 0.02', or '0.89' without a standard error (two points)."""
    return f"{value:.2f}" + (f" ± {err:.2f}" if math.isfinite(err) else "")


def const_lr(by):
    return style.shared([g["const"].config["lr"] for g in by.values() if "const" in g],
                        fmt=lambda x: f"{x:g}")


# --- widemax train (the bridge) --------------------------------------------------------------------

def report_bridge(runs, out, md):
    groups = {}
    for r in runs:
        m = re.fullmatch(r"(.+)_w(\d+)_s(\d+)", r.name)
        ent = [l for l in r.metrics if "entropy" in l]
        if not m or not ent:
            continue
        groups.setdefault((m.group(1), int(m.group(2))), []).append(
            dict(h0=ent[0]["entropy"], h=r.summary["entropy"], loss=r.summary["final_loss"],
                 loss0=r.summary["initial_loss"], drift=r.summary.get("ntk_drift"), run=r))
    if not groups:
        return
    rows = []
    for (model, w), g in sorted(groups.items()):
        h0 = np.array([x["h0"] for x in g])
        h = np.array([x["h"] for x in g])
        dh = h - h0
        rows.append(dict(model=model, width=w, seeds=len(g), log_m=math.log(w),
                         entropy_0=h0.mean(), entropy=h.mean(),
                         entropy_std=h.std(ddof=1) if len(g) > 1 else float("nan"),
                         change=dh.mean(), abs_change=np.abs(dh).mean(),
                         change_over_log_m=dh.mean() / math.log(w),
                         final_loss=float(np.exp(np.mean(np.log([max(x["loss"], 1e-300) for x in g])))),
                         initial_loss=float(np.mean([x["loss0"] for x in g])),
                         ntk_drift=float(np.mean([x["drift"] for x in g if x["drift"] is not None]))))
    keys = ["model", "width", "seeds", "log_m", "entropy_0", "entropy", "entropy_std", "change",
            "abs_change", "change_over_log_m", "initial_loss", "final_loss", "ntk_drift"]
    write_csv(os.path.join(out, "bridge.csv"), keys, rows)
    md.append("## Bridge: hidden-softmax entropy of the two-layer network against width\n")
    md.append(md_table(rows, keys, {"log_m": ".3f", "entropy_0": ".4f", "entropy": ".4f",
                                    "entropy_std": ".4f", "change": "+.4f", "abs_change": ".4f",
                                    "change_over_log_m": "+.4f", "ntk_drift": ".3g"}))
    md.append("")
    plt = style.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    models = sorted({r["model"] for r in rows}, key=model_key)
    styles = style.model_styles(models)
    for model in models:
        ws = sorted(w for (m, w) in groups if m == model)
        g = [groups[(model, w)] for w in ws]
        st = styles[model]
        style.band(axes[0], ws, [[x["h"] for x in gw] for gw in g], st,
                   label=f"{model}: after training")
        axes[0].plot(ws, [float(np.median([x["h0"] for x in gw])) for gw in g], color=st["color"],
                     ls=":", marker=".", label=f"{model}: at init")
        style.band(axes[1], ws, [[x["h"] - x["h0"] for x in gw] for gw in g], st, label=model)
        big = [(r["width"], r["abs_change"]) for r in rows if r["model"] == model
               and r["abs_change"] > 0]
        sl, se = lstsq_slope(*zip(*big)) if len(big) >= 2 else (float("nan"), float("nan"))
        md.append(f"- {model}: slope of ln |entropy change| against ln m: {sl:.2f} +- {se:.2f}")
        style.band(axes[2], ws, [[abs(x["h"] - x["h0"]) for x in gw] for gw in g], st, log=True,
                   label=f"{model}: slope of the means {pm(sl, se)}")
    ws = sorted({r["width"] for r in rows})
    all_runs = [x["run"] for g in groups.values() for x in g]
    sigma = style.shared([r.config.get("sigma") for r in all_runs])
    axes[0].plot(ws, [math.log(w) for w in ws], color="black", ls="--", lw=1,
                 label="log m (the maximum)")
    if sigma is not None and len(sigma.split("–")) == 1:
        sg = float(sigma)
        axes[0].plot(ws, [math.log(w) - sg ** 2 / 2 for w in ws], color=style.GREY, ls="-.",
                     lw=1.2, label=f"log m − σ²/2 (init, large m; σ = {sg:g})")
    axes[0].set_ylabel(style.LABELS["hidden_entropy"])
    axes[0].set_title("Entropy of the hidden softmax")
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[1].axhline(0, color="black", lw=0.8)
    axes[1].set_ylabel("entropy change, after − at init (nats)")
    axes[1].set_title("Signed change (< 0: polarised; ≈ 0: lazy)")
    axes[2].set_yscale("log")
    axes[2].set_ylabel("|entropy change| (nats)")
    axes[2].set_title("Size of the change")
    for ax in axes:
        style.width_axis(ax, ws)
        ax.legend(title=style.ci_text(), title_fontsize=7)
    cfgs = [r.config for r in all_runs]
    lr = "lr = 1/λ_max(H_0)" if all(c.get("lr_auto") for c in cfgs) else "fixed lr"
    fig.suptitle("Two-layer softmax network: the hidden softmax's entropy against width\n"
                 + style.size_text(cfgs, [r.summary for r in all_runs],
                                   keys=("n", "d", "precision", "ranks", "threads"))
                 + f"; {style.shared([c.get('steps') for c in cfgs])} full-batch GD steps, {lr}; "
                 + f"{style.shared([len(g) for g in groups.values()])} seeds per point")
    style.save(fig, os.path.join(out, "bridge.png"))
    md.append("")


def main(args):
    """scripts/polarize_report: args from cli.polarize_parser()."""
    out = args.out or os.path.join(args.dir, "report")
    runs, skipped = find_runs(args.dir, exclude=out)
    runs.sort(key=lambda r: r.name)
    report_skipped("polarize_report", skipped)
    if not runs:
        print(f"polarize_report: no run directory below {args.dir}", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    md = [f"# Polarisation report: {args.dir}\n"]
    pol = [r for r in runs if r.config.get("command") == "polarize"]
    sweep = [r for r in pol if re.fullmatch(r"(flow|const|init)_T\d+", r.name)]
    toy = [r for r in pol if r not in sweep]
    train = [r for r in runs if r.config.get("command") != "polarize"]
    if toy:
        report_toy(toy, out, md)
    if sweep:
        report_T_sweep(sweep, out, md)
    if train:
        report_bridge(train, out, md)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    print(f"polarize_report: {len(runs)} runs -> {out}")
    return 0
