#!/usr/bin/python3
"""A torch.nn twin of a castnet spec: DESIGN.md's interop contract, seen from PyTorch.

The twin reads the spec's TOML itself and builds one torch.nn module per layer with parameters,
registered under the layer's name, so castnet's weights.safetensors loads with
load_state_dict(strict=True) and the twin's own weights save under the names castnet expects.
Its verbs take castnet's arguments and print what castnet prints:

  torch_twin.py predict SPEC --weights W --input X.csv   castnet predict's header and rows
  torch_twin.py eval SPEC --weights W --data D.csv       "loss L" (torch's default reductions)
  torch_twin.py train SPEC --data D.csv --out W [--seed S] [--steps N] [--lr LR]
      torch's default initialisation from the seed, N full-batch Adam steps, then W: the
      parameters, and the spec's input normalisation fitted on D in castnet's metadata
  torch_twin.py replay SPEC... --init W0 --data D.csv --out DIR
      `castnet train SPEC --init W0 --data D.csv` in torch, for each SPEC (one torch start for
      many): the spec's optimizer, l2, clip_norm, schedule and warm-up over its epochs, in file
      order (`shuffle = false`). Writes DIR/<SPEC's stem>.safetensors (the trained weights),
      .predict.csv (what predict prints with them, for D's inputs) and .metrics.csv
      ("epoch,loss,lr,clipped": metrics.csv's loss and lr, and the steps whose gradient was clipped)

Inputs are normalised as castnet does (runtime/include/castnet/data/normalize.hpp): x' = (x - offset)
* scale in double from float inputs, with the statistics in the weights' metadata. No package
beyond torch is needed: safetensors is read and written here (Debian has no python3-safetensors).
Needs Python 3.11 (tomllib) and torch; tests/e2e/torch_twin_test.cpp runs it.
"""
import argparse
import csv
import json
import math
import pathlib
import struct
import tomllib

import torch
import torch.nn.functional as F
from torch import nn

# ---- safetensors: an 8-byte little-endian header length, a JSON header, then the raw data ----

DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8)}  # dtype, bytes per value


