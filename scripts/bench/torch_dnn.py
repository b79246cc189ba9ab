"""PyTorch CPU reference for the DNN train step in baselines/benches/train_step.rs.

Same shapes: batch 1024, 7 sparse fields (vocabularies 2000, 1000, 200, 20, 10, 10,
10) in one table with per-field offsets, embedding dim 16, 2 dense fields,
MLP 114 -> 128 -> 64 -> 1 with ReLU, BCE with logits, Adam lr 1e-3 for dense
parameters and (a) SparseAdam on a sparse embedding, (b) dense Adam on the embedding.

    pip install torch   # not a dependency of recbench
    python3 scripts/bench/torch_dnn.py
"""
import time

import torch

torch.set_num_threads(2)
VOCABS = [2000, 1000, 200, 20, 10, 10, 10]
B, D = 1024, 16


class Dnn(torch.nn.Module):
    def __init__(self, sparse):
        super().__init__()
        self.emb = torch.nn.Embedding(sum(VOCABS), D, sparse=sparse)
        self.register_buffer("offsets", torch.tensor([sum(VOCABS[:i]) for i in range(len(VOCABS))]))
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(len(VOCABS) * D + 2, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))

    def forward(self, ids, dense):
        e = self.emb(ids + self.offsets).reshape(ids.shape[0], -1)
        return self.mlp(torch.cat([e, dense], dim=1)).squeeze(1)


def bench(sparse, steps=200):
    g = torch.Generator().manual_seed(0)
    ids = torch.stack([torch.randint(0, v, (B,), generator=g) for v in VOCABS], dim=1)
    dense = torch.rand(B, 2, generator=g) * 2 - 1
    y = (torch.rand(B, generator=g) < 0.15).float()
    m = Dnn(sparse)
    if sparse:
        opts = [torch.optim.SparseAdam([m.emb.weight], lr=1e-3), torch.optim.Adam(m.mlp.parameters(), lr=1e-3)]
    else:
        opts = [torch.optim.Adam(m.parameters(), lr=1e-3)]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    times = []
    for i in range(steps + 10):
        t = time.perf_counter()
        for o in opts:
            o.zero_grad()
        loss = loss_fn(m(ids, dense), y)
        loss.backward()
        for o in opts:
            o.step()
        if i >= 10:
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    return 1000 * med, B / med


for sparse in (True, False):
    ms, eps = bench(sparse)
    print(f"DNN train step, {'sparse emb + SparseAdam' if sparse else 'dense emb + Adam     '}: {ms:6.3f} ms/step (median), {eps:,.0f} examples/s")
