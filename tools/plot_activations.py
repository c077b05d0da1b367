#!/usr/bin/env python3
"""Draws learned activations as SVG: for each trainable_swish or basis_activation layer of a spec, a
few units' f(s) over an interval, with SiLU (where they all started) dashed; for each kan layer,
a few of its phi_oi(x) = base_weight[o][i] silu(x) + sum_k spline_weight[o][i][k] B_k(x).

  tools/plot_activations.py SPEC WEIGHTS OUT.svg [--units 6] [--from -4] [--to 4]

Standard library only (no numpy, no torch): safetensors and the bases are read and written out here
from specs/README.md's definitions.
"""
import argparse
import json
import math
import struct
import tomllib
from array import array


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + length])
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        begin, end = (8 + length + o for o in info["data_offsets"])
        values = array("f" if info["dtype"] == "F32" else "d")
        values.frombytes(blob[begin:end])
        tensors[name] = (info["shape"], values)
    return tensors


def silu(s):
    return s / (1 + math.exp(-s)) if s > -700 else 0.0


def bspline(v):
    """The uniform cubic B-spline on [0, 4] and its derivative."""
    if v <= 0 or v >= 4:
        return 0.0, 0.0
    if v < 1:
        return v**3 / 6, v**2 / 2
    if v < 2:
        a = v - 1
        return (-3 * a**3 + 3 * a**2 + 3 * a + 1) / 6, (-9 * a**2 + 6 * a + 3) / 6
    if v < 3:
        b = v - 2
        return (3 * b**3 - 6 * b**2 + 4) / 6, (9 * b**2 - 12 * b) / 6
    c = 4 - v
    return c**3 / 6, -(c**2) / 2


def basis(kind, count, lo, hi, x):
    """psi_k(x), k < count: Gaussians or cubic B-splines on count - 3 steps over [lo, hi], each its
    tangent line past the ends."""
    h = (hi - lo) / (count - 3)
    end = min(max(x, lo), hi)
    u = (end - lo) / h
    out = []
    for k in range(count):
        if kind == "rbf":
            r = u - k + 1
            g = math.exp(-r * r)
            value, slope = g, -2 * r * g / h
        else:
            value, slope = bspline(u - k + 3)
            slope /= h
        out.append(value + slope * (x - end))
    return out


def curves(layer, tensors, units, xs):
    """[(label, [f(x) for x in xs])] of the layer's first units."""
    name, kind = layer["name"], layer["type"]
    if kind == "trainable_swish":
        (shape, a), b, c, d = tensors[name + ".a"], tensors[name + ".b"][1], tensors[name + ".c"][1], tensors[name + ".d"][1]
        return [
            (f"{name}[{u}]", [1 / (1 + math.exp(-(a[u] * s + b[u]))) * (c[u] * s + d[u]) for s in xs])
            for u in range(min(units, shape[0]))
        ]
    if kind == "basis_activation":
        shape, coef = tensors[name + ".coef"]
        count, (lo, hi) = layer["count"], layer["range"]
        psis = [basis(layer["basis"], count, lo, hi, s) for s in xs]
        return [
            (f"{name}[{u}]", [sum(coef[u * count + k] * p[k] for k in range(count)) for p in psis])
            for u in range(min(units, shape[0]))
        ]
    # kan: phi_oi for the first pairs (o, i), i fastest
    (out, inputs), w = tensors[name + ".base_weight"]
    spline = tensors[name + ".spline_weight"][1]
    grid, (lo, hi) = layer["grid"], layer["range"]
    psis = [basis("bspline", grid, lo, hi, s) for s in xs]
    result = []
    for pair in range(min(units, out * inputs)):
        o, i = divmod(pair, inputs)
        row = (o * inputs + i) * grid
        result.append(
            (f"{name} phi[{o}][{i}]",
             [w[o * inputs + i] * silu(s) + sum(spline[row + k] * p[k] for k in range(grid)) for s, p in zip(xs, psis)])
        )
    return result


COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def panel(title, lines, xs, reference, left, top, width=360, height=240):
    ys = [y for _, values in lines for y in values] + (reference or [])
    ylo, yhi = min(ys), max(ys)
    if yhi - ylo < 1e-9:
        ylo, yhi = ylo - 1, yhi + 1
    px = lambda x: left + 40 + (x - xs[0]) / (xs[-1] - xs[0]) * (width - 50)
    py = lambda y: top + 20 + (yhi - y) / (yhi - ylo) * (height - 40)
    svg = [f'<text x="{left + width / 2}" y="{top + 12}" text-anchor="middle" font-size="12">{title}</text>',
           f'<rect x="{left + 40}" y="{top + 20}" width="{width - 50}" height="{height - 40}" fill="none" stroke="#999"/>']
    for y in (ylo, 0.0, yhi):
        if ylo <= y <= yhi:
            svg.append(f'<text x="{left + 36}" y="{py(y) + 4:.1f}" text-anchor="end" font-size="10">{y:.2g}</text>')
    for x in (xs[0], 0.0, xs[-1]):
        svg.append(f'<text x="{px(x):.1f}" y="{top + height - 6}" text-anchor="middle" font-size="10">{x:g}</text>')
    if reference:
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, reference))
        svg.append(f'<polyline points="{points}" fill="none" stroke="#000" stroke-dasharray="4,3"/>')
    for n, (_, values) in enumerate(lines):
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, values))
        svg.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[n % len(COLOURS)]}" stroke-width="1.5"/>')
    return svg


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("spec")
    p.add_argument("weights")
    p.add_argument("out")
    p.add_argument("--units", type=int, default=6)
    p.add_argument("--from", dest="lo", type=float, default=-4.0)
    p.add_argument("--to", dest="hi", type=float, default=4.0)
    a = p.parse_args()
    with open(a.spec, "rb") as f:
        spec = tomllib.load(f)
    tensors = read_safetensors(a.weights)
    xs = [a.lo + (a.hi - a.lo) * j / 200 for j in range(201)]
    layers = spec["layer"]
    for i, layer in enumerate(layers):
        layer.setdefault("name", f"{layer['type']}{i + 1}")
    chosen = [l for l in layers if l["type"] in ("trainable_swish", "basis_activation", "kan")]
    if not chosen:
        raise SystemExit("plot_activations: the spec has no trainable_swish, basis_activation or kan layer")
    svg = []
    for n, layer in enumerate(chosen):
        lines = curves(layer, tensors, a.units, xs)
        title = f"{layer['name']} ({layer['type']}" + (f", {layer['basis']}" if "basis" in layer else "") + ")"
        reference = None if layer["type"] == "kan" else [silu(x) for x in xs]
        svg += panel(title, lines, xs, reference, (n % 2) * 380, (n // 2) * 260)
    width, height = 380 * min(2, len(chosen)), 260 * ((len(chosen) + 1) // 2)
    with open(a.out, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">\n')
        f.write(f'<rect width="{width}" height="{height}" fill="white"/>\n')
        f.write("\n".join(svg) + "\n</svg>\n")
    print(f"wrote {a.out}: {len(chosen)} layers" + ("" if all(l["type"] == "kan" for l in chosen) else ", SiLU dashed"))


if __name__ == "__main__":
    main()
