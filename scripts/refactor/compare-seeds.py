"""Compares the same cells of two result folders over seeds: per (task, model) the
mean and sample SD of a metric in each, the difference of the means, and Welch's
t-test of it (scipy.stats.ttest_ind, equal_var=False), Holm-corrected over the
comparisons. Used to check that a change meant to alter only the random draws
(per-parameter seeding) moved no result beyond seed-to-seed spread. Needs scipy
(pip install scipy); a development tool, not a test dependency.

    python3 scripts/refactor/compare-seeds.py OLD NEW [--metric auc] [--markdown]

OLD and NEW are folders searched for seed-*.json records; a task's primary metric is
used unless --metric names one (per task: --metric synth-seq=ndcg@10).
"""
import collections
import json
import pathlib
import statistics
import sys

from scipy import stats


def load(root):
    out = collections.defaultdict(list)
    for p in pathlib.Path(root).rglob("seed-*.json"):
        r = json.loads(p.read_text())
        if r["status"] != "ok":
            continue
        out[(r["task"], r["model"])].append(r)
    return out


def main(argv):
    old, new = load(argv[1]), load(argv[2])
    metric_for = {}
    default = None
    for a in argv[3:]:
        if a.startswith("--metric="):
            spec = a.split("=", 1)[1]
            if "=" in spec:
                t, m = spec.split("=")
                metric_for[t] = m
            else:
                default = spec
    markdown = "--markdown" in argv
    rows = []
    for key in sorted(set(old) & set(new)):
        task, model = key
        metric = metric_for.get(task) or default or old[key][0]["primary_metric"]
        a = [r["metrics"][metric] for r in old[key] if metric in r["metrics"]]
        b = [r["metrics"][metric] for r in new[key] if metric in r["metrics"]]
        if len(a) < 2 or len(b) < 2:
            continue
        sa, sb = statistics.stdev(a), statistics.stdev(b)
        d = statistics.mean(b) - statistics.mean(a)
        p = stats.ttest_ind(b, a, equal_var=False).pvalue if sa + sb > 0 else (1.0 if d == 0 else 0.0)
        rows.append([task, model, metric, len(a), statistics.mean(a), sa, len(b),
                     statistics.mean(b), sb, d, p])
    # Holm: the k-th smallest p times (m - k + 1), made monotone.
    order = sorted(range(len(rows)), key=lambda i: rows[i][10])
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, rows[i][10] * (len(rows) - k)))
        rows[i].append(running)
    for r in rows:
        r.append(r[11] >= 0.05)
    if markdown:
        print("| task | model | metric | before (n) | after (n) | Δ | Welch p | p (Holm) |")
        print("|---|---|---|---|---|---|---|---|")
        for t, m, k, na, ma, sa, nb, mb, sb, d, p, ph, w in rows:
            flag = "" if w else " **differs**"
            print(f"| {t} | {m} | {k} | {ma:.4f} ± {sa:.4f} ({na}) | {mb:.4f} ± {sb:.4f} ({nb}) "
                  f"| {d:+.4f} | {p:.3f} | {ph:.3f}{flag} |")
    else:
        for r in rows:
            print(*[f"{x:.4f}" if isinstance(x, float) else x for x in r])
    n_out = sum(1 for r in rows if not r[-1])
    print(f"\n{len(rows)} comparisons, {n_out} significant at 0.05 after Holm", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
