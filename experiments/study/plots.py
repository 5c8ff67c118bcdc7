"""The study's plots (pyplot-free `Figure`s: no backend is switched).

matplotlib (the `experiments` extra) is imported when a plot is drawn, so
the arms run where it is not installed (the no-TensorFlow environment)."""

import numpy as np

from study.tables import training_clock


def _figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def plot_loss_vs_time(results, path):
    """Held-out loss vs training seconds per arm: the mean over seeds with
    a band from the lowest to the highest seed."""
    figure = _figure(figsize=(8, 5))
    ax = figure.subplots()
    for arm, runs in results.items():
        histories = [np.array(training_clock(r), float) for r in runs]
        length = min(len(h) for h in histories)
        seconds = np.mean([h[:length, 1] for h in histories], axis=0)
        losses = np.array([h[:length, 2] for h in histories])
        ax.plot(seconds, losses.mean(axis=0), marker="o", label=f"{arm} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(seconds, losses.min(axis=0), losses.max(axis=0), alpha=0.2)
    ax.set(xlabel="training seconds (steps x median step time)",
           ylabel="held-out MLM loss (full model)",
           title="Held-out loss vs wall-clock, mean and range over seeds")
    ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_importance_evolution(snapshots_path, path, count=8):
    """The importance of the `count` ids that moved most, and the spread
    of the table over the ids it has seen, at each snapshot
    (`study.run.ImportanceSnapshots`)."""
    data = np.load(snapshots_path)
    steps, tables = data["steps"], data["tables"]
    initial = tables[0].max()
    moved = np.abs(tables[-1] - initial)
    figure = _figure(figsize=(11, 4.5))
    left, right = figure.subplots(1, 2)
    for token_id in np.argsort(-moved)[:count]:
        left.plot(steps, tables[:, token_id], marker=".", label=f"id {token_id}")
    left.set(xlabel="step", ylabel="importance", title=f"{count} ids that moved most")
    left.legend(fontsize=7)
    for q in (10, 50, 90):
        values = [np.percentile(t[t != initial], q) if (t != initial).any() else initial for t in tables]
        right.plot(steps, values, marker=".", label=f"{q}th percentile")
    right.set(xlabel="step", ylabel="importance", title="table over the ids updated so far")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_importance(table_path, path, count=20):
    """The `count` most and least important tokens of an importance table
    (`importance.tsv`), of those predicted at least once."""
    with open(table_path) as file:
        rows = [line.split("\t") for line in file.read().splitlines()[1:]]
    seen = [(token, float(value)) for token, value, times in rows if int(times) > 0]
    figure = _figure(figsize=(11, 6))
    axes = figure.subplots(1, 2)
    for ax, tokens, title in (
        (axes[0], seen[:count], f"{count} most important (hardest) tokens"),
        (axes[1], seen[-count:], f"{count} least important (easiest) tokens"),
    ):
        values = [v for _, v in tokens][::-1]
        ax.barh([t for t, _ in tokens][::-1], values)
        # Zoom in: the table moves slowly away from its initial 10.0.
        margin = 0.05 * (max(values) - min(values)) + 1e-3
        ax.set_xlim(min(values) - margin, max(values) + margin)
        ax.set(title=title, xlabel="importance (EMA of MLM loss)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
