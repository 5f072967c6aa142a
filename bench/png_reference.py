#!/usr/bin/python3
"""png_reference.py - the original design's rendering of one DICOM image to a
PNG, in Python, timed in-process (no HTTP): the baseline of bench/png.mjs.

Per image, what the original design did: read the file (pydicom), decode the
pixels (pixel_array; JPEG Lossless through python3-gdcm), Modality LUT
(pydicom's apply_modality_lut: rescale slope/intercept or the LUT sequence),
the window with the file's VOI LUT Function (PS3.3 C.11.2.1.2: LINEAR,
LINEAR_EXACT or SIGMOID) to 0..255, rounded and clipped to uint8, inverted
for MONOCHROME1, resized with Pillow's box filter so that the longest side
is at most --max-side (never enlarged; the other side rounded as the plugin
does), encoded as PNG (Pillow's default compression) and base64.

    /usr/bin/python3 bench/png_reference.py FILE --window C,W --max-side N \
        --iterations N --warmup N [--out last.png] [--out-exact exact.png]

Prints one JSON object: per-image median and p95 in ms, the median of each
step, the output size, the versions used. Needs Debian's python3-pydicom,
python3-numpy, python3-pil and python3-gdcm (bench/run.sh installs them).
"""
import argparse
import base64
import io
import json
import math
import time

import numpy as np
import PIL
import pydicom
from PIL import Image
from pydicom.pixel_data_handlers.util import apply_modality_lut

STEPS = ("read+decode", "modality+window", "resize", "png", "base64")


def fit_size(width, height, max_side):
    """The plugin's rr_image_fit_size: keep the ratio, round, never enlarge."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    if width >= height:
        return max_side, max(1, (height * max_side * 2 + longest) // (longest * 2))
    return max(1, (width * max_side * 2 + longest) // (longest * 2)), max_side


def first_value(v):
    return float(v[0]) if isinstance(v, pydicom.multival.MultiValue) else float(v)


def render(path, window, max_side, exact_out=None):
    """One image, as the original design did it. Returns (png, b64, step times).
    With exact_out (a list), also appends the windowed image downscaled by
    exact area averaging, as the plugin does (Pillow's BOX filter weighs
    whole source pixels, so the two differ at sharp edges)."""
    t = [time.perf_counter()]
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    t.append(time.perf_counter())

    x = apply_modality_lut(arr, ds).astype(np.float64, copy=False)
    if window is not None:
        c, w = window
    else:
        c, w = first_value(ds.WindowCenter), first_value(ds.WindowWidth)
    fn = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").strip()
    if fn == "SIGMOID":
        y = 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    elif fn == "LINEAR_EXACT":
        y = ((x - c) / w + 0.5) * 255.0
    else:
        y = ((x - (c - 0.5)) / (w - 1.0) + 0.5) * 255.0
    img = np.floor(np.clip(y, 0.0, 255.0) + 0.5).astype(np.uint8)
    if str(ds.PhotometricInterpretation).strip() == "MONOCHROME1":
        img = 255 - img
    t.append(time.perf_counter())

    im = Image.fromarray(img, "L")
    size = fit_size(im.width, im.height, max_side)
    if size != (im.width, im.height):
        im = im.resize(size, Image.BOX)
    t.append(time.perf_counter())
    if exact_out is not None:  # outside the design: for the comparison only
        exact_out.append(exact_area(img, size) if size != img.shape[::-1] else img)

    out = io.BytesIO()
    im.save(out, format="PNG")
    png = out.getvalue()
    t.append(time.perf_counter())

    b64 = base64.b64encode(png)
    t.append(time.perf_counter())
    return png, b64, [(t[i + 1] - t[i]) * 1000.0 for i in range(len(STEPS))]


def area_weights(src, dst):
    """Exact area coverage of the plugin's downscale (rr_image_downscale):
    output d covers source units [d*src, (d+1)*src) where one source pixel is
    dst units wide. Returns (indices, weights), each dst x k."""
    k = -(-src // dst) + 1
    idx = np.zeros((dst, k), dtype=np.int64)
    wts = np.zeros((dst, k))
    for d in range(dst):
        left, right = d * src, (d + 1) * src
        for j, i in enumerate(range(left // dst, min(src, -(-right // dst)))):
            idx[d, j] = i
            wts[d, j] = (min((i + 1) * dst, right) - max(i * dst, left)) / src
    return idx, wts


def exact_area(img, size):
    """img (uint8, h x w) averaged over exact footprints to size (w, h)."""
    (iy, wy), (ix, wx) = area_weights(img.shape[0], size[1]), area_weights(img.shape[1], size[0])
    x = img.astype(np.float64)
    rows = sum(wy[:, j, None] * x[iy[:, j]] for j in range(iy.shape[1]))
    out = sum(wx[None, :, j] * rows[:, ix[:, j]] for j in range(ix.shape[1]))
    return np.floor(np.clip(out, 0.0, 255.0) + 0.5).astype(np.uint8)


def percentile(sorted_values, p):
    """Same definition as bench/lib.mjs."""
    i = min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[max(0, i)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--window", help="center,width in modality units (default: the file's first window)")
    ap.add_argument("--max-side", type=int, default=1024)
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--out", help="write the last PNG here")
    ap.add_argument("--out-exact", help="write the exact area average (the plugin's downscale) here, as PNG")
    a = ap.parse_args()
    window = tuple(float(v) for v in a.window.split(",")) if a.window else None

    for _ in range(a.warmup):
        render(a.file, window, a.max_side)
    totals, steps = [], [[] for _ in STEPS]
    png = b64 = None
    for _ in range(a.iterations):
        t0 = time.perf_counter()
        png, b64, st = render(a.file, window, a.max_side)
        totals.append((time.perf_counter() - t0) * 1000.0)
        for i, v in enumerate(st):
            steps[i].append(v)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(png)
    if a.out_exact:
        exact = []
        render(a.file, window, a.max_side, exact)
        Image.fromarray(exact[0], "L").save(a.out_exact, format="PNG")
    totals.sort()
    try:
        import gdcm  # noqa: F401  (pydicom's decoder for JPEG Lossless)
        gdcm_version = gdcm.Version.GetVersion()
    except ImportError:
        gdcm_version = None
    im = Image.open(io.BytesIO(png))
    print(json.dumps({
        "iterations": a.iterations,
        "p50": percentile(totals, 50),
        "p95": percentile(totals, 95),
        "steps": {name: percentile(sorted(v), 50) for name, v in zip(STEPS, steps)},
        "width": im.width,
        "height": im.height,
        "png_bytes": len(png),
        "base64_bytes": len(b64),
        "versions": {"pydicom": pydicom.__version__, "numpy": np.__version__, "Pillow": PIL.__version__,
                     "gdcm": gdcm_version},
    }))


if __name__ == "__main__":
    main()
