#!/usr/bin/env python3
"""Writes the symbolic-regression data of the KAN proof (issue 22): f(x, y) = exp(sin(pi x) + y^2),
x and y uniform on [-1, 1], seeded; train.csv and test.csv (columns x,y,f) in the folder given.
specs/kan_symbolic.toml and specs/mlp_symbolic.toml read them from runs/symbolic/ (git ignores runs/).

  tools/kan_data.py [OUT_DIR] [--train N] [--test N] [--seed S]     (defaults: runs/symbolic, 1000, 1000, 1)
"""
import argparse
import math
import pathlib
import random


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default="runs/symbolic")
    p.add_argument("--train", type=int, default=1000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.csv", a.train), ("test.csv", a.test)):
        with open(out / name, "w") as f:
            f.write("x,y,f\n")
            for _ in range(rows):
                x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
                f.write(f"{x:.9g},{y:.9g},{math.exp(math.sin(math.pi * x) + y * y):.9g}\n")
    print(f"wrote {out / 'train.csv'} ({a.train} rows) and {out / 'test.csv'} ({a.test} rows)")


if __name__ == "__main__":
    main()
