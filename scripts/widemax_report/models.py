"""Model names from experiments/models.tsv, the repository's one table of them.

The runners choose a model by name and pass its flags to `widemax train`; a report goes the other
way and names a run from its config.json: a table row matches when every --key value of its flags
equals the config's key (dashes as underscores), and the row with the most flags wins. The table's
order is the order (and colour) of the models in every report.

What it deliberately does not do: know any model name itself. A config that no row matches is
named from its activation (plus the values of the keys the activation's rows look at, e.g.
"softmax-<scale>"), so a new model is reported under a name of its own instead of being dropped.
"""
import os

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                     "experiments", "models.tsv")


def parse_flags(text):
    """'--activation softmax --scale m' -> {'activation': 'softmax', 'scale': 'm'}; a flag with
    no value is True (as config.json records a switch)."""
    words, flags, i = text.split(), {}, 0
    while i < len(words):
        key = words[i].lstrip("-").replace("-", "_")
        if i + 1 < len(words) and not words[i + 1].startswith("--"):
            flags[key], i = words[i + 1], i + 2
        else:
            flags[key], i = True, i + 1
    return flags


def load_table(path=TABLE):
    """[(name, flags dict)] in the table's order."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                cols = line.rstrip("\n").split("\t")
                rows.append((cols[0], parse_flags(cols[1] if len(cols) > 1 else "")))
    return rows


MODELS = load_table()
ORDER = [name for name, _ in MODELS]


def model_name(cfg):
    best, best_n = None, -1
    for name, flags in MODELS:
        if all(cfg.get(k) == v for k, v in flags.items()) and len(flags) > best_n:
            best, best_n = name, len(flags)
    if best is not None:
        return best
    act = cfg.get("activation", "?")
    keys = sorted({k for _, flags in MODELS if flags.get("activation") == act for k in flags}
                  - {"activation"})
    return "-".join([act] + [str(cfg.get(k)) for k in keys])


def model_key(model):
    """Sort key: the table's models in its order, then any others by name."""
    return (ORDER.index(model), "") if model in ORDER else (len(ORDER), model)


def with_flags(**flags):
    """The first model of the table whose flags include these (e.g. scale="sqrt-m"), or None."""
    return next((name for name, f in MODELS if all(f.get(k) == v for k, v in flags.items())), None)
