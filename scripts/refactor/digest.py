"""Helpers of same-records.sh.

digest.py TASKS_DIR OUT_DIR   writes the short synthetic tasks
digest.py --digest RESULTS    prints the comparable part of every record under RESULTS
"""
import json
import pathlib
import sys

SHORT = {
    "synth-ctr": {"dataset.config.events": 60000, "train.max_epochs": 2},
    "synth-seq": {"dataset.config.n_users": 600, "train.max_epochs": 2, "train.min_epochs": 0},
    "synth-gen": {"dataset.config.n_users": 300, "train.max_epochs": 2},
}


def put(d, dotted, value):
    *path, last = dotted.split(".")
    for k in path:
        d = d[k]
    d[last] = value


def write_tasks(src, out):
    for name, changes in SHORT.items():
        spec = json.loads((pathlib.Path(src) / f"{name}.json").read_text())
        spec["name"] = f"{name}-short"
        for k, v in changes.items():
            put(spec, k, v)
        (pathlib.Path(out) / f"{name}-short.json").write_text(json.dumps(spec, indent=1))


def digest(root):
    out = {}
    for p in sorted(pathlib.Path(root).rglob("seed-*.json")):
        r = json.loads(p.read_text())
        cost = r["cost"]
        out[f"{r['task']}/{r['model']}/{r['seed']}"] = {
            "status": r["status"],
            "error": r["error"],
            "metrics": r["metrics"],
            "valid_metrics": r["valid_metrics"],
            "trivial_metrics": r["trivial_metrics"],
            "oracle_metrics": r["oracle_metrics"],
            "best_epoch": r["best_epoch"],
            "rows": r["rows"],
            "curve": [{k: v for k, v in c.items() if k != "seconds"} for c in r["curve"]],
            "cost": {k: cost.get(k) for k in (
                "params_dense", "params_embedding", "param_bytes", "optimizer_state_bytes",
                "serving_bytes", "embedding_values_used", "forward_flops_per_example",
                "backward_flops_per_example", "optimizer_flops_per_example",
                "train_flops_per_example", "flops_by_kind")},
        }
    return out


if __name__ == "__main__":
    if sys.argv[1] == "--digest":
        print(json.dumps(digest(sys.argv[2]), indent=1, sort_keys=True))
    else:
        write_tasks(sys.argv[1], sys.argv[2])
