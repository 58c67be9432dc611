#!/usr/bin/python3
"""PyTorch golden fixtures for Sinew's convolution, pooling and batch-norm layers.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 core/src/test/python/make_golden_conv.py

It writes three safetensors files under core/src/test/resources/golden/conv/:

  conv2d.safetensors     torch.nn.functional.conv2d: strides 1-3, paddings 0-3, "same"/"valid",
                         explicit per-side padding (through F.pad), dilation 1-2, groups
                         1/2/depthwise, odd and even sizes, batch 1 and >1, 1x1 to 7x7 kernels
  pool2d.safetensors     max_pool2d (incl. dilation, ceil mode, ties), avg_pool2d (padding,
                         ceil mode, count_include_pad), adaptive_avg_pool2d
  batchnorm2d.safetensors BatchNorm2d in training (output, input/weight/bias gradients, running
                         statistics after one and two steps) and then in evaluation

Each case <c> stores tensors named "<c>.<what>" and a JSON description under the metadata key
<c>; the metadata key "cases" lists the case names in order. Inputs (x, weights, upstream
gradients "dy") are drawn in float32 and stored as F32, so that they are exact in both float32 and
float64; the expected results were computed by PyTorch in float64 and are stored as F64. Tests
compare a float64 run with 1e-10 relative error and a float32 run with 1e-4.

The safetensors format is written by the small writer below (the safetensors package is not
needed): an 8-byte little-endian header length, a JSON header (dtype, shape, data_offsets per
tensor, and "__metadata__" with string values) padded with spaces to a multiple of 8, then the
raw little-endian data.
"""

import json
import os
import struct
import zlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "golden", "conv")

_DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8")}


