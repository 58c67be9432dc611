#!/usr/bin/python3
"""Writes the PyTorch safetensors fixtures for Sinew's dev.sinew.io tests, and checks Sinew-written files.

Run with Debian's python3-torch (1.13); the `safetensors` package is not needed: this script reads and
writes the format itself (8-byte little-endian header length, UTF-8 JSON header padded with spaces to a
multiple of 8, little-endian row-major data), laying the data out like safetensors.torch.save_file
(largest element size first, then by name) while listing the header by name.

    /usr/bin/python3 core/src/test/python/make_safetensors_golden.py            # rewrite the fixtures
    /usr/bin/python3 core/src/test/python/make_safetensors_golden.py --verify F # check a Sinew-written file

Fixtures, in core/src/test/resources/golden/io/ (committed; the Maven build never runs Python):
  mlp_f32.safetensors     state_dict() of nn.Sequential(Linear(20,16), ReLU, Linear(16,8), ReLU, Linear(8,4))
  mlp_f32_io.safetensors  "input" [5, 20] and "output" [5, 4] = model(input)
  mlp_f64.safetensors, mlp_f64_io.safetensors   the same in float64 (an independently initialised model)
  dtypes.safetensors      "x.<dtype>" for float16, bfloat16, float32, float64, int64, int32, int16, int8, uint8,
                          bool, each with "expected.<dtype>" = x.double() (what Sinew must load)

--verify FILE: FILE holds a Sinew model's state dict with the MLP's names plus "input" and "output"
(Sinew's forward). The script loads the weights into the PyTorch MLP with load_state_dict(strict=True),
runs it on "input" and compares with "output" (max |diff| <= 1e-5 in float32, 1e-12 in float64).
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "golden", "io")

DTYPES = {  # torch dtype -> safetensors name
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}
NAMES = {v: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    """Little-endian row-major bytes of t (this machine is little-endian, as torch stores it)."""
    assert sys.byteorder == "little"
    t = t.detach().contiguous()
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save(path, tensors, metadata=None):
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))  # data layout, as save_file does
    header, pos = {}, 0
    for k in order:
        n = len(tensor_bytes(tensors[k]))
        header[k] = {"dtype": DTYPES[tensors[k].dtype], "shape": list(tensors[k].shape), "data_offsets": [pos, pos + n]}
        pos += n
    listed = {}
    if metadata:
        listed["__metadata__"] = metadata
    for k in sorted(header):  # header listed by name: not the data order
        listed[k] = header[k]
    h = json.dumps(listed, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for k in order:
            f.write(tensor_bytes(tensors[k]))
    print("wrote", os.path.normpath(path))


def load(path):
    """Returns ({name: tensor}, metadata) in header order."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + n:]
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        dt = NAMES[v["dtype"]]
        buf = bytearray(data[b:e])
        if dt in (torch.float16, torch.bfloat16):
            t = torch.frombuffer(buf, dtype=torch.int16).view(dt) if buf else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(buf, dtype=dt) if buf else torch.empty(0, dtype=dt)
        out[k] = t.reshape(v["shape"]).clone()
    return out, meta


def mlp(dtype):
    return nn.Sequential(nn.Linear(20, 16, dtype=dtype), nn.ReLU(), nn.Linear(16, 8, dtype=dtype), nn.ReLU(),
                         nn.Linear(8, 4, dtype=dtype))


def make():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        model = mlp(dtype)
        x = torch.randn(5, 20, dtype=dtype)
        with torch.no_grad():
            y = model(x)
        save(os.path.join(OUT, "mlp_%s.safetensors" % tag), model.state_dict(),
             {"format": "pt", "source": "torch %s nn.Sequential 20-16-8-4" % torch.__version__})
        save(os.path.join(OUT, "mlp_%s_io.safetensors" % tag), {"input": x, "output": y})

    vals = torch.tensor([[0.0, -0.0, 1.0, -2.5, 0.1, 65504.0], [3.0, -7.0, 1e-3, 6e-8, 100.0, 0.3333]],
                        dtype=torch.float64)
    ints = torch.tensor([[0, 1, -1, 127, -128, 42], [5, -5, 100, -100, 7, 0]], dtype=torch.int64)
    d = {}
    for dt in DTYPES:
        if dt.is_floating_point:
            x = vals.to(dt)
        elif dt == torch.uint8:
            x = (ints % 256).to(dt)
        elif dt == torch.bool:
            x = ints != 0
        else:
            x = ints.to(dt)
        x = x.t()  # a transposed view: the writer must store it row-major
        name = str(dt).replace("torch.", "")
        d["x." + name] = x
        d["expected." + name] = x.double()
    d["x.int64"][0, 0] = -(2 ** 63)  # extremes survive
    d["expected.int64"] = d["x.int64"].double()
    d["x.int64_exact"] = torch.tensor([-(2 ** 63), 2 ** 63 - 1, 3], dtype=torch.int64)
    save(os.path.join(OUT, "dtypes.safetensors"), d, {"purpose": "dtype conversions"})


def verify(path):
    tensors, meta = load(path)
    x = tensors.pop("input")
    y_sinew = tensors.pop("output")
    dtype = x.dtype
    model = mlp(dtype)
    model.load_state_dict(tensors, strict=True)
    with torch.no_grad():
        y = model(x)
    diff = (y - y_sinew).abs().max().item()
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    print("%s: %d weight tensors %s, metadata %s; PyTorch output vs Sinew output: max |diff| = %.3g (tolerance %g)"
          % (path, len(tensors), str(dtype).replace("torch.", ""), meta, diff, tol))
    if not diff <= tol:
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
