#!/usr/bin/python3
"""PyTorch golden fixtures for Sinew's recurrent layers (RNN tanh/relu, LSTM with and without
proj_size, GRU, and the three cells).

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 core/src/test/python/make_golden_rnn.py

It writes core/src/test/resources/golden/rnn/rnn.safetensors and cells.safetensors. Each case <c>
stores, as "<c>.<what>":

  x                    the input ([T, B, I], or [B, T, I] when batch_first)
  h0, c0               the initial states when the case gives them
  <param>              every parameter under its PyTorch name (weight_ih_l0, bias_hh_l1_reverse, ...)
  dy, dhn, dcn         upstream gradients of output, h_n and c_n
  y, hn, cn            PyTorch's outputs
  dx, dh0, dc0, d<param>  the gradients of L = sum(y*dy) + sum(hn*dhn) + sum(cn*dcn)

and a JSON description under the metadata key <c> (mode, sizes, options, lengths, and "names", the
module's state_dict keys in order); the metadata key "cases" lists the case names. Variable lengths
run through pack_padded_sequence(enforce_sorted=False) and pad_packed_sequence(total_length=T), so
outputs past a sequence's end are 0 and final states are taken at each sequence's own end.

Inputs and parameters are drawn in float32 and stored as F32 (exact in float32 and float64); the
expected results are computed by PyTorch in float64 and stored as F64. Tests compare a float64 run
with 1e-10 relative error and a float32 run with 1e-4. The safetensors writer is the one of
make_golden_conv.py (shared here by import).
"""

import json
import os
import sys

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden_conv import f32, randn, save_safetensors, seed, uniform  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "golden", "rnn")

I, H, T, B = 3, 4, 5, 3
LENGTHS = [5, 2, 4]  # unsorted on purpose

# (name, mode, options)
# options: layers, bidir, batch_first, h0 (give initial states), lengths, proj, bias
CASES = [
    ("rnn_tanh_single", "RNN_TANH", {}),
    ("rnn_tanh_h0", "RNN_TANH", {"h0": True}),
    ("rnn_tanh_stacked2", "RNN_TANH", {"layers": 2, "h0": True}),
    ("rnn_tanh_bidir", "RNN_TANH", {"bidir": True}),
    ("rnn_tanh_batch_first", "RNN_TANH", {"batch_first": True, "h0": True}),
    ("rnn_tanh_lengths", "RNN_TANH", {"lengths": True}),
    ("rnn_tanh_lengths_bidir_stacked_bf", "RNN_TANH", {"lengths": True, "bidir": True, "layers": 2,
                                                       "batch_first": True, "h0": True}),
    ("rnn_tanh_nobias", "RNN_TANH", {"bias": False}),
    ("rnn_relu_single", "RNN_RELU", {}),
    ("rnn_relu_stacked2_bidir_h0", "RNN_RELU", {"layers": 2, "bidir": True, "h0": True}),
    ("rnn_relu_lengths_batch_first", "RNN_RELU", {"lengths": True, "batch_first": True}),
    ("lstm_single", "LSTM", {}),
    ("lstm_h0c0", "LSTM", {"h0": True}),
    ("lstm_stacked2", "LSTM", {"layers": 2, "h0": True}),
    ("lstm_bidir", "LSTM", {"bidir": True}),
    ("lstm_batch_first", "LSTM", {"batch_first": True, "h0": True}),
    ("lstm_lengths", "LSTM", {"lengths": True, "h0": True}),
    ("lstm_lengths_bidir_stacked", "LSTM", {"lengths": True, "bidir": True, "layers": 2, "h0": True}),
    ("lstm_nobias_bidir", "LSTM", {"bias": False, "bidir": True}),
    ("lstm_proj", "LSTM", {"proj": 2}),
    ("lstm_proj_h0c0", "LSTM", {"proj": 3, "h0": True}),
    ("lstm_proj_stacked2_bidir", "LSTM", {"proj": 2, "layers": 2, "bidir": True, "h0": True}),
    ("lstm_proj_lengths_batch_first", "LSTM", {"proj": 2, "lengths": True, "batch_first": True, "h0": True}),
    ("gru_single", "GRU", {}),
    ("gru_h0", "GRU", {"h0": True}),
    ("gru_stacked2", "GRU", {"layers": 2, "h0": True}),
    ("gru_bidir", "GRU", {"bidir": True, "h0": True}),
    ("gru_batch_first", "GRU", {"batch_first": True}),
    ("gru_lengths", "GRU", {"lengths": True}),
    ("gru_lengths_bidir_stacked_bf", "GRU", {"lengths": True, "bidir": True, "layers": 2, "batch_first": True,
                                             "h0": True}),
    ("gru_nobias", "GRU", {"bias": False, "h0": True}),
]


def make_module(mode, layers, bidir, batch_first, proj, bias):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias, dropout=0.0)
    if mode in ("RNN_TANH", "RNN_RELU"):
        return torch.nn.RNN(I, H, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kw)
    if mode == "LSTM":
        return torch.nn.LSTM(I, H, proj_size=proj, **kw)
    return torch.nn.GRU(I, H, **kw)


