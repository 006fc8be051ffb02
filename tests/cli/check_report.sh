#!/usr/bin/env bash
# End-to-end test of the width-sweep tooling on real runs: experiments/width_sweep.sh trains a tiny
# sweep with the real widemax binary under mpirun (2 ranks: softmax sqrt-m and relu, widths 256
# and 4096, seed 0, 60 steps, NTK every 20), one more real run diverges on purpose (a failed run:
# config.json but no summary.json, one directory deeper), and then the report script runs on the
# sweep directory. Independent Python (json, numpy) checks what it wrote:
#   - results.csv, results.md, slopes.csv and the four PNGs exist, the PNGs start with the PNG
#     signature, declare >= 150 dpi and have a PDF beside them; the CSV has exactly one row per
#     (model, width), with n_runs 1 and the final loss and NTK drift of the run's own
#     summary.json; the failed run is reported as skipped;
#   - the slopes of ln(ntk_drift) and ln(w_drift_max) vs ln(width) in slopes.csv equal
#     numpy.polyfit on the runs' summary.json files (to 1e-9);
#   - for softmax sqrt-m, the NTK drift at width 4096 is below the drift at width 256 (NTK theory;
#     measured with seeds 0..7 at these sizes: ratio 0.08..0.50, seed 0: 0.19);
#   - the report exits non-zero, with a message, on a directory without runs.
# It does not check the plots' content, nor numbers against a stored reference.
# Usage: check_report.sh WIDEMAX REPORT_SCRIPT
set -euo pipefail
widemax=$1
report=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sweep_script=$here/../../experiments/width_sweep.sh
[[ -x $sweep_script ]] || { echo "FAIL: no executable $sweep_script" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sweep=$tmp/sweep

WIDEMAX=$widemax WIDTHS="256 4096" MODELS="softmax-sqrtm relu" SEEDS=0 STEPS=60 NTK_EVERY=20 \
  RANKS=2 THREADS=1 TIMEOUT=60 REPORT=0 "$sweep_script" "$sweep"

# A real failed run: gradient descent diverges at step 1 and widemax exits non-zero.
if timeout -k 5 60 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 \
    -x OMP_NUM_THREADS=1 "$widemax" train --activation exp --lr 1e4 --width 64 --n 16 \
    --steps 50 --quiet --out "$sweep/failed/exp_diverged" >"$tmp/diverged.log" 2>&1; then
  echo "FAIL: the diverging run succeeded" >&2; exit 1
fi
[[ -f $sweep/failed/exp_diverged/config.json && ! -f $sweep/failed/exp_diverged/summary.json ]] \
  || { echo "FAIL: the diverged run should leave config.json and no summary.json" >&2; exit 1; }

timeout -k 5 120 /usr/bin/python3 "$report" "$sweep" >"$tmp/report.out" 2>"$tmp/report.err" \
  || { cat "$tmp/report.out" "$tmp/report.err" >&2; echo "FAIL: report exited non-zero" >&2; exit 1; }
cat "$tmp/report.out"

mkdir "$tmp/empty"
if /usr/bin/python3 "$report" "$tmp/empty" >"$tmp/empty.out" 2>&1; then
  echo "FAIL: report succeeded on a directory without runs" >&2; exit 1
fi
grep -q "no run found" "$tmp/empty.out" || { cat "$tmp/empty.out" >&2; echo "FAIL: no clear message" >&2; exit 1; }

/usr/bin/python3 - "$sweep" "$tmp/report.err" <<'PY'
import csv, glob, json, math, os, sys
import numpy as np

sweep, err_file = sys.argv[1], sys.argv[2]
out = os.path.join(sweep, "report")

def fail(msg):
    sys.exit(f"FAIL: {msg}")

def png_dpi(path):
    """The resolution a PNG declares (its pHYs chunk, pixels per metre), or None."""
    data = open(path, "rb").read()
    i = data.find(b"pHYs")
    if i < 0:
        return None
    ppm = int.from_bytes(data[i + 4:i + 8], "big")
    return ppm * 0.0254 if data[i + 12] == 1 else None

for name in ("results.csv", "results.md", "slopes.csv"):
    if not os.path.isfile(os.path.join(out, name)) or os.path.getsize(os.path.join(out, name)) == 0:
        fail(f"{name} missing or empty")
for name in ("final_loss_vs_width.png", "ntk_drift_vs_width.png", "loss_curves.png",
             "lambda_min_vs_width.png"):
    path = os.path.join(out, name)
    if not os.path.isfile(path):
        fail(f"{name} missing")
    with open(path, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n" or os.path.getsize(path) < 5000:
        fail(f"{name} is not a PNG image ({head!r}, {os.path.getsize(path)} bytes)")
    dpi = png_dpi(path)
    if dpi is None or dpi < 150:
        fail(f"{name}: {dpi} dpi, a paper needs >= 150")
    pdf = path[:-4] + ".pdf"
    if not os.path.isfile(pdf) or open(pdf, "rb").read(5) != b"%PDF-":
        fail(f"no PDF beside {name}")

# The runs, read independently from their own files.
runs = {}
for summ_path in glob.glob(os.path.join(sweep, "**", "summary.json"), recursive=True):
    d = os.path.dirname(summ_path)
    cfg = json.load(open(os.path.join(d, "config.json")))
    summ = json.load(open(summ_path))
    model = cfg["activation"] if cfg["activation"] != "softmax" else \
        {"m": "softmax-m", "sqrt-m": "softmax-sqrtm"}[cfg["scale"]]
    runs[(model, summ["width"])] = summ
expected = {("softmax-sqrtm", 256), ("softmax-sqrtm", 4096), ("relu", 256), ("relu", 4096)}
if set(runs) != expected:
    fail(f"runs found {sorted(runs)}, expected {sorted(expected)}")

rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
keys = [(r["model"], int(r["width"])) for r in rows]
if sorted(keys) != sorted(expected) or len(keys) != len(set(keys)):
    fail(f"results.csv rows {keys}, expected one per {sorted(expected)}")
for r in rows:
    s = runs[(r["model"], int(r["width"]))]
    if int(r["n_runs"]) != 1:
        fail(f"n_runs {r['n_runs']} for {r['model']} {r['width']}")
    for col, val in (("final_loss_mean", s["final_loss"]), ("ntk_drift_mean", s["ntk_drift"]),
                     ("lambda_min_0_mean", s["ntk"]["lambda_min_0"])):
        if not math.isclose(float(r[col]), val, rel_tol=1e-12):
            fail(f"{col} of {r['model']} {r['width']}: csv {r[col]}, summary.json {val}")

slopes = {(r["model"], r["quantity"]): float(r["slope"])
          for r in csv.DictReader(open(os.path.join(out, "slopes.csv")))}
for model in ("softmax-sqrtm", "relu"):
    for q in ("ntk_drift", "w_drift_max"):
        ws = [w for (m, w) in runs if m == model]
        x = np.log(ws)
        y = np.log([runs[(model, w)][q] for w in ws])
        ref = np.polyfit(x, y, 1)[0]
        got = slopes.get((model, q))
        if got is None or abs(got - ref) > 1e-9:
            fail(f"slope of ln({q}) vs ln(width) for {model}: slopes.csv {got}, numpy {ref}")
md = open(os.path.join(out, "results.md")).read()
if f"{slopes[('softmax-sqrtm', 'ntk_drift')]:.3f}" not in md:
    fail("results.md does not show the softmax-sqrtm drift slope")

small, large = runs[("softmax-sqrtm", 256)]["ntk_drift"], runs[("softmax-sqrtm", 4096)]["ntk_drift"]
if not large < small:
    fail(f"softmax sqrt-m: NTK drift at width 4096 ({large}) is not below width 256 ({small})")

err = open(err_file).read()
if "exp_diverged" not in err or "no summary.json" not in err:
    fail(f"the failed run was not reported as skipped: {err!r}")
if "exp_diverged" not in md:
    fail("results.md does not list the skipped run")

print(f"ok: report on a real 4-run sweep + 1 failed run: 4 rows, slopes match numpy.polyfit "
      f"(softmax-sqrtm drift slope {slopes[('softmax-sqrtm', 'ntk_drift')]:.3f}, relu "
      f"{slopes[('relu', 'ntk_drift')]:.3f}), softmax-sqrtm NTK drift {small:.3g} (m=256) > "
      f"{large:.3g} (m=4096), 4 valid PNGs")
PY
