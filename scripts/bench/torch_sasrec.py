"""PyTorch CPU reference for the SASRec train step in baselines/benches/sasrec.rs.

Same model and shapes: batch 128, max_len 50, d 64, 2 pre-norm blocks, 1 head,
dropout 0.2, 55,000 items (+ padding row), learned positions; queries, keys and
values from LayerNorm(x); ReLU FFN of width d; final LayerNorm; BCE on the target and
one sampled negative at every position with a target. History lengths
3 + floor(6 Exp(1)) capped at 50, left-padded. Adam lr 1e-3 on dense parameters and
(a) SparseAdam on a sparse item embedding, (b) dense Adam on the item embedding.
Two threads. Median of 100 steps after 10 warm-up steps.

    pip install torch   # not a dependency of recbench
    python3 scripts/bench/torch_sasrec.py
"""
import math
import time

import torch

torch.set_num_threads(2)
B, L, D, ITEMS, BLOCKS = 128, 50, 64, 55_000, 2


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = torch.nn.LayerNorm(D), torch.nn.LayerNorm(D)
        self.q, self.k, self.v = (torch.nn.Linear(D, D) for _ in range(3))
        self.f1, self.f2 = torch.nn.Linear(D, D), torch.nn.Linear(D, D)
        self.drop = torch.nn.Dropout(0.2)

    def forward(self, x, mask):
        a = self.n1(x)
        s = self.q(a) @ self.k(a).transpose(1, 2) / math.sqrt(D) + mask
        h = x + self.drop(torch.softmax(s, dim=-1) @ self.v(a))
        return h + self.drop(self.f2(self.drop(torch.relu(self.f1(self.n2(h))))))


class SasRec(torch.nn.Module):
    def __init__(self, sparse):
        super().__init__()
        self.items = torch.nn.Embedding(ITEMS + 1, D, sparse=sparse)
        self.pos = torch.nn.Parameter(torch.randn(L, D) * 0.02)
        self.blocks = torch.nn.ModuleList(Block() for _ in range(BLOCKS))
        self.norm = torch.nn.LayerNorm(D)
        self.drop = torch.nn.Dropout(0.2)

    def forward(self, seq, pos, neg):
        valid = (seq != 0).float()
        x = self.drop((self.items(seq) + self.pos) * valid.unsqueeze(-1))
        causal = torch.tril(torch.ones(L, L, dtype=torch.bool))
        seen = causal & (valid.unsqueeze(1) > 0) | torch.eye(L, dtype=torch.bool)
        mask = torch.where(seen, 0.0, -1e9)
        for b in self.blocks:
            x = b(x, mask)
        h = self.norm(x)
        rows = pos != 0
        h, p, n = h[rows], self.items(pos[rows]), self.items(neg[rows])
        sp, sn = (h * p).sum(-1), (h * n).sum(-1)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        return (bce(sp, torch.ones_like(sp), reduction="sum")
                + bce(sn, torch.zeros_like(sn), reduction="sum")) / rows.sum()


def batch(g):
    seq = torch.zeros(B, L, dtype=torch.long)
    pos = torch.zeros(B, L, dtype=torch.long)
    for r in range(B):
        u = torch.rand(1, generator=g).item()
        n = min(L, 3 + int(-math.log(1 - u) * 6))
        s = torch.randint(1, ITEMS + 1, (n + 1,), generator=g)
        seq[r, L - n:], pos[r, L - n:] = s[:n], s[1:]
    neg = torch.randint(1, ITEMS + 1, (B, L), generator=g)
    neg = torch.where(neg == pos, neg % ITEMS + 1, neg)
    return seq, pos, neg


def bench(sparse, steps=100):
    g = torch.Generator().manual_seed(0)
    seq, pos, neg = batch(g)
    m = SasRec(sparse)
    dense = [p for n, p in m.named_parameters() if n != "items.weight"]
    if sparse:
        opts = [torch.optim.SparseAdam([m.items.weight], lr=1e-3), torch.optim.Adam(dense, lr=1e-3)]
    else:
        opts = [torch.optim.Adam(m.parameters(), lr=1e-3)]
    times = []
    for i in range(steps + 10):
        t = time.perf_counter()
        for o in opts:
            o.zero_grad()
        loss = m(seq, pos, neg)
        loss.backward()
        for o in opts:
            o.step()
        if i >= 10:
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    return 1000 * med, B / med, 1000 * times[len(times) // 10], 1000 * times[9 * len(times) // 10]


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for sparse in (True, False):
        ms, eps, p10, p90 = bench(sparse)
        name = "sparse embedding + SparseAdam" if sparse else "dense embedding + Adam"
        print(f"SASRec train step, {name}: {ms:.2f} ms (median; p10 {p10:.2f}, p90 {p90:.2f}), {eps:.0f} sequences/s")
