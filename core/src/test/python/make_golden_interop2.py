#!/usr/bin/python3
"""Writes the PyTorch fixtures for Sinew's LeNet-5-with-BatchNorm2d and 2-layer bidirectional LSTM interop
tests (LeNetBnLstmInteropTest), and checks Sinew-written files.

Run with Debian's python3-torch (1.13); safetensors files are read and written by the functions of
make_safetensors_golden.py (no `safetensors` package needed).

    /usr/bin/python3 core/src/test/python/make_golden_interop2.py            # rewrite the fixtures
    /usr/bin/python3 core/src/test/python/make_golden_interop2.py --verify F # check a Sinew-written file

LeNet-5 with BatchNorm2d, on [N, 1, 16, 16] input:
    nn.Sequential(Conv2d(1, 6, 5, padding=2), BatchNorm2d(6), ReLU(), MaxPool2d(2),     # 0 1 2 3
                  Conv2d(6, 16, 5), BatchNorm2d(16), ReLU(), MaxPool2d(2), Flatten(),    # 4 5 6 7 8
                  Linear(64, 120), ReLU(), Linear(120, 84), ReLU(), Linear(84, 10))      # 9 .. 13
  The classic 28x28 input (flatten 400) would make the float32 state dict alone 247 KB; 16x16 keeps every
  layer of LeNet-5 but flattens 16x2x2 = 64 features, and the state dict is 86 KB. The BatchNorm affine
  parameters are randomised, then the model takes one SGD training step (lr 0.1, cross-entropy), so every
  weight has moved and running_mean, running_var and num_batches_tracked (= 1) are non-trivial.
  The float64 golden is the same model after .double(): PyTorch's float32 weights widen exactly, so one
  committed (float32) state dict serves both; Sinew loads it into a FLOAT64 model (loadStateDict converts).

  lenet_bn.safetensors        the state_dict() (F32; num_batches_tracked I64, shape [])
  lenet_bn_io_f32.safetensors "input" [4, 1, 16, 16]; "eval_output" [4, 10] = model.eval()(input);
  lenet_bn_io_f64.safetensors "train_output" [4, 10] = model.train()(input) (batch statistics), and the
                              buffers after that pass: "train.1.running_mean", "train.1.running_var",
                              "train.1.num_batches_tracked", the same for "train.5."; in the f64 file all
                              computed by model.double()

2-layer bidirectional LSTM: nn.LSTM(5, 7, num_layers=2, bidirectional=True) (time-major), state dict
weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, the same with _reverse, then l1 (layer 1 reads 14
features). One independently initialised model per dtype, saved in that dtype.

  lstm2bi_f32.safetensors, lstm2bi_f64.safetensors        the state_dict()
  lstm2bi_f32_io.safetensors, lstm2bi_f64_io.safetensors  "input" [6, 3, 5], "h0", "c0" [4, 3, 7];
                              "output" [6, 3, 14], "h_n", "c_n" [4, 3, 7] = model(input, (h0, c0));
                              "output_zero_state", "h_n_zero_state", "c_n_zero_state" = model(input)

--verify FILE: FILE holds a Sinew model's state dict (LeNet names with "0.weight", or LSTM names with
"weight_ih_l0") plus, for LeNet: "input", "output" (Sinew's evaluation-mode forward) and "train_output"
(Sinew's training-mode forward, after "output"); for the LSTM: "input", "h0", "c0", "output", "h_n", "c_n".
The script builds the PyTorch model in the file's dtype, loads the weights with load_state_dict(strict=True),
runs it and compares (max |diff| <= 1e-5 in float32, 1e-12 in float64).
"""
import copy
import os
import sys

import torch
import torch.nn as nn

sys.dont_write_bytecode = True  # no __pycache__ beside the committed scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_safetensors_golden import OUT, load, save  # noqa: E402

BN = (1, 5)  # the BatchNorm2d layers of LeNet


def lenet(dtype=torch.float32):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)).to(dtype)


def lstm(dtype=torch.float32):
    return nn.LSTM(5, 7, num_layers=2, bidirectional=True, dtype=dtype)


