#!/usr/bin/python3
"""Writes the PyTorch golden fixtures for Sinew's nn, loss and optim tests.

Run from anywhere with Debian's python3-torch (1.13):

    /usr/bin/python3 core/src/test/python/make_golden_nn_optim.py

It writes small JSON files into core/src/test/resources/golden/ (next to this script's
../resources/golden). Everything is float64 so the Java tests can compare to ~1e-10; the float32
tests reuse the same data with a looser tolerance. The outputs are committed: the Maven build
never runs Python. Layout of a tensor: {"shape": [..], "data": [flat row-major values]}.

Files:
  nn_golden.json       Linear/Sequential forward and backward, activations, state-dict names, init gains/fans
  losses_golden.json   cross-entropy (ignore_index, label smoothing, reductions), NLL, BCE-with-logits, MSE
  optim_golden.json    3 steps of SGD/Adam/AdamW/RMSprop variants, clip_grad_norm_/clip_grad_value_, L1
  sched_golden.json    learning-rate sequences of StepLR, ExponentialLR, CosineAnnealingLR, LinearLR
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)  # module initialisation draws from the global generator: keep the output reproducible
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "golden")


def t(x):
    x = x.detach()
    if x.dtype == torch.int64:
        return {"shape": list(x.shape), "data": [int(v) for v in x.reshape(-1).tolist()]}
    return {"shape": list(x.shape), "data": [float(v) for v in x.double().reshape(-1).tolist()]}


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(path))


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


# --------------------------------------------------------------------------------------- nn
def nn_golden():
    out = {}
    g = gen(1)
    # An MLP 4-5-3 with ReLU and Tanh: forward and the gradients of sum(out * gout).
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3), nn.Tanh())
    x = torch.randn(6, 4, generator=g, requires_grad=True)
    gout = torch.randn(6, 3, generator=g)
    y = model(x)
    y.backward(gout)
    out["mlp"] = {
        "x": t(x), "gout": t(gout), "y": t(y), "dx": t(x.grad),
        "params": {k: t(v) for k, v in model.named_parameters()},
        "grads": {k: t(v.grad) for k, v in model.named_parameters()},
    }
    # Linear without bias.
    lin = nn.Linear(3, 2, bias=False)
    x = torch.randn(4, 3, generator=g, requires_grad=True)
    gout = torch.randn(4, 2, generator=g)
    y = lin(x)
    y.backward(gout)
    out["linear_nobias"] = {"x": t(x), "gout": t(gout), "y": t(y), "dx": t(x.grad), "weight": t(lin.weight),
                            "dweight": t(lin.weight.grad)}

    # Activations on [3, 4] with upstream gradient.
    acts = {}
    x0 = torch.randn(3, 4, generator=g) * 2
    gout = torch.randn(3, 4, generator=g)
    for name, m in [("relu", nn.ReLU()), ("sigmoid", nn.Sigmoid()), ("tanh", nn.Tanh()),
                    ("softmax0", nn.Softmax(dim=0)), ("softmax1", nn.Softmax(dim=1)),
                    ("logsoftmax1", nn.LogSoftmax(dim=1)), ("logsoftmax0", nn.LogSoftmax(dim=0))]:
        x = x0.clone().requires_grad_(True)
        y = m(x)
        y.backward(gout)
        acts[name] = {"y": t(y), "dx": t(x.grad)}
    out["activations"] = {"x": t(x0), "gout": t(gout), "cases": acts}

    # State-dict names of equivalent PyTorch modules.
    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 16)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    names = {
        "sequential": list(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.5),
                                         nn.Linear(3, 2), nn.LogSoftmax(dim=1)).state_dict().keys()),
        "nested": list(nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), nn.Linear(3, 3, bias=False),
                                     nn.Sequential(nn.Sigmoid(), nn.Linear(3, 1), nn.Softmax(dim=1))).state_dict().keys()),
        "custom": list(Mlp().state_dict().keys()),
    }
    out["state_dict_names"] = names

    # Init: gains and fans as torch.nn.init computes them, and the bounds/stds they imply.
    gains = {
        "linear": nn.init.calculate_gain("linear"),
        "sigmoid": nn.init.calculate_gain("sigmoid"),
        "tanh": nn.init.calculate_gain("tanh"),
        "relu": nn.init.calculate_gain("relu"),
        "leaky_relu": nn.init.calculate_gain("leaky_relu"),
        "leaky_relu_0.2": nn.init.calculate_gain("leaky_relu", 0.2),
        "selu": nn.init.calculate_gain("selu"),
    }
    fans = {}
    for shape in [(5, 3), (8, 4, 3, 3), (6, 2, 5)]:
        w = torch.empty(*shape)
        fi, fo = nn.init._calculate_fan_in_and_fan_out(w)
        key = "x".join(str(s) for s in shape)
        fans[key] = {"shape": list(shape), "fan_in": fi, "fan_out": fo,
                     # kaiming_uniform_(a=sqrt(5)) as nn.Linear uses it: bound = 1/sqrt(fan_in)
                     "linear_default_bound": math.sqrt(3.0) * nn.init.calculate_gain("leaky_relu", math.sqrt(5))
                     / math.sqrt(fi),
                     "xavier_uniform_bound_gain2": 2.0 * math.sqrt(6.0 / (fi + fo)),
                     "xavier_normal_std_gain1": math.sqrt(2.0 / (fi + fo)),
                     "kaiming_uniform_bound_relu_fanin": math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(fi),
                     "kaiming_normal_std_relu_fanout": math.sqrt(2.0) / math.sqrt(fo),
                     "kaiming_normal_std_leaky0.1_fanin": math.sqrt(2.0 / (1 + 0.01)) / math.sqrt(fi),
                     "kaiming_uniform_bound_tanh_fanout": math.sqrt(3.0) * (5.0 / 3) / math.sqrt(fo)}
    out["init"] = {"gains": gains, "fans": fans}
    write("nn_golden.json", out)


# ------------------------------------------------------------------------------------ losses
def losses_golden():
    out = {}
    g = gen(2)
    N, C = 6, 5
    logits0 = torch.randn(N, C, generator=g) * 2
    labels = torch.tensor([1, 0, -100, 4, 2, 2])
    labels_ig2 = torch.tensor([1, 0, 2, 4, 2, 3])
    gnone = torch.randn(N, generator=g)

    def run(fn, x0, reduction, gout_none):
        x = x0.clone().requires_grad_(True)
        y = fn(x, reduction)
        if reduction == "none":
            y.backward(gout_none)
        else:
            y.backward()
        return {"y": t(y), "dx": t(x.grad)}

    ce = {}
    for red in ["mean", "sum", "none"]:
        ce["default_" + red] = dict(labels=t(labels), ignore_index=-100, label_smoothing=0.0, reduction=red,
                                    **run(lambda x, r: F.cross_entropy(x, labels, reduction=r), logits0, red, gnone))
        ce["smooth_" + red] = dict(labels=t(labels), ignore_index=-100, label_smoothing=0.1, reduction=red,
                                   **run(lambda x, r: F.cross_entropy(x, labels, reduction=r, label_smoothing=0.1),
                                         logits0, red, gnone))
        ce["ignore2_" + red] = dict(labels=t(labels_ig2), ignore_index=2, label_smoothing=0.2, reduction=red,
                                    **run(lambda x, r: F.cross_entropy(x, labels_ig2, reduction=r, ignore_index=2,
                                                                       label_smoothing=0.2), logits0, red, gnone))
    out["cross_entropy"] = {"logits": t(logits0), "gout_none": t(gnone), "cases": ce}

    logp0 = F.log_softmax(torch.randn(N, C, generator=g), dim=1)
    nll = {}
    for red in ["mean", "sum", "none"]:
        nll["default_" + red] = dict(labels=t(labels), ignore_index=-100, reduction=red,
                                     **run(lambda x, r: F.nll_loss(x, labels, reduction=r), logp0, red, gnone))
        nll["ignore2_" + red] = dict(labels=t(labels_ig2), ignore_index=2, reduction=red,
                                     **run(lambda x, r: F.nll_loss(x, labels_ig2, reduction=r, ignore_index=2),
                                           logp0, red, gnone))
    out["nll"] = {"log_probs": t(logp0), "gout_none": t(gnone), "cases": nll}

    # BCE with logits: includes exact 0 and large magnitudes (stability), soft targets.
    x0 = torch.randn(4, 3, generator=g) * 3
    x0[0, 0] = 0.0
    x0[1, 1] = 60.0
    x0[2, 2] = -60.0
    x0[3, 0] = 800.0
    y = torch.rand(4, 3, generator=g)
    y[0, 1] = 0.0
    y[1, 2] = 1.0
    gn = torch.randn(4, 3, generator=g)
    bce = {}
    for red in ["mean", "sum", "none"]:
        bce[red] = run(lambda x, r: F.binary_cross_entropy_with_logits(x, y, reduction=r), x0, red, gn)
    out["bce_with_logits"] = {"logits": t(x0), "targets": t(y), "gout_none": t(gn), "cases": bce}

    p0 = torch.randn(4, 3, generator=g)
    tg = torch.randn(4, 3, generator=g)
    mse = {}
    for red in ["mean", "sum", "none"]:
        mse[red] = run(lambda x, r: F.mse_loss(x, tg, reduction=r), p0, red, gn)
    out["mse"] = {"pred": t(p0), "target": t(tg), "gout_none": t(gn), "cases": mse}
    write("losses_golden.json", out)


# ------------------------------------------------------------------------------------- optim
def optim_golden():
    out = {}
    g = gen(3)
    w0 = torch.randn(3, 4, generator=g)
    b0 = torch.randn(4, generator=g)
    gw = [torch.randn(3, 4, generator=g) for _ in range(3)]
    gb = [torch.randn(4, generator=g) for _ in range(3)]
    out["init"] = {"w": t(w0), "b": t(b0), "grad_w": [t(v) for v in gw], "grad_b": [t(v) for v in gb]}

    cases = {}

    def run(name, ctor, cfg, b_from_step=0):
        """3 steps; b gets no gradient before step index b_from_step (it is skipped then)."""
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        opt = ctor([w, b])
        steps = []
        for k in range(3):
            opt.zero_grad(set_to_none=True)
            loss = (w * gw[k]).sum()
            if k >= b_from_step:
                loss = loss + (b * gb[k]).sum()
            loss.backward()
            opt.step()
            steps.append({"w": t(w), "b": t(b)})
        cases[name] = {"config": cfg, "b_from_step": b_from_step, "steps": steps}

    S = torch.optim.SGD
    run("sgd_plain", lambda p: S(p, lr=0.1), dict(type="sgd", lr=0.1))
    run("sgd_momentum", lambda p: S(p, lr=0.1, momentum=0.9), dict(type="sgd", lr=0.1, momentum=0.9))
    run("sgd_dampening_wd", lambda p: S(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
        dict(type="sgd", lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01))
    run("sgd_nesterov_wd", lambda p: S(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
        dict(type="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05))
    run("sgd_momentum_late_b", lambda p: S(p, lr=0.1, momentum=0.9), dict(type="sgd", lr=0.1, momentum=0.9),
        b_from_step=1)
    A = torch.optim.Adam
    run("adam", lambda p: A(p, lr=0.01), dict(type="adam", lr=0.01))
    run("adam_wd_betas", lambda p: A(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1),
        dict(type="adam", lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=0.1))
    run("adam_late_b", lambda p: A(p, lr=0.01), dict(type="adam", lr=0.01), b_from_step=1)
    W = torch.optim.AdamW
    run("adamw_default", lambda p: W(p, lr=0.01), dict(type="adamw", lr=0.01))
    run("adamw_wd", lambda p: W(p, lr=0.05, betas=(0.85, 0.99), weight_decay=0.1),
        dict(type="adamw", lr=0.05, beta1=0.85, beta2=0.99, weight_decay=0.1))
    R = torch.optim.RMSprop
    run("rmsprop_default", lambda p: R(p), dict(type="rmsprop"))
    run("rmsprop_centered", lambda p: R(p, lr=0.02, alpha=0.9, centered=True),
        dict(type="rmsprop", lr=0.02, alpha=0.9, centered=True))
    run("rmsprop_momentum_wd", lambda p: R(p, lr=0.01, momentum=0.9, weight_decay=0.1),
        dict(type="rmsprop", lr=0.01, momentum=0.9, weight_decay=0.1))
    run("rmsprop_centered_momentum", lambda p: R(p, lr=0.01, alpha=0.95, eps=1e-6, momentum=0.5, centered=True,
                                                 weight_decay=0.01),
        dict(type="rmsprop", lr=0.01, alpha=0.95, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.01))
    out["cases"] = cases

    # Gradient clipping on the step-0 gradients.
    clips = {}
    for name, max_norm, norm_type in [("l2_clip", 1.0, 2.0), ("l2_noclip", 100.0, 2.0), ("l1", 2.0, 1.0),
                                      ("inf", 0.5, float("inf")), ("l3", 1.5, 3.0)]:
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        w.grad = gw[0].clone()
        b.grad = gb[0].clone()
        total = torch.nn.utils.clip_grad_norm_([w, b], max_norm, norm_type)
        clips[name] = {"max_norm": max_norm, "norm_type": "inf" if math.isinf(norm_type) else norm_type,
                       "total": float(total), "grad_w": t(w.grad), "grad_b": t(b.grad)}
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    w.grad = gw[0].clone()
    b.grad = gb[0].clone()
    torch.nn.utils.clip_grad_value_([w, b], 0.5)
    clips["value_0.5"] = {"clip": 0.5, "grad_w": t(w.grad), "grad_b": t(b.grad)}
    out["clip"] = clips

    # L1 penalty: lambda * sum |p| over both tensors and its gradient.
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    pen = 0.03 * (w.abs().sum() + b.abs().sum())
    pen.backward()
    out["l1"] = {"lambda": 0.03, "value": float(pen), "grad_w": t(w.grad), "grad_b": t(b.grad)}
    write("optim_golden.json", out)


# -------------------------------------------------------------------------------- schedulers
def sched_golden():
    out = {}
    steps = 12

    def seq(make):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        s = make(opt)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(steps):
            opt.step()
            s.step()
            lrs.append(opt.param_groups[0]["lr"])
        return lrs

    L = torch.optim.lr_scheduler
    out["base_lr"] = 0.1
    out["step_lr"] = {"step_size": 3, "gamma": 0.5, "lrs": seq(lambda o: L.StepLR(o, 3, 0.5))}
    out["exponential_lr"] = {"gamma": 0.9, "lrs": seq(lambda o: L.ExponentialLR(o, 0.9))}
    out["cosine_lr"] = {"t_max": 5, "eta_min": 0.001, "lrs": seq(lambda o: L.CosineAnnealingLR(o, 5, 0.001))}
    out["cosine_lr_zero_min"] = {"t_max": 8, "eta_min": 0.0, "lrs": seq(lambda o: L.CosineAnnealingLR(o, 8))}
    out["linear_warmup"] = {"warmup_steps": 4, "start_factor": 0.1,
                            "lrs": seq(lambda o: L.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=4))}
    write("sched_golden.json", out)


if __name__ == "__main__":
    nn_golden()
    losses_golden()
    optim_golden()
    sched_golden()