def read_safetensors(path):
    """Returns ({name: tensor}, metadata); F32 and F64 tensors, as castnet writes them."""
    with open(path, "rb") as f:
        blob = bytearray(f.read())  # writable, so torch.frombuffer shares it without a warning
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + length])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = (8 + length + o for o in info["data_offsets"])
        dtype, size = DTYPES[info["dtype"]]
        # x86 and the file are both little-endian, so the bytes are the values
        values = torch.frombuffer(blob, dtype=dtype, count=(end - begin) // size, offset=begin)
        tensors[name] = values.reshape(info["shape"]).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes {name: float32 tensor} and string metadata."""
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the format's recommended alignment of the data
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


# ---- the spec: shapes and modules ----


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def activation(kind, layer):
    """The activation as a function, with castnet's defaults, which are torch's."""
    alpha = layer.get("alpha")
    return {
        "identity": lambda z: z,
        "relu": torch.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01 if alpha is None else alpha),
        "elu": lambda z: F.elu(z, 1.0 if alpha is None else alpha),
        "gelu": F.gelu,  # exact (erf)
        "silu": F.silu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": lambda z: F.softplus(z, layer.get("beta", 1.0), 20),
        # castnet's softmax runs over all of a sample's values, an image's [C, H, W] included
        "softmax": lambda z: torch.softmax(z.flatten(1), 1).view_as(z),
    }[kind]


ACTIVATIONS = ("identity", "relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus", "softmax")


# ---- one builder per castnet layer kind ----
# Each takes the twin (to register modules with parameters under the layer's name), the layer's
# table, its input shapes (one sample each) and its activation function, and returns the layer as a
# function of its input tensors and its output shape. LAYER_KINDS maps every castnet layer kind
# (ir/op_kinds.def) to its builder; tests/unit/kinds_test.cpp checks that none is missing.


def _dense(twin, layer, ins, act):
    module = twin._register(layer["name"], nn.Linear(ins[0][0], layer["units"]))
    return (lambda x: act(module(x))), (layer["units"],)


def _glu(twin, layer, ins, act):
    module = twin._register(layer["name"], nn.Linear(ins[0][0], 2 * layer["units"]))
    return (lambda x: F.glu(module(x), -1)), (layer["units"],)


def _conv2d(twin, layer, ins, act):
    shape = ins[0]
    (kh, kw), (sh, sw) = pair(layer["kernel"]), pair(layer.get("stride", 1))
    padding = layer.get("padding", 0)
    if padding == "same":
        ph, pw = kh // 2, kw // 2
    else:
        ph, pw = pair(0 if padding == "valid" else padding)
    module = twin._register(layer["name"], nn.Conv2d(shape[0], layer["filters"], (kh, kw), (sh, sw), (ph, pw)))
    out = (layer["filters"], (shape[1] + 2 * ph - kh) // sh + 1, (shape[2] + 2 * pw - kw) // sw + 1)
    return (lambda x: act(module(x))), out


def _pool2d(pool):
    def build(twin, layer, ins, act):
        shape = ins[0]
        kh, kw = pair(layer["size"])
        sh, sw = pair(layer.get("stride", layer["size"]))
        return pool((kh, kw), (sh, sw)), (shape[0], (shape[1] - kh) // sh + 1, (shape[2] - kw) // sw + 1)

    return build


def _prelu(twin, layer, ins, act):
    return twin._register(layer["name"], nn.PReLU(ins[0][0])), ins[0]


def _layernorm(twin, layer, ins, act):
    return twin._register(layer["name"], nn.LayerNorm(ins[0][0], eps=layer.get("eps", 1e-5))), ins[0]


class TrainableSwish(nn.Module):
    """sigmoid(a x + b) (c x + d) with (a, b, c, d) per channel (dim 1), starting as SiLU."""

    def __init__(self, channels):
        super().__init__()
        self.a = nn.Parameter(torch.ones(channels))
        self.b = nn.Parameter(torch.zeros(channels))
        self.c = nn.Parameter(torch.ones(channels))
        self.d = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        shape = (1, -1) + (1,) * (x.dim() - 2)  # one value per channel, broadcast over h and w
        a, b, c, d = (p.view(shape) for p in (self.a, self.b, self.c, self.d))
        return torch.sigmoid(a * x + b) * (c * x + d)


def _trainable_swish(twin, layer, ins, act):
    return twin._register(layer["name"], TrainableSwish(ins[0][0])), ins[0]


def basis_values(kind, count, lo, hi, x):
    """psi_k(x) for k < count, in a new last dimension (specs/README.md, basis_activation): Gaussians
    (rbf) or cubic B-splines on a uniform grid over [lo, hi], each its tangent line past the ends."""
    steps = count - 3  # both kinds: one grid of count - 3 steps over [lo, hi]
    h = (hi - lo) / steps
    u = (x - lo) / h
    uc = u.clamp(0, steps)  # the nearer end's grid position past the range
    e = (u - uc).unsqueeze(-1)  # how far past it, in grid steps (0 inside)
    k = torch.arange(count, dtype=x.dtype)
    if kind == "rbf":
        r = uc.unsqueeze(-1) - k + 1  # centres lo + (k - 1) h: one past each end
        g = torch.exp(-r * r)
        return g - 2 * r * g * e  # value, plus the slope d/du times e
    v = uc.unsqueeze(-1) - k + 3  # (x - t_k) / h on knots t_j = lo + (j - 3) h: B lives on [0, 4]
    a, b, c = v - 1, v - 2, 4 - v
    value = torch.where(v < 1, v**3, torch.where(v < 2, -3 * a**3 + 3 * a**2 + 3 * a + 1,
                        torch.where(v < 3, 3 * b**3 - 6 * b**2 + 4, c**3))) / 6
    slope = torch.where(v < 1, 3 * v**2, torch.where(v < 2, -9 * a**2 + 6 * a + 3,
                        torch.where(v < 3, 9 * b**2 - 12 * b, -3 * c**2))) / 6
    return torch.where((v > 0) & (v < 4), value + slope * e, torch.zeros_like(v))


def silu_fit(kind, count, lo, hi):
    """castnet's initial coefficients: the least-squares fit of SiLU at 16 points per grid step."""
    steps = count - 3
    s = torch.linspace(lo, hi, 16 * steps + 1, dtype=torch.float64)
    a = basis_values(kind, count, lo, hi, s)
    return torch.linalg.lstsq(a, (s * torch.sigmoid(s)).unsqueeze(-1)).solution.squeeze(-1)


class BasisActivation(nn.Module):
    """sum_k coef[c][k] psi_k(x), one row of coefficients per channel (dim 1)."""

    def __init__(self, channels, layer):
        super().__init__()
        self.kind, self.count = layer["basis"], layer["count"]
        self.lo, self.hi = (float(v) for v in layer["range"])
        fit = silu_fit(self.kind, self.count, self.lo, self.hi).to(torch.float32)
        self.coef = nn.Parameter(fit.repeat(channels, 1))

    def forward(self, x):
        psi = basis_values(self.kind, self.count, self.lo, self.hi, x)  # (N, C, [H, W,] count)
        coef = self.coef.view((1, self.coef.shape[0]) + (1,) * (x.dim() - 2) + (self.count,))
        return (psi * coef).sum(-1)


def _basis_activation(twin, layer, ins, act):
    return twin._register(layer["name"], BasisActivation(ins[0][0], layer)), ins[0]


class Kan(nn.Module):
    """efficient-kan's KANLinear with castnet's grid: y = silu(x) W^T + B(x) C^T over cubic
    B-splines on [lo, hi] (basis_values), starting as castnet does: W ~ U(+-1/sqrt(in)) (torch's
    nn.Linear), C ~ U(+-0.1/grid)."""

    def __init__(self, inputs, layer):
        super().__init__()
        self.grid = layer["grid"]
        self.lo, self.hi = (float(v) for v in layer["range"])
        bound = 1 / math.sqrt(inputs)
        self.base_weight = nn.Parameter(torch.empty(layer["units"], inputs).uniform_(-bound, bound))
        spline = 0.1 / self.grid
        self.spline_weight = nn.Parameter(torch.empty(layer["units"], inputs, self.grid).uniform_(-spline, spline))

    def forward(self, x):
        bases = basis_values("bspline", self.grid, self.lo, self.hi, x)  # (N, in, grid)
        return F.linear(F.silu(x), self.base_weight) + F.linear(bases.flatten(1), self.spline_weight.flatten(1))


def _kan(twin, layer, ins, act):
    return twin._register(layer["name"], Kan(ins[0][0], layer)), (layer["units"],)


def _hardtanh(twin, layer, ins, act):
    return nn.Hardtanh(layer.get("min_val", -1.0), layer.get("max_val", 1.0)), ins[0]


def _flatten(twin, layer, ins, act):
    return (lambda x: x.flatten(1)), (math.prod(ins[0]),)


def _dropout(twin, layer, ins, act):
    return (lambda x: x), ins[0]  # inference: the identity (training refuses dropout)


def _activation(twin, layer, ins, act):
    return activation(layer["type"], layer), ins[0]


def _add(twin, layer, ins, act):
    return (lambda *xs: sum(xs[1:], xs[0])), ins[0]


def _concat(twin, layer, ins, act):
    if len(ins[0]) == 3:  # images join along channels
        return (lambda *xs: torch.cat(xs, 1)), (sum(s[0] for s in ins),) + ins[0][1:]
    return (lambda *xs: torch.cat([x.flatten(1) for x in xs], 1)), (sum(math.prod(s) for s in ins),)


LAYER_KINDS = {
    "dense": _dense,
    "activation": _activation,
    "dropout": _dropout,
    "conv2d": _conv2d,
    "maxpool2d": _pool2d(nn.MaxPool2d),
    "avgpool2d": _pool2d(nn.AvgPool2d),
    "flatten": _flatten,
    "add": _add,
    "concat": _concat,
    "glu": _glu,
    "prelu": _prelu,
    "hardtanh": _hardtanh,
    "trainable_swish": _trainable_swish,
    "basis_activation": _basis_activation,
    "kan": _kan,
    "layernorm": _layernorm,
}


class Twin(nn.Module):
    def __init__(self, spec):
        super().__init__()
        layers = spec["layer"]
        for i, layer in enumerate(layers):
            layer.setdefault("name", f"{layer['type']}{i + 1}")  # castnet's default, 1-based
            layer.setdefault("inputs", [layers[i - 1]["name"] if i else "input"])
        # Internal attributes start with "_", which no castnet layer name does (specs/README.md).
        self._layers = {layer["name"]: layer for layer in layers}
        self._output = layers[-1]["name"]
        self._input_shape = tuple(spec["input"])
        self._ops = {}  # name -> (function of the input tensors, input names)
        self._shapes = {"input": self._input_shape}
        self._shape(self._output)

    def _shape(self, name):
        """Builds `name`'s module (after its inputs') and returns its output shape (one sample)."""
        if name in self._shapes:
            return self._shapes[name]
        layer = self._layers[name]
        ins = [self._shape(i) for i in layer["inputs"]]
        kind = "activation" if layer["type"] in ACTIVATIONS else layer["type"]
        if kind not in LAYER_KINDS:
            raise SystemExit(f"torch_twin: layer '{name}': type '{layer['type']}' is not supported")
        act = activation(layer.get("activation", "identity"), layer)
        op, out = LAYER_KINDS[kind](self, layer, ins, act)
        self._ops[name] = (op, layer["inputs"])
        self._shapes[name] = out
        return out

    def _register(self, name, module):
        """Registers a module with parameters: state_dict keys <layer>.weight, <layer>.bias."""
        self.add_module(name, module)
        return module

    def forward(self, x):
        values = {"input": x.reshape((x.shape[0],) + self._input_shape)}

        def value(name):
            if name not in values:
                op, inputs = self._ops[name]
                values[name] = op(*(value(i) for i in inputs))
            return values[name]

        return value(self._output).reshape(x.shape[0], -1)


# ---- data, normalisation and losses as castnet has them ----


def read_csv(path, labels):
    """(inputs, targets) as float32 tensors: every column but `labels`, and `labels`."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], [r for r in rows[1:] if r]
    columns = [i for i, h in enumerate(header) if h not in labels]
    target_columns = [header.index(label) for label in labels if label in header]
    x = torch.tensor([[float(r[i]) for i in columns] for r in rows], dtype=torch.float32)
    t = torch.tensor([[float(r[i]) for i in target_columns] for r in rows], dtype=torch.float32)
    return x, t


def fit_normalization(kind, x):
    """castnet's Normalization::fit: (offset, scale) as lists of floats, or None."""
    x = x.double()
    if kind == "scale":
        lo, hi = x.min().item(), x.max().item()
        return [lo], [1.0 / (hi - lo) if hi > lo else 1.0]
    if kind == "standardize":
        mean = x.mean(0)
        sd = ((x - mean) ** 2).mean(0).sqrt()
        return mean.tolist(), [1.0 / s if s > 1e-12 else 1.0 for s in sd.tolist()]
    return None


def normalize(x, metadata):
    """Applies the normalisation in castnet's weights metadata, in double as castnet does."""
    if "castnet_normalize" not in metadata:
        return x
    offset = torch.tensor([float(v) for v in metadata["castnet_normalize_offset"].split(",")], dtype=torch.float64)
    scale = torch.tensor([float(v) for v in metadata["castnet_normalize_scale"].split(",")], dtype=torch.float64)
    return ((x.double() - offset) * scale).float()


def loss_of(kind, y, t):
    """castnet's losses are torch's with their default reductions; computed in double."""
    return train_loss(kind, y.double(), t.double())


def train_loss(kind, y, t):
    """The loss in y's precision: castnet's train_step returns it in float."""
    if kind == "mse":
        return F.mse_loss(y, t)
    if kind == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(y, t)
    return F.cross_entropy(y, t.reshape(-1).long())


# ---- verbs ----


def load_twin(spec, weights):
    twin = Twin(spec)
    tensors, metadata = read_safetensors(weights)
    twin.load_state_dict(tensors, strict=True)
    return twin.eval(), metadata


def predictions(spec, twin, x, metadata):
    """What castnet predict prints for inputs x (before normalisation): a header, then rows."""
    with torch.no_grad():
        y = twin(normalize(x, metadata)).double()
    kind = spec["loss"]["type"]
    if kind == "mse":
        header, values = [f"y{k}" for k in range(y.shape[1])], y
    elif kind == "binary_cross_entropy":
        header, values = [f"p{k}" for k in range(y.shape[1])], torch.sigmoid(y)
    else:
        header = [f"p{k}" for k in range(y.shape[1])] + ["class"]
        values = torch.cat([torch.softmax(y, 1), y.argmax(1, keepdim=True).double()], 1)
    return "".join(",".join(row) + "\n" for row in [header] + [[f"{v:.9g}" for v in r] for r in values.tolist()])


def predict(spec, args):
    twin, metadata = load_twin(spec, args.weights)
    x, _ = read_csv(args.input, spec.get("data", {}).get("labels", []))
    print(predictions(spec, twin, x, metadata), end="")


def evaluate(spec, args):
    twin, metadata = load_twin(spec, args.weights)
    x, t = read_csv(args.data, spec["data"]["labels"])
    with torch.no_grad():
        print(f"loss {loss_of(spec['loss']['type'], twin(normalize(x, metadata)), t).item():.9g}")


def train(spec, args):
    if any(layer["type"] == "dropout" for layer in spec["layer"]):
        raise SystemExit("torch_twin: train: torch's dropout masks are not castnet's")
    torch.manual_seed(args.seed)
    twin = Twin(spec)
    x, t = read_csv(args.data, spec["data"]["labels"])
    stats = fit_normalization(spec["data"].get("normalize", "none"), x)
    metadata = {}
    if stats:
        metadata = {"castnet_normalize": spec["data"]["normalize"],
                    "castnet_normalize_offset": ",".join(repr(v) for v in stats[0]),
                    "castnet_normalize_scale": ",".join(repr(v) for v in stats[1])}
    x = normalize(x, metadata)
    adam = torch.optim.Adam(twin.parameters(), lr=args.lr)
    for _ in range(args.steps):
        adam.zero_grad()
        loss_of(spec["loss"]["type"], twin(x), t).backward()
        adam.step()
    write_safetensors(args.out, twin.state_dict(), metadata)


class HandMomentum(torch.optim.Optimizer):
    """castnet's momentum forms that torch.optim lacks (specs/README.md, v0 = 0):
    ema: v <- mu*v + (1 - mu)*g, p <- p - lr*v;  classic: v <- mu*v - lr*g, p <- p + v."""

    def __init__(self, params, lr, momentum, form):
        super().__init__(params, {"lr": lr, "momentum": momentum, "form": form})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            for p in group["params"]:
                v = self.state[p].setdefault("v", torch.zeros_like(p))
                if group["form"] == "ema":
                    v.mul_(mu).add_(p.grad, alpha=1 - mu)
                    p.add_(v, alpha=-lr)
                else:
                    v.mul_(mu).add_(p.grad, alpha=-lr)
                    p.add_(v)


def optimizer_of(opt, params):
    """The spec's [optimizer] as torch.optim's class with castnet's defaults (specs/README.md)."""
    kind = opt.get("type", "sgd")
    lr = opt.get("lr", 0.001 if kind in ("adam", "adamw") else 0.01)
    mu, eps, betas = opt.get("momentum", 0.9), opt.get("eps", 1e-8), (opt.get("beta1", 0.9), opt.get("beta2", 0.999))
    if kind == "sgd":
        return torch.optim.SGD(params, lr)
    if kind == "momentum" and opt.get("form", "torch") == "torch":
        return torch.optim.SGD(params, lr, momentum=mu)
    if kind == "momentum":
        return HandMomentum(params, lr, mu, opt["form"])
    if kind == "nesterov":
        return torch.optim.SGD(params, lr, momentum=mu, nesterov=True)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr, alpha=opt.get("alpha", 0.99), eps=eps)
    if kind == "adam":
        return torch.optim.Adam(params, lr, betas=betas, eps=eps)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr, betas=betas, eps=eps, weight_decay=opt.get("weight_decay", 0.01))
    raise SystemExit(f"torch_twin: replay: optimizer '{kind}' is not replayed")