def make_lenet():
    torch.manual_seed(8)
    m = lenet()
    with torch.no_grad():
        for i in BN:
            m[i].weight.uniform_(0.5, 1.5)
            m[i].bias.normal_(0, 0.5)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    xb = torch.randn(8, 1, 16, 16) * 1.5 + 0.3
    yb = torch.randint(0, 10, (8,))
    opt.zero_grad()
    nn.functional.cross_entropy(m(xb), yb).backward()
    opt.step()  # one training step: weights moved, running statistics updated, num_batches_tracked = 1
    state = {k: v.detach().clone() for k, v in m.state_dict().items()}
    save(os.path.join(OUT, "lenet_bn.safetensors"), state,
         {"format": "pt", "source": "torch %s LeNet-5 with BatchNorm2d, 16x16 input, one SGD step" % torch.__version__})
    x = torch.randn(4, 1, 16, 16)
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        mm = copy.deepcopy(m).to(dtype)
        xx = x.to(dtype)
        with torch.no_grad():
            y_eval = mm.eval()(xx)
            y_train = mm.train()(xx)
        io = {"input": xx, "eval_output": y_eval, "train_output": y_train}
        for i in BN:
            io["train.%d.running_mean" % i] = mm[i].running_mean.clone()
            io["train.%d.running_var" % i] = mm[i].running_var.clone()
            io["train.%d.num_batches_tracked" % i] = mm[i].num_batches_tracked.clone()
        save(os.path.join(OUT, "lenet_bn_io_%s.safetensors" % tag), io)


def make_lstm():
    torch.manual_seed(9)
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        m = lstm(dtype)
        x = torch.randn(6, 3, 5, dtype=dtype)
        h0 = torch.randn(4, 3, 7, dtype=dtype)
        c0 = torch.randn(4, 3, 7, dtype=dtype)
        with torch.no_grad():
            y, (h, c) = m(x, (h0, c0))
            y0, (h0z, c0z) = m(x)
        save(os.path.join(OUT, "lstm2bi_%s.safetensors" % tag), m.state_dict(),
             {"format": "pt", "source": "torch %s nn.LSTM(5, 7, num_layers=2, bidirectional=True)" % torch.__version__})
        save(os.path.join(OUT, "lstm2bi_%s_io.safetensors" % tag),
             {"input": x, "h0": h0, "c0": c0, "output": y, "h_n": h, "c_n": c, "output_zero_state": y0,
              "h_n_zero_state": h0z, "c_n_zero_state": c0z})


def make():
    os.makedirs(OUT, exist_ok=True)
    make_lenet()
    make_lstm()


def check(what, got, want, tol):
    diff = (got - want).abs().max().item()
    print("  %-13s PyTorch vs Sinew: max |diff| = %.3g (tolerance %g)%s"
          % (what, diff, tol, "" if diff <= tol else "  MISMATCH"))
    return diff <= tol


def verify(path):
    tensors, meta = load(path)
    x = tensors.pop("input")
    dtype = x.dtype
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    ok = True
    if "0.weight" in tensors:
        y_eval, y_train = tensors.pop("output"), tensors.pop("train_output")
        m = lenet(dtype)
        m.load_state_dict(tensors, strict=True)
        print("%s: LeNet-5 with BatchNorm2d, %d tensors, %s, num_batches_tracked %d and %d, metadata %s"
              % (path, len(tensors), str(dtype).replace("torch.", ""), int(tensors["1.num_batches_tracked"]),
                 int(tensors["5.num_batches_tracked"]), meta))
        with torch.no_grad():
            ok &= check("eval output", m.eval()(x), y_eval, tol)
            ok &= check("train output", m.train()(x), y_train, tol)
    elif "weight_ih_l0" in tensors:
        want = {k: tensors.pop(k) for k in ("h0", "c0", "output", "h_n", "c_n")}
        m = lstm(dtype)
        m.load_state_dict(tensors, strict=True)
        print("%s: 2-layer bidirectional LSTM, %d tensors, %s, metadata %s"
              % (path, len(tensors), str(dtype).replace("torch.", ""), meta))
        with torch.no_grad():
            y, (h, c) = m(x, (want["h0"], want["c0"]))
        ok &= check("output", y, want["output"], tol)
        ok &= check("h_n", h, want["h_n"], tol)
        ok &= check("c_n", c, want["c_n"], tol)
    else:
        print("%s: neither LeNet nor LSTM names: %s" % (path, sorted(tensors)))
        ok = False
    if not ok:
        print("MISMATCH")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        verify(sys.argv[2])
    elif len(sys.argv) == 1:
        make()
    else:
        print(__doc__)
        sys.exit(2)
