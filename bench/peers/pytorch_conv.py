#!/usr/bin/env python3
"""PyTorch CPU peer of dev.sinew.bench.perf.ConvBench: LeNet-5 Adam step at batch 64 on random data,
and Conv2d forward / forward+backward (input, weight, bias gradients) for the three shapes of issue 4.
Same protocol: ~2 s warm-up per case, then timed repetitions; median and p10-p90 per call.

Run PyTorch at its best (shared/design.md, "Performance method"):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
      /usr/bin/python3 bench/peers/pytorch_conv.py [threads]
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(1)


def timed(body, inner, reps):
    end = time.perf_counter() + 2.0
    while time.perf_counter() < end:
        body()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            body()
        ms.append((time.perf_counter() - t0) * 1e3 / inner)
    ms.sort()
    return ms[reps // 2], ms[reps // 10], ms[reps * 9 // 10]


def report(name, t, gflop):
    print("%-34s median %8.3f ms  p10 %8.3f  p90 %8.3f  %7.1f GFLOP/s" % (name, t[0], t[1], t[2], gflop / t[0] * 1e3))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(16 * 5 * 5, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


def lenet():
    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(64, 1, 28, 28)
    y = torch.arange(64) % 10

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    t = timed(step, 10, 60)
    report("lenet step b64", t, float("nan"))
    print("%-34s %8.0f samples/s" % ("lenet step b64", 64 / t[0] * 1e3))


def conv(name, n, cin, cout, hw, k, pad):
    o = hw + 2 * pad - k + 1
    x = torch.randn(n, cin, hw, hw, requires_grad=True)
    w = torch.randn(cout, cin, k, k, requires_grad=True)
    b = torch.randn(cout, requires_grad=True)
    dy = torch.randn(n, cout, o, o)
    fwd = 2.0 * n * cout * o * o * cin * k * k / 1e9
    inner = 20 if fwd < 0.1 else 1

    def f():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=pad)

    def fb():
        out = F.conv2d(x, w, b, padding=pad)
        torch.autograd.grad(out, (x, w, b), dy)

    report(name + " fwd", timed(f, inner, 30), fwd)
    report(name + " fwd+bwd", timed(fb, inner, 30), 3 * fwd)


print("torch", torch.__version__, "threads", torch.get_num_threads())
lenet()
conv("conv1 N64 1-6 28x28 k5 p2", 64, 1, 6, 28, 5, 2)
conv("conv2 N64 6-16 14x14 k5", 64, 6, 16, 14, 5, 0)
conv("conv3 N32 64-64 56x56 k3 p1", 32, 64, 64, 56, 3, 1)
