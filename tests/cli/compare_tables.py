#!/usr/bin/env python3
"""compare_tables.py COMMITTED REMADE: are two CSV tables the same?

Exit 0 with "bytes" when they are byte for byte the same; exit 0 with "within 1e-12" when they
differ only in numbers that agree to 1e-12 relative (the last digits of a least-squares fit move
with the BLAS kernels numpy runs, e.g. OPENBLAS_CORETYPE=Prescott against Zen: 5e-16 here), every
other cell and the shape being equal; exit 1 naming the first cell that differs otherwise.
"""
import csv
import math
import sys

a_path, b_path = sys.argv[1:3]
if open(a_path, "rb").read() == open(b_path, "rb").read():
    print("bytes")
    sys.exit(0)
a, b = list(csv.reader(open(a_path))), list(csv.reader(open(b_path)))
if len(a) != len(b):
    print(f"{len(a)} rows against {len(b)}")
    sys.exit(1)
for i, (ra, rb) in enumerate(zip(a, b)):
    if len(ra) != len(rb):
        print(f"line {i + 1}: {len(ra)} cells against {len(rb)}")
        sys.exit(1)
    for j, (x, y) in enumerate(zip(ra, rb)):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            print(f"line {i + 1}, column {j + 1}: '{x}' against '{y}'")
            sys.exit(1)
        if not (math.isclose(fx, fy, rel_tol=1e-12, abs_tol=1e-300) or
                (math.isnan(fx) and math.isnan(fy))):
            print(f"line {i + 1}, column {j + 1} ({a[0][j] if j < len(a[0]) else '?'}): {x} against {y}")
            sys.exit(1)
print("within 1e-12")
