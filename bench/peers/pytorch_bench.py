#!/usr/bin/env python3
"""PyTorch CPU peer of `sinew bench` (dev.sinew.bench.suite.Workloads): the same workloads, shapes
and random (never zero) data, the same thread count and the same warm-up / repeat policy:

  up to WARMUP untimed steps, stopping early once warm-up has taken half of BUDGET seconds (at least
  one step when WARMUP > 0); then up to REPEAT timed steps, stopping early once the timed steps have
  taken BUDGET seconds and at least three have run.

Prints one JSON line: {"case", "status", "warmup", "samples_ms": [...], "peak_rss_bytes", "torch"}.
`sinew bench --peer pytorch` runs it once per case, interleaved with Sinew's runs, at PyTorch's best
(shared/design.md, "Performance method"):

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
      /usr/bin/python3 bench/peers/pytorch_bench.py --case lstm-fwdbwd --threads 2 --warmup 3 --repeat 15

`--list` prints the case names.
"""
import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

RNN_IN, RNN_HIDDEN, RNN_SEQ, RNN_BATCH = 128, 256, 64, 32


def gemm(n):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    return lambda: torch.mm(a, b, out=c)


def conv(n, cin, cout, hw, k, pad, backward):
    x = torch.randn(n, cin, hw, hw, requires_grad=backward)
    w = torch.randn(cout, cin, k, k, requires_grad=backward)
    b = torch.randn(cout, requires_grad=backward)
    o = hw + 2 * pad - k + 1
    dy = torch.randn(n, cout, o, o)

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=pad)

    def fwdbwd():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=pad).backward(dy)

    return fwdbwd if backward else fwd


def rnn(kind, backward):
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](RNN_IN, RNN_HIDDEN)
    x = torch.randn(RNN_SEQ, RNN_BATCH, RNN_IN, requires_grad=backward)   # [T, B, I]
    dy = torch.randn(RNN_SEQ, RNN_BATCH, RNN_HIDDEN)                       # [T, B, H]

    def fwd():
        with torch.no_grad():
            layer(x)

    def fwdbwd():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x)[0].backward(dy)

    return fwdbwd if backward else fwd


def softmax_ce():
    logits = torch.randn(4096, 1000, requires_grad=True)
    y = torch.randint(0, 1000, (4096,))

    def step():
        logits.grad = None
        F.cross_entropy(logits, y).backward()

    return step


def adam():
    p = torch.randn(10_000_000, requires_grad=True)
    p.grad = torch.randn(10_000_000)
    opt = torch.optim.Adam([p], 1e-3)
    return opt.step


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
        return self.f3(F.relu(self.f2(F.relu(self.f1(x.flatten(1))))))


class CharLstm(nn.Module):
    def __init__(self, vocab=96, embed=64, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        return self.head(self.lstm(self.embed(ids))[0])


def classifier(model, x, y):
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def mlp():
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return classifier(model, torch.randn(128, 784), torch.randint(0, 10, (128,)))


def lenet():
    return classifier(LeNet5(), torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)))


def charlstm():
    b, t, v = 32, 64, 96
    model = CharLstm(v)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    ids = torch.randint(0, v, (b, t))
    nxt = torch.randint(0, v, (b * t,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(ids).reshape(b * t, v), nxt).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    return step


CASES = {
    "gemm-512": lambda: gemm(512), "gemm-1024": lambda: gemm(1024), "gemm-2048": lambda: gemm(2048),
    "conv1-fwd": lambda: conv(64, 1, 6, 28, 5, 2, False), "conv1-fwdbwd": lambda: conv(64, 1, 6, 28, 5, 2, True),
    "conv2-fwd": lambda: conv(64, 6, 16, 14, 5, 0, False), "conv2-fwdbwd": lambda: conv(64, 6, 16, 14, 5, 0, True),
    "conv3-fwd": lambda: conv(32, 64, 64, 56, 3, 1, False), "conv3-fwdbwd": lambda: conv(32, 64, 64, 56, 3, 1, True),
    "rnn-fwd": lambda: rnn("rnn", False), "rnn-fwdbwd": lambda: rnn("rnn", True),
    "lstm-fwd": lambda: rnn("lstm", False), "lstm-fwdbwd": lambda: rnn("lstm", True),
    "gru-fwd": lambda: rnn("gru", False), "gru-fwdbwd": lambda: rnn("gru", True),
    "softmax-ce": softmax_ce, "adam": adam, "mlp": mlp, "lenet": lenet, "charlstm": charlstm,
}


def peak_rss():
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across execve, so a child of a big JVM
    # would report the JVM's peak
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--budget", type=float, default=5.0)
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CASES))
        return 0
    if a.case not in CASES:
        print(json.dumps({"case": a.case, "status": "unavailable", "reason": "no such case in pytorch_bench.py"}))
        return 0
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    step = CASES[a.case]()
    warmed = 0
    warm_end = time.perf_counter() + a.budget / 2
    while warmed < a.warmup and (warmed == 0 or time.perf_counter() < warm_end):
        step()
        warmed += 1
    samples = []
    timed = 0.0
    while len(samples) < a.repeat and (len(samples) < 3 or timed < a.budget):
        t0 = time.perf_counter()
        step()
        dt = time.perf_counter() - t0
        timed += dt
        samples.append(dt * 1e3)
    rss = peak_rss()
    print(json.dumps({"case": a.case, "status": "ok", "warmup": warmed, "samples_ms": samples,
                      "peak_rss_bytes": rss, "threads": torch.get_num_threads(), "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
