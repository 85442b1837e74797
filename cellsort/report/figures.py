"""The report's plots: pure functions from numbers to matplotlib figures (Agg, no screen)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import confusion_matrix, roc_curve  # noqa: E402

from cellsort.metrics import softmax  # noqa: E402


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (110 dpi); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def learning_curves(history: list[dict], title: str):
    """Training loss and validation accuracy (and AUC where recorded) per epoch."""
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8, 3))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title=f"{title}: loss")
    ax_acc.plot(epochs, [h["val_accuracy"] for h in history], "o-", label="val accuracy")
    if all("val_auc" in h for h in history):
        ax_acc.plot(epochs, [h["val_auc"] for h in history], "s--", label="val AUC")
    best = int(np.argmax([h["val_accuracy"] for h in history]))
    ax_acc.axvline(epochs[best], color="grey", lw=0.8, ls=":", label=f"best (epoch {epochs[best]})")
    ax_acc.set(xlabel="epoch", ylabel="validation", title=f"{title}: validation")
    ax_acc.legend(fontsize=7)
    fig.tight_layout()
    return fig


def confusion(labels: np.ndarray, logits: np.ndarray, class_names, title: str):
    """Confusion matrix (counts, with row percentages) of argmax predictions."""
    k = len(class_names)
    cm = confusion_matrix(labels, np.asarray(logits).argmax(axis=1), labels=range(k))
    rows = np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.1 * k + 1.8, 1.1 * k + 1.2))
    ax.imshow(cm / rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{cm[i, j]}\n{100 * cm[i, j] / rows[i, 0]:.0f}%", ha="center",
                    va="center", fontsize=8, color="white" if cm[i, j] / rows[i, 0] > 0.6 else "black")
    ax.set_xticks(range(k), class_names)
    ax.set_yticks(range(k), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def roc(labels: np.ndarray, logits: np.ndarray, class_names, title: str):
    """ROC curve of class 1 vs 0 (two classes) or of each class against the rest."""
    probs = softmax(logits)
    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    classes = [1] if probs.shape[1] == 2 else range(probs.shape[1])
    for c in classes:
        positive = np.asarray(labels) == c
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, probs[:, c])
        ax.plot(fpr, tpr, label=class_names[c] + (" vs rest" if probs.shape[1] > 2 else
                                                  f" vs {class_names[0]}"))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def class_counts(counts: dict[str, dict[str, int]], title: str):
    """Grouped bars: images per class in each split."""
    parts = list(counts)
    names = sorted({n for part in counts.values() for n in part})
    fig, ax = plt.subplots(figsize=(5, 3))
    width = 0.8 / max(1, len(parts))
    for i, part in enumerate(parts):
        x = np.arange(len(names)) + i * width
        bars = ax.bar(x, [counts[part].get(n, 0) for n in names], width, label=part)
        ax.bar_label(bars, fontsize=7)
    ax.set_xticks(np.arange(len(names)) + width * (len(parts) - 1) / 2, names)
    ax.set(ylabel="images", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def latency_layers(per_tool: dict[str, dict], budget_us: float, title: str):
    """Per-layer latency (µs, when each stage's last word leaves) per tool, the total's band
    and the budget."""
    fig, axes = plt.subplots(1, len(per_tool), figsize=(4.6 * len(per_tool), 3.4), squeeze=False)
    for ax, (tool, rep) in zip(axes[0], per_tool.items()):
        clock = rep["clock_mhz"]
        layers = rep["per_layer"]
        own = [row["own_cycles"] / clock for row in layers]
        y = np.arange(len(layers))
        ax.barh(y, own, color="tab:blue", label="own latency")
        ax.scatter([row["done"] / clock for row in layers], y, color="tab:orange", zorder=3,
                   s=12, label="last word out")
        ax.axvspan(rep["total_us_low"], rep["total_us_high"], color="tab:green", alpha=0.2,
                   label=f"band {rep['total_us_low']:.1f}-{rep['total_us_high']:.1f} µs")
        ax.axvline(budget_us, color="tab:red", ls="--", label=f"budget {budget_us:g} µs")
        ax.set_yticks(y, [row["name"] for row in layers], fontsize=7)
        ax.invert_yaxis()
        ax.set(xlabel="µs", title=f"{tool}: {rep['total_us']:.2f} µs, {rep['verdict']}")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def resources_vs_capacity(used: dict[str, int], capacity: dict[str, int] | None, title: str):
    """Fraction of the part used per resource (bars), or the raw counts without a capacity."""
    names = [n for n in ("lut", "ff", "dsp", "bram18") if n in used]
    fig, ax = plt.subplots(figsize=(5, 2.8))
    if capacity:
        frac = [100 * used[n] / capacity[n] for n in names]
        bars = ax.barh(names, frac, color=["tab:red" if f > 100 else "tab:blue" for f in frac])
        ax.bar_label(bars, [f"{used[n]:,} / {capacity[n]:,}" for n in names], fontsize=7, padding=3)
        ax.axvline(100, color="tab:red", ls="--")
        ax.set(xlabel="% of the part", xlim=(0, max(110, max(frac) * 1.35)))
    else:
        bars = ax.barh(names, [used[n] for n in names])
        ax.bar_label(bars, fontsize=7)
        ax.set(xlabel="count (no capacity known for this part)")
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def purity_recovery_curve(curve: dict[str, list], gate: dict, title: str):
    """Recovery against purity over thresholds, with the chosen gate marked."""
    fig, ax = plt.subplots(figsize=(4, 3.4))
    ax.plot(curve["recovery"], curve["purity"], "-", lw=1.2)
    if gate.get("recovery") is not None and gate.get("purity") is not None:
        ax.plot([gate["recovery"]], [gate["purity"]], "o", color="tab:red",
                label=f"gate margin > {gate['threshold']:.3g}")
    ax.axhline(gate["min_purity"], color="grey", ls=":", lw=0.8, label=f"min purity {gate['min_purity']:g}")
    ax.set(xlabel="recovery", ylabel="purity", title=title, ylim=(0, 1.02), xlim=(0, 1.02))
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def stage_histograms(stage_us: dict[str, np.ndarray], title: str):
    """Histogram of each stage's per-cell latency (µs, log scale) with p50 and p99 marked."""
    stages = [s for s, v in stage_us.items() if len(v)]
    fig, axes = plt.subplots(1, len(stages), figsize=(3 * len(stages), 2.6), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        v = np.asarray(stage_us[stage], np.float64)
        v = v[np.isfinite(v) & (v > 0)]
        if not len(v):
            continue
        wide = v.max() / v.min() > 20  # log axis only where values span decades
        bins = (np.logspace(np.log10(v.min()), np.log10(v.max()) + 1e-9, 30) if wide
                else np.linspace(v.min(), v.max() + 1e-9, 30))
        ax.hist(v, bins=bins, color="tab:blue")
        if wide:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        for q, ls in ((50, "-"), (99, "--")):
            ax.axvline(np.percentile(v, q), color="tab:red", ls=ls, lw=0.9,
                       label=f"p{q} {np.percentile(v, q):.0f} µs")
        ax.set(xlabel="µs", title=stage)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def decisions_over_time(times: np.ndarray, classes: list[str], sort: np.ndarray, title: str,
                        time_label: str):
    """Cumulative decisions per class and cumulative sorted cells against time."""
    fig, ax = plt.subplots(figsize=(6, 3))
    times, classes, sort = np.asarray(times, np.float64), np.asarray(classes), np.asarray(sort, bool)
    order = np.argsort(times, kind="stable")
    times, classes, sort = times[order], classes[order], sort[order]
    for name in sorted(set(classes)):
        hit = classes == name
        ax.step(times[hit], np.arange(1, hit.sum() + 1), where="post", label=f"decided {name}")
    ax.step(times[sort], np.arange(1, sort.sum() + 1), where="post", color="black", ls="--",
            label="sort pulses")
    ax.set(xlabel=time_label, ylabel="cells (cumulative)", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def score_histograms(scores: dict[str, np.ndarray], title: str):
    """Histogram of each ``ml_score_???`` feature over the recording's events."""
    fig, ax = plt.subplots(figsize=(5, 3))
    for name, v in scores.items():
        ax.hist(np.asarray(v, np.float64), bins=np.linspace(0, 1, 26), alpha=0.55, label=name)
    ax.set(xlabel="score (probability)", ylabel="events", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def frontier(points: list[dict], budget_us: float, title: str):
    """Test accuracy against latency of candidate designs, each with the evidence it has.

    ``points``: dicts with ``label``, ``accuracy``, ``hls`` (tool -> ``(us, low, high)``, drawn
    as a square with the calibrated band as a horizontal bar), ``rtl_us`` (measured in RTL
    simulation, a filled circle), ``role`` (``"reference"``, ``"recommended"`` or ``""``) and
    ``tag`` (words after the label). The first point is the reference: the published latency is a
    dashed line, and a star marks it at the reference's accuracy on this data.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    tools = sorted({tool for p in points for tool in p["hls"]})
    colours = dict(zip(tools, ["#457b9d", "#a8dadc", "#6d597a", "#b56576"]))
    for k, p in enumerate(points):
        for tool, (us, low, high) in p["hls"].items():
            ax.errorbar(us, p["accuracy"], xerr=[[us - low], [high - us]], fmt="s", ms=5, capsize=3,
                        color=colours[tool], alpha=0.9)
        if p.get("rtl_us") is not None:
            ring = {"recommended": dict(mec="#2a9d3f", mew=2.5), "reference": dict(mec="black", mew=1.5)}
            ax.plot(p["rtl_us"], p["accuracy"], "o", ms=8, color="#e63946", **ring.get(p["role"], {}))
        anchor = min([v[0] for v in p["hls"].values()] + ([p["rtl_us"]] if p.get("rtl_us") is not None else []))
        name = p["label"] + (f" ({p['tag']})" if p.get("tag") else "")
        ax.annotate(name, (anchor, p["accuracy"]), textcoords="offset points", xytext=(4, 7 if k % 2 == 0 else -13),
                    fontsize=7, fontweight="bold" if p["role"] == "recommended" else "normal")
    ax.axvline(budget_us, color="#c1121f", ls="--", lw=1)
    if points:
        ax.plot(budget_us, points[0]["accuracy"], "*", ms=13, color="#c1121f")
    handles = [plt.Line2D([], [], ls="", marker="s", color=colours[t], label=f"HLS model, {t} (band)")
               for t in tools]
    handles += [plt.Line2D([], [], ls="", marker="o", color="#e63946", label="RTL simulation (measured)"),
                plt.Line2D([], [], ls="--", marker="*", ms=10, color="#c1121f",
                           label=f"published {budget_us:g} µs at the reference's accuracy here")]
    ax.legend(handles=handles, fontsize=7, loc="best")
    ax.set_xscale("log")
    for axis_format in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
        axis_format(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set(xlabel="latency, µs (crop's first pixel to class; log scale)", ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig
