#!/usr/bin/env bash
# scripts/polarize_report on tiny real runs of the three polarisation experiments, made by
# experiments/polarize.sh under mpirun (2 ranks): toy (T = 8, 2000 steps: 9 runs), T-sweep
# (T = 10 and 100, 3000 flow-clock steps, plain GD for T = 10: 5 runs) and bridge (softmax-m at
# widths 4 and 16, 2 seeds, 100 steps: 4 runs). Independent Python (json, numpy) checks what the
# report wrote against the runs' own files:
#   - toy.csv: one row per toy run with its summary's final entropy, max_prob and loss;
#   - T_sweep.csv: tau_1/2 of each T from its flow run's summary; the winner's rank among the
#     initial <beta, v_j>, recomputed from init_T<T>/V.npy and beta.npy; T_sweep_slope.txt equals
#     numpy.polyfit of ln tau_1/2 on ln T;
#   - bridge.csv: per width the mean over seeds of the entropy at step 0 (first metrics line) and
#     of the change to the end;
#   - every plot (toy_entropy, asymptotics, T_sweep, bridge) is a PNG of >= 150 dpi with a PDF.
# Usage: check_polarize_report.sh WIDEMAX REPO
set -euo pipefail
widemax=$1 repo=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # run NAME EXPERIMENT KEY=VALUE...: one tiny experiment into $tmp/NAME, its report after
  local name=$1 exp=$2
  shift 2
  env WIDEMAX="$widemax" RANKS=2 THREADS=1 TIMEOUT=120 REPORT=0 "$@" \
    bash "$repo/experiments/polarize.sh" "$exp" "$tmp/$name" >"$tmp/$name.log" 2>&1 \
    || { cat "$tmp/$name.log" >&2; echo "FAIL: polarize.sh $exp" >&2; exit 1; }
  /usr/bin/python3 "$repo/scripts/polarize_report" "$tmp/$name" >"$tmp/$name.report" 2>&1 \
    || { cat "$tmp/$name.report" >&2; echo "FAIL: polarize_report on $exp" >&2; exit 1; }
}
run toy toy TS=8 STEPS=2000 LONG_STEPS=2000
run sweep T-sweep TS="10 100" STEPS=3000 CONST_STEPS=5000 CONST_MAX_T=10
run bridge bridge MODELS=softmax-m WIDTHS="4 16" SEEDS="0 1" STEPS=100 NTK_EVERY=50

/usr/bin/python3 - "$tmp" <<'PY'
import csv, json, math, os, sys
import numpy as np

tmp = sys.argv[1]

def fail(msg):
    sys.exit(f"FAIL: {msg}")

def summary(d):
    return json.load(open(os.path.join(d, "summary.json")))

def rows(path):
    return list(csv.DictReader(open(path)))

def close(a, b, rel=1e-12):
    return abs(float(a) - float(b)) <= rel * max(abs(float(a)), abs(float(b)), 1e-300)

def png_dpi(path):
    data = open(path, "rb").read()
    i = data.find(b"pHYs")
    return int.from_bytes(data[i + 4:i + 8], "big") * 0.0254 if i > 0 else None

toy = rows(f"{tmp}/toy/report/toy.csv")
names = sorted(n for n in os.listdir(f"{tmp}/toy") if os.path.isfile(f"{tmp}/toy/{n}/summary.json"))
if sorted(r["run"] for r in toy) != names or len(names) != 9:
    fail(f"toy.csv runs {sorted(r['run'] for r in toy)}, run directories {names}")
for r in toy:
    s = summary(f"{tmp}/toy/{r['run']}")
    for col, key in (("entropy", "entropy"), ("max_prob", "max_prob"), ("final_loss", "final_loss")):
        if not close(r[col], s[key]):
            fail(f"toy.csv {r['run']} {col} {r[col]}, summary.json {s[key]}")

sweep = {int(r["T"]): r for r in rows(f"{tmp}/sweep/report/T_sweep.csv")}
if sorted(sweep) != [10, 100]:
    fail(f"T_sweep.csv has T = {sorted(sweep)}")
taus = []
for T, r in sweep.items():
    s = summary(f"{tmp}/sweep/flow_T{T}")
    if not close(r["tau_half_flow"], s["flow_time_max_prob_half"]):
        fail(f"T = {T}: tau_half_flow {r['tau_half_flow']}, summary {s['flow_time_max_prob_half']}")
    V = np.load(f"{tmp}/sweep/init_T{T}/V.npy")
    beta = np.load(f"{tmp}/sweep/init_T{T}/beta.npy").reshape(-1)
    c0 = V @ beta
    rank = int(np.sum(c0 > c0[s["argmax"]])) + 1
    if int(r["winner_rank_c0"]) != rank:
        fail(f"T = {T}: winner rank {r['winner_rank_c0']}, numpy {rank}")
    if not s["flow_time_max_prob_half"] > 0:
        fail(f"T = {T}: the flow run did not reach max_prob 1/2; the test needs more steps")
    taus.append((T, s["flow_time_max_prob_half"]))
if not close(sweep[10]["tau_half_const"], summary(f"{tmp}/sweep/const_T10")["flow_time_max_prob_half"]):
    fail("T = 10: tau_half_const is not the plain-GD run's")
slope = np.polyfit(np.log([t for t, _ in taus]), np.log([v for _, v in taus]), 1)[0]
got = float(open(f"{tmp}/sweep/report/T_sweep_slope.txt").read().split()[0])
if not abs(got - slope) <= 1e-9:
    fail(f"T_sweep_slope.txt {got}, numpy.polyfit {slope}")

bridge = {int(r["width"]): r for r in rows(f"{tmp}/bridge/report/bridge.csv")}
for w in (4, 16):
    h0, h = [], []
    for s in (0, 1):
        d = f"{tmp}/bridge/softmax-m_w{w}_s{s}"
        h0.append(json.loads(open(f"{d}/metrics.jsonl").readline())["entropy"])
        h.append(summary(d)["entropy"])
    r = bridge.get(w)
    if r is None or not close(r["entropy_0"], np.mean(h0)) or \
            not close(r["change"], np.mean(np.array(h) - np.array(h0)), rel=1e-9):
        fail(f"bridge.csv width {w}: {r}, numpy entropy_0 {np.mean(h0)}, change "
             f"{np.mean(np.array(h) - np.array(h0))}")

for f in ("toy/report/toy_entropy", "toy/report/asymptotics", "sweep/report/T_sweep",
          "bridge/report/bridge"):
    png = f"{tmp}/{f}.png"
    if not os.path.isfile(png) or (png_dpi(png) or 0) < 150:
        fail(f"{f}.png missing or below 150 dpi ({png_dpi(png) if os.path.isfile(png) else None})")
    if open(f"{tmp}/{f}.pdf", "rb").read(5) != b"%PDF-":
        fail(f"no PDF beside {f}.png")
print(f"ok: polarize_report: 9 toy rows, T sweep tau_1/2 {[round(v, 1) for _, v in taus]} "
      f"(slope {slope:.3f}) and winner ranks match numpy, bridge entropies match, 4 plots as "
      "PNG + PDF")
PY
