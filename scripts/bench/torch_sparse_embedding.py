"""PyTorch CPU reference for baselines/benches/sparse_embedding.rs.

Same shapes: 26,624 lookups of d=16 per step into tables of 10k, 1M and 4M rows, ids
uniform at random, loss = mean(x * r) with a fixed random r (constant-size
gradients; see the Rust bench for why not a mean of squares); lookup + backward +
optimizer step per iteration. Both sparse=True + SparseAdam and dense Adam.

    pip install torch   # not a dependency of recbench
    python3 scripts/bench/torch_sparse_embedding.py
"""
import time

import torch

torch.set_num_threads(2)
LOOKUPS, DIM = 26_624, 16


def bench(rows, sparse, steps):
    emb = torch.nn.Embedding(rows, DIM, sparse=sparse)
    opt = torch.optim.SparseAdam(emb.parameters(), lr=1e-3) if sparse else torch.optim.Adam(emb.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, rows, (LOOKUPS,), generator=g) for _ in range(16)]
    r = torch.rand(LOOKUPS, DIM, generator=g) * 2 - 1
    times = []
    for i in range(steps + 3):
        t = time.perf_counter()
        opt.zero_grad()
        loss = (emb(batches[i % 16]) * r).mean()
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t)
    times.sort()
    return 1000 * times[len(times) // 2]


for rows in (10_000, 1_000_000, 4_000_000):
    print(f"rows={rows:>9}  sparse+SparseAdam {bench(rows, True, 200):7.2f} ms/step (median)"
          f"  dense Adam {bench(rows, False, 10 if rows > 100_000 else 40):8.2f} ms/step")