def decay_of(schedule, lr, epochs):
    """The schedule's per-epoch decay as torch's scheduler computes it, driving an optimizer of its
    own whose lr is read each epoch (castnet's warm-up then multiplies it per step)."""
    holder = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr)
    kind, s = schedule.get("type", "constant"), torch.optim.lr_scheduler
    if kind == "step":
        return holder, s.StepLR(holder, schedule.get("step_size", 10), schedule.get("gamma", 0.1))
    if kind == "exponential":
        return holder, s.ExponentialLR(holder, schedule.get("gamma", 0.95))
    if kind == "cosine":
        return holder, s.CosineAnnealingLR(holder, epochs, schedule.get("lr_min", 0.0))
    decay = schedule.get("decay", 0.0) if kind == "inverse_time" else 0.0  # constant: no decay
    return holder, s.LambdaLR(holder, lambda e: 1.0 / (1.0 + decay * e))


def replay(spec, args, out):
    """castnet's training loop (runtime/include/castnet/train/trainer.hpp) in torch: batches of
    `batch` rows in file order, the last one partial; per step the mean loss over its rows, plus
    l2/2 * sum of squares of the weights of rank >= 2, backward, clipping of the global gradient
    norm, then the optimizer at lr = decay(epoch) * min(1, (step + 1) / (warmup * steps per epoch)).
    An epoch's loss is the row-weighted mean of its steps' losses, each taken before its update."""
    train_spec, opt = spec.get("train", {}), spec.get("optimizer", {})
    if train_spec.get("shuffle", True) or train_spec.get("validation", 0) or train_spec.get("input_noise", 0):
        raise SystemExit("torch_twin: replay: needs [train] shuffle = false, and no validation or input_noise")
    if opt.get("type") == "lbfgs" or any(layer["type"] == "dropout" for layer in spec["layer"]):
        raise SystemExit("torch_twin: replay: lbfgs and dropout are not replayed")
    if spec["data"].get("targets", "labels") != "labels":
        raise SystemExit("torch_twin: replay: autoencoders (targets = \"inputs\") are not replayed")
    twin = Twin(spec)
    tensors, _ = read_safetensors(args.init)
    twin.load_state_dict(tensors, strict=True)
    inputs, t = read_csv(args.data, spec["data"]["labels"])
    stats = fit_normalization(spec["data"].get("normalize", "none"), inputs)
    metadata = {}
    if stats:
        metadata = {"castnet_normalize": spec["data"]["normalize"],
                    "castnet_normalize_offset": ",".join(repr(v) for v in stats[0]),
                    "castnet_normalize_scale": ",".join(repr(v) for v in stats[1])}
    x = normalize(inputs, metadata)

    optimizer = optimizer_of(opt, twin.parameters())
    schedule = opt.get("schedule", "constant")
    schedule = {"type": schedule} if isinstance(schedule, str) else schedule
    epochs, batch, rows = train_spec.get("epochs", 10), spec["batch"], x.shape[0]
    steps_per_epoch = -(-rows // batch)
    holder, decay = decay_of(schedule, optimizer.param_groups[0]["lr"], epochs)
    warmup, l2, clip = schedule.get("warmup", 0), opt.get("l2", 0.0), opt.get("clip_norm", 0.0)
    weights = [p for p in twin.parameters() if p.dim() >= 2]
    step, metrics = 0, "epoch,loss,lr,clipped\n"
    for epoch in range(1, epochs + 1):
        loss_sum, clipped = 0.0, 0
        for first in range(0, rows, batch):
            lr = holder.param_groups[0]["lr"]
            if warmup > 0:
                lr *= min(1.0, (step + 1) / (warmup * steps_per_epoch))
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad()
            xb, tb = x[first : first + batch], t[first : first + batch]
            loss = train_loss(spec["loss"]["type"], twin(xb), tb)
            if l2 > 0:
                loss = loss + l2 / 2 * sum(w.pow(2).sum() for w in weights)
            loss.backward()
            if clip > 0 and torch.nn.utils.clip_grad_norm_(twin.parameters(), clip).item() > clip:
                clipped += 1
            optimizer.step()
            step += 1
            loss_sum += loss.item() * xb.shape[0]
        metrics += f"{epoch},{loss_sum / rows!r},{lr!r},{clipped}\n"
        holder.step()  # a no-op (no gradient), which torch wants before the scheduler's step
        decay.step()
    write_safetensors(f"{out}.safetensors", twin.state_dict(), metadata)
    with open(f"{out}.predict.csv", "w") as f:
        f.write(predictions(spec, twin.eval(), inputs, metadata))
    with open(f"{out}.metrics.csv", "w") as f:
        f.write(metrics)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("predict")
    p.add_argument("--weights", required=True)
    p.add_argument("--input", required=True)
    p.set_defaults(run=predict)
    e = verbs.add_parser("eval")
    e.add_argument("--weights", required=True)
    e.add_argument("--data", required=True)
    e.set_defaults(run=evaluate)
    t = verbs.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--steps", type=int, default=20)
    t.add_argument("--lr", type=float, default=0.01)
    t.set_defaults(run=train)
    r = verbs.add_parser("replay")
    r.add_argument("--init", required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    r.set_defaults(run=replay)
    for v in (p, e, t):
        v.add_argument("spec")
    r.add_argument("specs", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)  # small nets; and the test suite shares the machine
    if args.verb == "replay":
        pathlib.Path(args.out).mkdir(parents=True, exist_ok=True)
        for path in args.specs:
            replay(load_spec(path), args, pathlib.Path(args.out) / pathlib.Path(path).stem)
    else:
        args.run(load_spec(args.spec), args)


def load_spec(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


if __name__ == "__main__":
    main()