def save_safetensors(path, tensors, metadata):
    """Writes {name: tensor} and {key: str} metadata as a safetensors file."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        code, np_type = _DTYPES[t.dtype]
        data = t.numpy().astype(np_type).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def seed(name):
    """A stable per-case seed (str hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def randn(*shape):
    """Float32 normal samples, returned as float64 holding exactly those float32 values."""
    return torch.randn(*shape, dtype=torch.float32).double()


def uniform(lo, hi, *shape):
    return (torch.rand(*shape, dtype=torch.float32) * (hi - lo) + lo).double()


def f32(t):
    """An input stored as F32: it must be exact in float32, or the float64 results would not be its."""
    t = t.detach()
    assert torch.equal(t.float().double(), t.double()), "input is not exact in float32"
    return t.float()


# ---- conv2d ---------------------------------------------------------------------------------------

# (name, N, C_in, C_out, H, W, kernel (kH, kW), stride, padding, dilation, groups, bias)
# padding: int or (pH, pW) as PyTorch, "same"/"valid", or ("sides", top, bottom, left, right).
CONV = [
    ("k3_basic", 1, 1, 1, 5, 5, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    ("k3_p1", 2, 3, 4, 7, 7, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ("k3_s2_p1_even", 2, 3, 4, 8, 8, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    ("k3_s3", 1, 2, 3, 9, 9, (3, 3), (3, 3), (0, 0), (1, 1), 1, True),
    ("k3_p2_oddeven", 2, 2, 2, 6, 7, (3, 3), (1, 1), (2, 2), (1, 1), 1, True),
    ("k3_s2_p3", 1, 3, 2, 10, 10, (3, 3), (2, 2), (3, 3), (1, 1), 1, True),
    ("groups2", 2, 4, 6, 8, 8, (3, 3), (1, 1), (1, 1), (1, 1), 2, True),
    ("depthwise", 2, 4, 4, 9, 9, (3, 3), (1, 1), (1, 1), (1, 1), 4, True),
    ("depthwise_mult2", 1, 3, 6, 7, 7, (3, 3), (1, 1), (1, 1), (1, 1), 3, True),
    ("dil2", 2, 2, 3, 9, 9, (3, 3), (1, 1), (0, 0), (2, 2), 1, True),
    ("dil2_s2_p2", 1, 2, 2, 10, 9, (3, 3), (2, 2), (2, 2), (2, 2), 1, True),
    ("k1", 2, 3, 4, 5, 5, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    ("k1_s2", 1, 4, 8, 6, 6, (1, 1), (2, 2), (0, 0), (1, 1), 1, True),
    ("k7", 1, 2, 3, 9, 10, (7, 7), (1, 1), (0, 0), (1, 1), 1, True),
    ("k7_s2_p3", 1, 1, 2, 12, 12, (7, 7), (2, 2), (3, 3), (1, 1), 1, True),
    ("lenet_conv1", 2, 1, 6, 12, 12, (5, 5), (1, 1), (2, 2), (1, 1), 1, True),
    ("lenet_conv2", 2, 6, 16, 8, 8, (5, 5), (1, 1), (0, 0), (1, 1), 1, True),
    ("same_k3", 1, 2, 3, 7, 7, (3, 3), (1, 1), "same", (1, 1), 1, True),
    ("same_k4_even", 1, 2, 2, 6, 6, (4, 4), (1, 1), "same", (1, 1), 1, True),
    ("same_k3_dil2", 2, 2, 2, 8, 8, (3, 3), (1, 1), "same", (2, 2), 1, True),
    ("same_k2_dil3", 1, 2, 2, 7, 8, (2, 2), (1, 1), "same", (3, 3), 1, True),
    ("same_k7", 1, 1, 2, 9, 9, (7, 7), (1, 1), "same", (1, 1), 1, True),
    ("same_rect_groups2", 2, 4, 2, 6, 7, (2, 3), (1, 1), "same", (1, 1), 2, True),
    ("valid", 2, 3, 2, 6, 6, (3, 3), (1, 1), "valid", (1, 1), 1, True),
    ("nobias_s2_p1", 2, 3, 4, 7, 6, (3, 3), (2, 2), (1, 1), (1, 1), 1, False),
    ("rect_kernel", 1, 2, 3, 7, 9, (3, 5), (1, 2), (1, 2), (1, 1), 1, True),
    ("rect_stride_dil", 2, 2, 2, 8, 9, (3, 3), (2, 1), (1, 0), (1, 2), 1, True),
    ("b3_g2_s2_d2_p2", 3, 4, 6, 11, 11, (3, 3), (2, 2), (2, 2), (2, 2), 2, True),
    ("depthwise_k5_s2_p2", 2, 3, 3, 10, 10, (5, 5), (2, 2), (2, 2), (1, 1), 3, True),
    ("k1_groups2", 1, 4, 6, 5, 5, (1, 1), (1, 1), (0, 0), (1, 1), 2, True),
    ("k2_s2", 2, 2, 4, 8, 8, (2, 2), (2, 2), (0, 0), (1, 1), 1, True),
    ("k4_s3_p3", 1, 2, 3, 11, 13, (4, 4), (3, 3), (3, 3), (1, 1), 1, True),
    ("input_equals_kernel", 1, 2, 3, 3, 3, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    ("h1_row", 1, 2, 2, 1, 9, (1, 3), (1, 1), (0, 1), (1, 1), 1, True),
    ("s3_d2_p1", 2, 2, 2, 13, 12, (3, 3), (3, 3), (1, 1), (2, 2), 1, True),
    ("g2_k4_s2_p1_nobias", 2, 4, 4, 10, 10, (4, 4), (2, 2), (1, 1), (1, 1), 2, False),
    ("sides_asym", 2, 2, 3, 6, 7, (3, 3), (1, 1), ("sides", 0, 2, 1, 3), (1, 1), 1, True),
    ("sides_asym_s2_d2", 1, 3, 2, 9, 8, (3, 2), (2, 1), ("sides", 3, 1, 0, 2), (2, 1), 1, True),
]


def conv_case(cfg):
    name, n, cin, cout, h, w, k, s, pad, d, g, bias = cfg
    torch.manual_seed(seed(name))
    x = randn(n, cin, h, w).requires_grad_(True)
    fan_in = cin // g * k[0] * k[1]
    bound = 1.0 / fan_in ** 0.5
    wt = uniform(-bound, bound, cout, cin // g, k[0], k[1]).requires_grad_(True)
    b = uniform(-bound, bound, cout).requires_grad_(True) if bias else None
    meta = {"stride": list(s), "dilation": list(d), "groups": g, "bias": bias}
    if isinstance(pad, tuple) and pad[0] == "sides":
        top, bottom, left, right = pad[1:]
        xp = F.pad(x, (left, right, top, bottom))
        y = F.conv2d(xp, wt, b, stride=s, padding=0, dilation=d, groups=g)
        meta["padding"] = [top, bottom, left, right]
    else:
        y = F.conv2d(x, wt, b, stride=s, padding=pad, dilation=d, groups=g)
        meta["padding"] = pad if isinstance(pad, str) else list(pad)
    dy = randn(*y.shape)
    y.backward(dy)
    t = {"x": f32(x), "weight": f32(wt), "dy": f32(dy), "y": y.detach(), "dx": x.grad, "dweight": wt.grad}
    if bias:
        t["bias"] = f32(b)
        t["dbias"] = b.grad
    return name, t, meta


# ---- pooling --------------------------------------------------------------------------------------

# max: (name, shape, kernel, stride, padding, dilation, ceil, ties)
MAX = [
    ("max_k2", (2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False, False),
    ("max_k3_s2_p1", (2, 2, 9, 9), (3, 3), (2, 2), (1, 1), (1, 1), False, False),
    ("max_k3_s1_p1_d2", (1, 2, 8, 7), (3, 3), (1, 1), (1, 1), (2, 2), False, False),
    ("max_k3_s2_ceil", (1, 2, 8, 8), (3, 3), (2, 2), (0, 0), (1, 1), True, False),
    ("max_k2_ceil_odd", (2, 2, 7, 7), (2, 2), (2, 2), (0, 0), (1, 1), True, False),
    ("max_k3_s3_p1_ceil", (1, 3, 10, 11), (3, 3), (3, 3), (1, 1), (1, 1), True, False),
    ("max_rect", (2, 2, 7, 9), (2, 3), (1, 2), (1, 1), (1, 1), False, False),
    ("max_ties", (2, 2, 6, 6), (3, 3), (1, 1), (1, 1), (1, 1), False, True),
    ("max_ties_k2", (1, 3, 6, 6), (2, 2), (2, 2), (0, 0), (1, 1), False, True),
    ("max_d2_ceil", (1, 2, 9, 10), (2, 3), (2, 2), (1, 1), (2, 2), True, False),
]

# avg: (name, shape, kernel, stride, padding, ceil, count_include_pad)
AVG = [
    ("avg_k2", (2, 3, 8, 8), (2, 2), (2, 2), (0, 0), False, True),
    ("avg_k3_s2_p1_incl", (2, 2, 9, 9), (3, 3), (2, 2), (1, 1), False, True),
    ("avg_k3_s2_p1_excl", (2, 2, 9, 9), (3, 3), (2, 2), (1, 1), False, False),
    ("avg_k3_s2_p1_ceil_incl", (1, 2, 8, 8), (3, 3), (2, 2), (1, 1), True, True),
    ("avg_k3_s2_p1_ceil_excl", (1, 2, 8, 8), (3, 3), (2, 2), (1, 1), True, False),
    ("avg_k3_s3_p1_ceil_excl", (1, 2, 10, 11), (3, 3), (3, 3), (1, 1), True, False),
    ("avg_k2_ceil_odd", (2, 2, 7, 7), (2, 2), (2, 2), (0, 0), True, True),
    ("avg_rect", (1, 3, 7, 9), (2, 3), (1, 2), (1, 1), False, True),
    ("avg_rect_excl", (1, 3, 7, 9), (2, 3), (1, 2), (1, 1), False, False),
]

# adaptive: (name, shape, (outH, outW))
ADAPTIVE = [
    ("adaptive_7_to_3", (2, 2, 7, 7), (3, 3)),
    ("adaptive_8_to_4", (1, 3, 8, 8), (4, 4)),
    ("adaptive_5x7_to_2x3", (2, 2, 5, 7), (2, 3)),
    ("adaptive_global", (2, 3, 6, 6), (1, 1)),
    ("adaptive_up_3_to_5", (1, 2, 3, 4), (5, 6)),
]


def pool_cases():
    out = []
    for name, shape, k, s, p, d, ceil, ties in MAX:
        torch.manual_seed(seed(name))
        x = (torch.randint(-2, 3, shape).double() if ties else randn(*shape)).requires_grad_(True)
        y = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil)
        dy = randn(*y.shape)
        y.backward(dy)
        meta = {"op": "max", "kernel": list(k), "stride": list(s), "padding": list(p), "dilation": list(d),
                "ceil_mode": ceil}
        out.append((name, {"x": f32(x), "dy": f32(dy), "y": y.detach(), "dx": x.grad}, meta))
    for name, shape, k, s, p, ceil, incl in AVG:
        torch.manual_seed(seed(name))
        x = randn(*shape).requires_grad_(True)
        y = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=incl)
        dy = randn(*y.shape)
        y.backward(dy)
        meta = {"op": "avg", "kernel": list(k), "stride": list(s), "padding": list(p), "ceil_mode": ceil,
                "count_include_pad": incl}
        out.append((name, {"x": f32(x), "dy": f32(dy), "y": y.detach(), "dx": x.grad}, meta))
    for name, shape, size in ADAPTIVE:
        torch.manual_seed(seed(name))
        x = randn(*shape).requires_grad_(True)
        y = F.adaptive_avg_pool2d(x, size)
        dy = randn(*y.shape)
        y.backward(dy)
        meta = {"op": "adaptive", "output_size": list(size)}
        out.append((name, {"x": f32(x), "dy": f32(dy), "y": y.detach(), "dx": x.grad}, meta))
    return out


# ---- batch norm -----------------------------------------------------------------------------------

# (name, shape, momentum, affine, track_running_stats, eps)
BN = [
    ("bn_default", (4, 3, 5, 5), 0.1, True, True, 1e-5),
    ("bn_cumulative", (3, 2, 4, 6), None, True, True, 1e-5),
    ("bn_momentum_half_eps", (2, 4, 3, 3), 0.5, True, True, 1e-3),
    ("bn_no_affine", (4, 2, 3, 4), 0.1, False, True, 1e-5),
    ("bn_no_tracking", (3, 3, 4, 4), 0.1, True, False, 1e-5),
    ("bn_1x1_spatial", (5, 3, 1, 1), 0.1, True, True, 1e-5),
]


def bn_case(cfg):
    name, shape, momentum, affine, track, eps = cfg
    torch.manual_seed(seed(name))
    c = shape[1]
    bn = torch.nn.BatchNorm2d(c, eps=eps, momentum=momentum, affine=affine, track_running_stats=track).double()
    t = {}
    if affine:
        with torch.no_grad():
            bn.weight.copy_(uniform(0.5, 1.5, c))
            bn.bias.copy_(uniform(-0.5, 0.5, c))
        t["weight"] = f32(bn.weight)
        t["bias"] = f32(bn.bias)
    # two training steps (the first with gradients), then one evaluation forward
    x1 = (randn(*shape) * 2 + 0.5).float().double().requires_grad_(True)  # exact in float32
    bn.train()
    y1 = bn(x1)
    dy = randn(*shape)
    y1.backward(dy)
    t.update({"x1": f32(x1), "dy": f32(dy), "y1": y1.detach(), "dx1": x1.grad})
    if affine:
        t["dweight"] = bn.weight.grad
        t["dbias"] = bn.bias.grad
    if track:
        t["running_mean1"] = bn.running_mean.clone()
        t["running_var1"] = bn.running_var.clone()
    x2 = (randn(*shape) - 0.25).float().double()
    with torch.no_grad():
        y2 = bn(x2)
    t.update({"x2": f32(x2), "y2": y2})
    if track:
        t["running_mean2"] = bn.running_mean.clone()
        t["running_var2"] = bn.running_var.clone()
        t["num_batches_tracked"] = bn.num_batches_tracked.clone()
    bn.eval()
    x3 = randn(*shape)
    with torch.no_grad():
        y3 = bn(x3)
    t.update({"x3": f32(x3), "y3": y3})
    meta = {"momentum": momentum, "affine": affine, "track_running_stats": track, "eps": eps}
    return name, t, meta


def write(filename, cases):
    tensors = {}
    metadata = {"cases": json.dumps([c[0] for c in cases]),
                "generator": "make_golden_conv.py, torch " + torch.__version__}
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
    write("conv2d.safetensors", [conv_case(c) for c in CONV])
    write("pool2d.safetensors", pool_cases())
    write("batchnorm2d.safetensors", [bn_case(c) for c in BN])


if __name__ == "__main__":
    main()