def rnn_case(name, mode, o):
    torch.manual_seed(seed(name))
    layers = o.get("layers", 1)
    bidir = o.get("bidir", False)
    bf = o.get("batch_first", False)
    proj = o.get("proj", 0)
    bias = o.get("bias", True)
    lengths = LENGTHS if o.get("lengths", False) else None
    m = make_module(mode, layers, bidir, bf, proj, bias).double()
    bound = 1.0 / H ** 0.5
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(uniform(-bound, bound, *p.shape))
    d = 2 if bidir else 1
    p_size = proj if proj > 0 else H
    x = randn(*((B, T, I) if bf else (T, B, I))).requires_grad_(True)
    t = {"x": x}
    h0 = c0 = None
    if o.get("h0", False):
        h0 = (randn(layers * d, B, p_size) * 0.5).float().double().requires_grad_(True)
        t["h0"] = h0
        if mode == "LSTM":
            c0 = (randn(layers * d, B, H) * 0.5).float().double().requires_grad_(True)
            t["c0"] = c0
    state = None if h0 is None else ((h0, c0) if mode == "LSTM" else h0)
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
        out, hid = m(packed, state)
        y, _ = pad_packed_sequence(out, batch_first=bf, total_length=T)
    else:
        y, hid = m(x, state)
    hn, cn = hid if mode == "LSTM" else (hid, None)
    dy = randn(*y.shape)
    dhn = randn(*hn.shape)
    loss = (y * dy).sum() + (hn * dhn).sum()
    t.update({"dy": dy, "dhn": dhn})
    if cn is not None:
        dcn = randn(*cn.shape)
        loss = loss + (cn * dcn).sum()
        t["dcn"] = dcn
    loss.backward()
    out = {k: f32(v) for k, v in t.items()}
    names = []
    for pname, p in m.named_parameters():
        names.append(pname)
        out[pname] = f32(p)
        out["d" + pname] = p.grad
    out.update({"y": y.detach(), "hn": hn.detach(), "dx": x.grad})
    if cn is not None:
        out["cn"] = cn.detach()
    if h0 is not None:
        out["dh0"] = h0.grad
    if c0 is not None:
        out["dc0"] = c0.grad
    meta = {"mode": mode, "input_size": I, "hidden_size": H, "num_layers": layers, "bidirectional": bidir,
            "batch_first": bf, "proj_size": proj, "bias": bias, "lengths": lengths, "names": names,
            "state_dict": list(m.state_dict().keys())}
    return name, out, meta


# cells: (name, kind, bias, batched); one step from a given state, then a second step from the first
CELLS = [
    ("rnncell_tanh", "RNN_TANH", True),
    ("rnncell_relu", "RNN_RELU", True),
    ("rnncell_nobias", "RNN_TANH", False),
    ("lstmcell", "LSTM", True),
    ("lstmcell_nobias", "LSTM", False),
    ("grucell", "GRU", True),
    ("grucell_nobias", "GRU", False),
]


def cell_case(name, kind, bias):
    torch.manual_seed(seed(name))
    if kind == "LSTM":
        cell = torch.nn.LSTMCell(I, H, bias=bias)
    elif kind == "GRU":
        cell = torch.nn.GRUCell(I, H, bias=bias)
    else:
        cell = torch.nn.RNNCell(I, H, bias=bias, nonlinearity="tanh" if kind == "RNN_TANH" else "relu")
    cell = cell.double()
    bound = 1.0 / H ** 0.5
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(uniform(-bound, bound, *p.shape))
    x1 = randn(B, I).requires_grad_(True)
    x2 = randn(B, I).requires_grad_(True)
    h0 = (randn(B, H) * 0.5).float().double().requires_grad_(True)
    t = {"x1": x1, "x2": x2, "h0": h0}
    if kind == "LSTM":
        c0 = (randn(B, H) * 0.5).float().double().requires_grad_(True)
        t["c0"] = c0
        h1, c1 = cell(x1, (h0, c0))
        h2, c2 = cell(x2, (h1, c1))
    else:
        h1 = cell(x1, h0)
        h2 = cell(x2, h1)
        c1 = c2 = None
    dh2 = randn(B, H)
    loss = (h2 * dh2).sum() + h1.sum()
    t["dh2"] = dh2
    if c2 is not None:
        dc2 = randn(B, H)
        loss = loss + (c2 * dc2).sum()
        t["dc2"] = dc2
    loss.backward()
    out = {k: f32(v) for k, v in t.items()}
    names = []
    for pname, p in cell.named_parameters():
        names.append(pname)
        out[pname] = f32(p)
        out["d" + pname] = p.grad
    out.update({"h1": h1.detach(), "h2": h2.detach(), "dx1": x1.grad, "dx2": x2.grad, "dh0": h0.grad})
    if c2 is not None:
        out.update({"c1": c1.detach(), "c2": c2.detach(), "dc0": t["c0"].grad})
    meta = {"mode": kind, "input_size": I, "hidden_size": H, "bias": bias, "names": names}
    return name, out, meta


def write(filename, cases):
    tensors = {}
    metadata = {"cases": json.dumps([c[0] for c in cases]),
                "generator": "make_golden_rnn.py, torch " + torch.__version__}
    for name, t, meta in cases:
        for k, v in t.items():
            tensors[name + "." + k] = v
        metadata[name] = json.dumps(meta)
    path = os.path.normpath(os.path.join(OUT, filename))
    save_safetensors(path, tensors, metadata)
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    write("rnn.safetensors", [rnn_case(*c) for c in CASES])
    write("cells.safetensors", [cell_case(*c) for c in CELLS])


if __name__ == "__main__":
    main()
