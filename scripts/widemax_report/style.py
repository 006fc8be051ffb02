"""Plot plumbing shared by the reports: the headless matplotlib import, the models' colours and
saving a figure.

What it deliberately does not do (yet): restyle the figures. Sizes, dpi and colours are the ones
the reports have always used, so their PNGs are unchanged; a common figure style belongs here when
the figures change on purpose.
"""
import os

from . import models

# Colours of the models in the order of experiments/models.tsv, then for any other model.
PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
           "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed). Raises ImportError without
    matplotlib; the caller decides whether the tables go on without plots."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def model_colors(names):
    """A colour per model: a table model keeps its own colour whichever models are plotted, the
    others take the next free colours in order, then black."""
    known = {m: PALETTE[i] for i, m in enumerate(models.ORDER) if i < len(PALETTE)}
    extra = iter(PALETTE[len(known):])
    return {m: known.get(m) or next(extra, "black") for m in names}


def save(fig, path, dpi):
    plt = pyplot()
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return os.path.basename(path)
