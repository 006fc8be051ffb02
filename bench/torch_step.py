#!/usr/bin/python3
"""The PyTorch peer of one widemax step (the issue 7 comparison): a full-batch gradient-descent
step of F(x) = m * A softmax(W^T x) with only W trained, written as people write it (autograd,
torch.softmax, the default allocator). Prints the median step time in seconds as JSON.

Run with Debian's /usr/bin/python3 (python3-torch). OMP_NUM_THREADS and OPENBLAS_NUM_THREADS must
be set before torch is imported (torch.set_num_threads does not control OpenBLAS), so the caller
sets them; this script also calls torch.set_num_threads with the same number.
Usage: torch_step.py N D D_OUT M {fp32|fp64} THREADS [STEPS]
"""
import json
import statistics
import sys
import time

n, d, d_out, m = (int(v) for v in sys.argv[1:5])
precision, threads = sys.argv[5], int(sys.argv[6])
steps = int(sys.argv[7]) if len(sys.argv) > 7 else 10

import torch  # noqa: E402  (after the environment is set by the caller)

torch.set_num_threads(threads)
dtype = torch.float32 if precision == "fp32" else torch.float64
g = torch.Generator().manual_seed(0)
X = torch.randn(n, d, generator=g, dtype=dtype)
X = X / X.norm(dim=1, keepdim=True)
Y = torch.rand(n, d_out, generator=g, dtype=dtype) * 2 - 1
W = torch.randn(d, m, generator=g, dtype=dtype).requires_grad_(True)
A = (torch.randint(0, 2, (d_out, m), generator=g) * 2 - 1).to(dtype)
lr = 1e-12

times = []
for step in range(steps + 2):
    t0 = time.perf_counter()
    F = m * torch.softmax(X @ W, dim=1) @ A.T
    loss = 0.5 * ((F - Y) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        W -= lr * W.grad
    W.grad = None
    if step >= 2:  # two warm-up steps
        times.append(time.perf_counter() - t0)
print(json.dumps({"median_s": statistics.median(times), "steps": steps, "threads": threads,
                  "precision": precision, "torch": torch.__version__,
                  "blas": torch.__config__.show().count("BLAS") > 0}))
