"""widemax_report: the tables and plots of widemax's run directories.

  runs.py       the one run loader (find run directories; read config.json, summary.json,
                metrics.jsonl), used by every report and by the experiment runners
  models.py     model names <-> widemax flags, from experiments/models.tsv
  tables.py     cell formatting, CSV and markdown, mean/std, log-log fits
  style.py      the one figure style: colours, markers, labels, axes, median + bootstrap
                interval, robust limits, problem-size titles, PNG + PDF
  width.py      scripts/report on a width sweep;  scaling.py  the same on a scaling sweep
  polarize.py   scripts/polarize_report;          diffusion.py  scripts/plot_diffusion
  cli.py        the three command lines and their --help

What it deliberately does not do: run widemax or change a run directory. The entry points are
scripts/report, scripts/polarize_report and scripts/plot_diffusion; importing this package needs
only the standard library, the report modules need numpy and matplotlib.
"""
