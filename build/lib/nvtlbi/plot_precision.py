"""Drawing the precision table (matplotlib, imported only here)."""


def plot(table, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    revs = list(dict.fromkeys(r["revision"] for r in table))
    keys = list(dict.fromkeys((r["host"], r["guest"], r["level"]) for r in table))
    labels = [f"{h}/{g}\nL{l}" for h, g, l in keys]
    by = {(r["revision"], r["host"], r["guest"], r["level"]): r for r in table}
    width = 0.8 / len(revs)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, len(keys) * 0.9), 8), sharex=True)
    for i, rev in enumerate(revs):
        xs = [k + (i - (len(revs) - 1) / 2) * width for k in range(len(keys))]
        rows = [by.get((rev, *k), {}) for k in keys]
        ax1.bar(xs, [100 * (r.get("exact_shadowed") or 0) for r in rows], width, label=rev)
        ax2.bar(xs, [r.get("median") or 0 for r in rows], width, label=f"{rev} median (simulated)")
        ax2.scatter(xs, [r.get("worst_solver") or float("nan") for r in rows], marker="v", color="k", s=14)
    ax1.set_ylabel("range == T (% of TLBIs\nwhose T had a shadow leaf)")
    ax1.legend(fontsize=8)
    ax2.set_yscale("log")
    ax2.set_ylabel("range / T size\n(bars: median, v: solver worst)")
    ax2.set_xticks(range(len(keys)))
    ax2.set_xticklabels(labels, fontsize=7)
    ax2.set_xlabel("host page / guest granule, level of T")
    fig.suptitle("Over-invalidation on unhinted TLBI IPAS2E1IS")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
