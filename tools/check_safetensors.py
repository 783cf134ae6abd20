#!/usr/bin/env python3
"""check_safetensors.py — cross-check a splatlm checkpoint with the reference implementation.

Developer tool, not a test dependency (needs `pip install safetensors numpy`).

    tools/check_safetensors.py FILE          load FILE with the Python `safetensors` package and print
                                             every tensor (dtype, shape, a checksum, first values) and
                                             the __metadata__; exit 1 if the package rejects it.
    tools/check_safetensors.py --write FILE  write a small reference file from Python (float32 matrix,
                                             scalar, empty tensor, metadata) for our loader to read.
"""
import argparse
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def describe(path: str) -> None:
    tensors = load_file(path)  # full validation by the reference loader
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
        names = list(f.keys())
    print(f"{path}: {len(names)} tensors")
    for name in names:
        t = tensors[name]
        head = np.array2string(t.reshape(-1)[:4], precision=6, separator=", ")
        print(f"  {name}: {t.dtype} {list(t.shape)} sum={float(t.astype(np.float64).sum()):.9g} first={head}")
    print(f"  __metadata__: {len(metadata)} entries")
    for key in sorted(metadata):
        value = metadata[key]
        shown = value if len(value) <= 60 else value[:60] + "..."
        print(f"    {key} = {shown!r}")


def write_reference(path: str) -> None:
    tensors = {
        "layer.weight": (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) * 0.75,
        "scale": np.array(-1.25, dtype=np.float32),
        "empty": np.zeros((0, 2), dtype=np.float32),
    }
    save_file(tensors, path, metadata={"format": "np", "note": "h\u00e9"})
    print(f"wrote {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--write", action="store_true", help="write a reference file instead of reading one")
    args = parser.parse_args()
    try:
        write_reference(args.file) if args.write else describe(args.file)
    except Exception as e:  # the reference loader's complaint, on one line
        print(f"{args.file}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
