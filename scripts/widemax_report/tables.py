"""Numbers into tables: formatting, CSV and markdown writing, mean/std and log-log fits shared by
the reports.

What it deliberately does not do: choose columns or round numbers for a report; each report says
which columns it writes and with which format, so their files stay as they were.
"""
import csv
import math

import numpy as np


def fmt(x, spec=".3g"):
    """A table cell: "" for a missing value (None or NaN), floats with spec, others with str."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return format(x, spec) if isinstance(x, float) else str(x)


def write_csv(path, header, rows):
    """One CSV row per dict, the header's keys in order; a missing key or None is an empty cell,
    and floats are written in full (repr) so that a test can compare them exactly."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow(["" if row.get(h) is None else
                        (repr(float(row[h])) if isinstance(row[h], float) else row[h])
                        for h in header])


def md_table(rows, keys, spec=None, default=".4g"):
    """A markdown table of the dicts, one column per key, headers = keys; floats formatted with
    spec[key] or the default."""
    spec = spec or {}
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        out.append("| " + " | ".join(fmt(r.get(k), spec.get(k, default)) for k in keys) + " |")
    return "\n".join(out)


def mean_std(values):
    """Mean and sample standard deviation (ddof 1) of the values that are not None; (None, None)
    without any, std None with one."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return None, None
    return float(v.mean()), (float(v.std(ddof=1)) if len(v) > 1 else None)


def loglog_fit(points):
    """Least-squares line ln y = slope ln x + intercept over the (x, y) points (every point one
    sample, so several seeds at one width all count), with the slope's standard error. None with
    fewer than two distinct x; points with y <= 0 must be left out by the caller."""
    xs = sorted({x for x, _ in points})
    if len(xs) < 2:
        return None
    x = np.log([p for p, _ in points])
    y = np.log([v for _, v in points])
    slope, intercept = np.polyfit(x, y, 1)
    stderr = None
    if len(x) > 2:
        resid = y - (slope * x + intercept)
        stderr = float(math.sqrt(resid @ resid / (len(x) - 2) / np.sum((x - x.mean()) ** 2)))
    return {"slope": float(slope), "intercept": float(intercept), "slope_stderr": stderr,
            "n_points": len(points), "n_widths": len(xs), "width_min": xs[0], "width_max": xs[-1]}
