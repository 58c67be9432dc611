#!/usr/bin/python3
"""Writes the PyTorch fixtures for Sinew's conv-net-with-BatchNorm2d interop test, and checks Sinew-written files.

Run with Debian's python3-torch (1.13); safetensors files are read and written by the functions of
make_safetensors_golden.py (no `safetensors` package needed).

    /usr/bin/python3 core/src/test/python/make_golden_convbn.py            # rewrite the fixtures
    /usr/bin/python3 core/src/test/python/make_golden_convbn.py --verify F # check a Sinew-written file

The model: nn.Sequential(Conv2d(2, 4, 3, padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(),
Linear(64, 5)) on [N, 2, 8, 8] input, its BatchNorm affine parameters randomised and its running statistics
moved by three training-mode passes (so running_mean, running_var and num_batches_tracked = 3 all differ
from their initial values).

Fixtures, in core/src/test/resources/golden/io/ (committed; the Maven build never runs Python):
  convbn.safetensors     the model's state_dict(): 0.weight, 0.bias, 1.weight, 1.bias, 1.running_mean,
                         1.running_var, 1.num_batches_tracked (I64, shape []), 5.weight, 5.bias
  convbn_io.safetensors  "input" [3, 2, 8, 8]; "eval_output" [3, 5] = model.eval()(input);
                         "train_output" [3, 5] = model.train()(input) (batch statistics), and the buffers
                         after that pass: "train.running_mean", "train.running_var", "train.num_batches_tracked"

--verify FILE: FILE holds a Sinew model's state dict with these names plus "input" and "output" (Sinew's
evaluation-mode forward). The script loads the weights with load_state_dict(strict=True), runs the model in
evaluation mode on "input" and compares with "output" (max |diff| <= 1e-5).
"""
import os
import sys

import torch
import torch.nn as nn

sys.dont_write_bytecode = True  # no __pycache__ beside the committed scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_safetensors_golden import OUT, load, save  # noqa: E402


def model():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64, 5))


def make():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(3)
    m = model()
    with torch.no_grad():
        m[1].weight.uniform_(0.5, 1.5)
        m[1].bias.normal_(0, 0.5)
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(4, 2, 8, 8) * 2 + 0.5)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    x = torch.randn(3, 2, 8, 8)
    with torch.no_grad():
        y_eval = m.eval()(x)
        y_train = m.train()(x)
    io = {"input": x, "eval_output": y_eval, "train_output": y_train,
          "train.running_mean": m[1].running_mean.clone(), "train.running_var": m[1].running_var.clone(),
          "train.num_batches_tracked": m[1].num_batches_tracked.clone()}
    save(os.path.join(OUT, "convbn.safetensors"), state,
         {"format": "pt", "source": "torch %s Conv2d-BatchNorm2d-ReLU-MaxPool2d-Flatten-Linear" % torch.__version__})
    save(os.path.join(OUT, "convbn_io.safetensors"), io)


def verify(path):
    tensors, meta = load(path)
    x = tensors.pop("input")
    y_sinew = tensors.pop("output")
    m = model()
    m.load_state_dict(tensors, strict=True)
    with torch.no_grad():
        y = m.eval()(x)
    diff = (y - y_sinew).abs().max().item()
    print("%s: %d tensors (num_batches_tracked %d), metadata %s; PyTorch output vs Sinew output: max |diff| = %.3g"
          % (path, len(tensors), int(tensors["1.num_batches_tracked"]), meta, diff))
    if not diff <= 1e-5:
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
