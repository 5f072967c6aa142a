#!/usr/bin/python3
# A reference reformat for the MPR browser test, independent of the viewer: reads JSON on stdin
#   {"files": [DICOM paths], "points": [[x, y, z] …], "ignoreShift": false}   (patient coordinates, mm)
# decodes every frame of the files with pydicom (single-frame: top-level Image Position / Orientation, Pixel
# Spacing, Rescale; enhanced multi-frame: the per-frame and shared functional groups), stacks the frames along
# their normal (sorted by position along it), and prints {"values": [modality value or null …]}: each point's
# value by trilinear interpolation between the voxel centres, null outside the volume.
import json
import sys

import numpy as np
import pydicom


def seq_item(ds, name):
    s = ds.get(name)
    return s[0] if s else None


def group_value(groups, seq, kw):
    for g in groups:
        if g is None:
            continue
        item = seq_item(g, seq)
        if item is not None and kw in item:
            return item.get(kw)
    return None


def frames_of(path):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    n = int(ds.get('NumberOfFrames', 1) or 1)
    if n == 1:
        arr = arr[np.newaxis, ...]
    shared = seq_item(ds, 'SharedFunctionalGroupsSequence')
    per = ds.get('PerFrameFunctionalGroupsSequence')
    out = []
    for f in range(n):
        groups = [per[f] if per else None, shared]
        ipp = group_value(groups, 'PlanePositionSequence', 'ImagePositionPatient') or ds.get('ImagePositionPatient')
        iop = group_value(groups, 'PlaneOrientationSequence', 'ImageOrientationPatient') or ds.get('ImageOrientationPatient')
        ps = group_value(groups, 'PixelMeasuresSequence', 'PixelSpacing') or ds.get('PixelSpacing')
        slope = group_value(groups, 'PixelValueTransformationSequence', 'RescaleSlope') or ds.get('RescaleSlope', 1)
        icpt = group_value(groups, 'PixelValueTransformationSequence', 'RescaleIntercept') or ds.get('RescaleIntercept', 0)
        values = arr[f].astype(np.float64) * float(slope) + float(icpt)
        out.append((np.array([float(v) for v in ipp]), np.array([float(v) for v in iop]), [float(v) for v in ps], values))
    return out


def main():
    req = json.load(sys.stdin)
    frames = [fr for p in req['files'] for fr in frames_of(p)]
    iop = frames[0][1]
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    frames.sort(key=lambda fr: float(np.dot(fr[0], normal)))
    origin = frames[0][0]
    dz = float(np.dot(frames[1][0] - frames[0][0], normal))
    ps = frames[0][2]  # [between rows, between columns]
    vol = np.stack([fr[3] for fr in frames])  # [k][j][i]
    depth, rows, cols = vol.shape
    # in-plane offset of each frame from the stack line (a sheared stack keeps its shift per slice)
    shifts = [(float(np.dot(fr[0] - origin, row)) / ps[1], float(np.dot(fr[0] - origin, col)) / ps[0]) for fr in frames]
    if req.get('ignoreShift'):  # what a viewer that ignores a gantry tilt shows (the test's counter-check)
        shifts = [(0.0, 0.0)] * len(frames)
    values = []
    for p in req['points']:
        d = np.array(p, dtype=np.float64) - origin
        kf = float(np.dot(d, normal)) / dz
        # a plane on the first or last slice (the 2D viewer's first image is one) lies on the volume's edge:
        # rounding in the viewer's camera may put it a hair outside, which is still that slice
        if -1e-3 <= kf < 0 or depth - 1 < kf <= depth - 1 + 1e-3:
            kf = min(max(kf, 0.0), depth - 1.0)
        k0 = int(np.floor(kf))
        if kf < 0 or kf > depth - 1:
            values.append(None)
            continue
        acc = 0.0
        ok = True
        for k, wk in ((k0, 1 - (kf - k0)), (min(k0 + 1, depth - 1), kf - k0)):
            if wk == 0:
                continue
            i = float(np.dot(d, row)) / ps[1] - shifts[k][0]
            j = float(np.dot(d, col)) / ps[0] - shifts[k][1]
            if i < 0 or j < 0 or i > cols - 1 or j > rows - 1:
                ok = False
                break
            i0, j0 = int(np.floor(i)), int(np.floor(j))
            i1, j1 = min(i0 + 1, cols - 1), min(j0 + 1, rows - 1)
            fi, fj = i - i0, j - j0
            s = vol[k]
            v = (s[j0, i0] * (1 - fi) * (1 - fj) + s[j0, i1] * fi * (1 - fj) + s[j1, i0] * (1 - fi) * fj + s[j1, i1] * fi * fj)
            acc += wk * v
        values.append(float(acc) if ok else None)
    json.dump({'values': values}, sys.stdout)


main()
