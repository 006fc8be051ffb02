#!/usr/bin/env bash
# A tiny real score-vs-width sweep through experiments/score_vs_width.sh (2 widths x 2 seeds, a
# few steps), then scripts/plot_diffusion: its per-width means and standard deviations of the score
# error (overall and per bucket) against numpy over the runs' own summary.json files, its
# log-log slope against numpy.polyfit, an unfinished run directory listed and skipped, and every
# plot written (the sweep's and the single run's) as a PNG of >= 150 dpi with a PDF beside it.
set -eu
widemax=$1 repo=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sweep/unfinished"
echo '{}' >"$tmp/sweep/unfinished/config.json"
WIDEMAX=$widemax WIDTHS="64 256" SEEDS="0 1" STEPS=40 N=128 SAMPLES=200 SAMPLE_STEPS=20 \
  EXTRA_ARGS="--eval-n 256 --log-every 20" RANKS=2 TIMEOUT=120 \
  bash "$repo/experiments/score_vs_width.sh" "$tmp/sweep" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
grep -q "skipped $tmp/sweep/unfinished: no summary.json" "$tmp/log" || { cat "$tmp/log"; exit 1; }
/usr/bin/python3 - "$tmp/sweep" <<'PY'
import csv, json, math, os, re, sys
import numpy as np
sweep = sys.argv[1]
rep = f"{sweep}/report"
for f in ("results.csv", "results.md", "score_error_vs_width.png", "w256/samples.png",
          "w256/score_error_vs_t.png", "w256/training.png"):
    assert os.path.getsize(f"{rep}/{f}") > 0, f
    if f.endswith(".png"):
        data = open(f"{rep}/{f}", "rb").read()
        i = data.find(b"pHYs")  # pixels per metre: a paper needs >= 150 dpi
        assert i > 0 and int.from_bytes(data[i + 4:i + 8], "big") * 0.0254 >= 150, f
        assert open(f"{rep}/{f[:-4]}.pdf", "rb").read(5) == b"%PDF-", f
rows = {int(r["width"]): r for r in csv.DictReader(open(f"{rep}/results.csv"))}
assert sorted(rows) == [64, 256], rows.keys()
xs, ys = [], []
for w, row in rows.items():
    ss = [json.load(open(f"{sweep}/w{w}_s{s}/summary.json")) for s in (0, 1)]
    e = np.array([s["score_rel_error"] for s in ss])
    assert int(row["runs"]) == 2
    assert math.isclose(float(row["score_rel_error_mean"]), e.mean(), rel_tol=1e-12)
    assert math.isclose(float(row["score_rel_error_std"]), e.std(ddof=1), rel_tol=1e-9)
    for b in range(8):
        eb = np.mean([s["score_rel_error_by_t"][b]["rel_error"] for s in ss])
        assert math.isclose(float(row[f"bucket{b}_mean"]), eb, rel_tol=1e-12), (w, b)
        ez = np.mean([s["score_rel_error_by_t"][b]["zero_network_rel_error"] for s in ss])
        assert math.isclose(float(row[f"zero_network_bucket{b}_mean"]), ez, rel_tol=1e-12), (w, b)
    xs += [math.log(w)] * 2
    ys += list(np.log(e))
slope = np.polyfit(xs, ys, 1)[0]
md = open(f"{rep}/results.md").read()
m = re.search(r"against ln\(width\), every run one point: (-?[0-9]+\.[0-9]+)", md)
assert m and abs(float(m.group(1)) - slope) < 1e-3, (m and m.group(1), slope)
print(f"ok: score error by width {[round(float(rows[w]['score_rel_error_mean']), 4) for w in (64, 256)]}, slope {slope:.3f}")
PY
