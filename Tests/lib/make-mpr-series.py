#!/usr/bin/python3
# Writes the series the MPR browser test needs (Tests/browser/viewer-mpr.test.mjs) into OUT_DIR, made with
# pydicom from the first 16 slices (by position) of the 134-slice CT, in study STUDY_UID (the made-up patient
# of make-volume-series.py, so they join its study), and prints what it made as JSON on stdout:
#
#   tilt-shifted  a gantry-tilted acquisition of the same anatomy: slice k's Image Position (Patient) moved
#                 along the column direction (+y) by k pixel spacings (one row per 3 mm slice: a tilt of
#                 atan(ps / 3) ≈ 19.7°, GantryDetectorTilt set) and its pixels moved up by k rows, so every
#                 voxel stays where it was in the patient. A viewer that ignores the shear shows the anatomy
#                 sheared by one row per slice; a correct one shows the original sagittal plane.
#   enhanced-ct   one Enhanced CT Image instance of the 16 slices: frames written in a shuffled order, one
#                 Plane Position per frame, Pixel Measures / Plane Orientation / Pixel Value Transformation
#                 in the Shared Functional Groups; no top-level position, orientation, spacing or rescale.
#
# Usage: make-mpr-series.py OUT_DIR CT_DIR STUDY_UID
import glob
import json
import math
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

out, ct_dir, study = sys.argv[1], sys.argv[2], sys.argv[3]
FRAME_ORDER = [5, 12, 0, 9, 3, 15, 7, 1, 14, 10, 2, 8, 13, 4, 11, 6]  # enhanced CT: frame f holds slice FRAME_ORDER[f]

headers = [(pydicom.dcmread(f, stop_before_pixels=True), f) for f in glob.glob(os.path.join(ct_dir, '*.dcm'))]
headers.sort(key=lambda h: float(h[0].ImagePositionPatient[2]))
first16 = [f for _, f in headers[:16]]
made = {'series': {}, 'files': {'original': first16}, 'frameOrder': FRAME_ORDER}


def renew(ds, series, number, description):
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesNumber = number
    ds.SeriesDescription = description
    ds.StudyDescription = 'Volume checks'
    ds.PatientID, ds.PatientName = 'RR-VOLUME-1', 'VOLUME^CHECKS'


# tilt-shifted
series = generate_uid()
made['series']['tilt-shifted'] = series
os.makedirs(os.path.join(out, 'tilt-shifted'), exist_ok=True)
paths = []
for k, f in enumerate(first16):
    ds = pydicom.dcmread(f)
    renew(ds, series, 301, 'tilt-shifted')
    ps = float(ds.PixelSpacing[0])  # between rows (along y)
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x, y + k * ps, z]
    dz = float(pydicom.dcmread(first16[1], stop_before_pixels=True).ImagePositionPatient[2]) - float(pydicom.dcmread(first16[0], stop_before_pixels=True).ImagePositionPatient[2])
    ds.GantryDetectorTilt = round(math.degrees(math.atan(ps / dz)), 4)
    a = ds.pixel_array
    moved = np.full_like(a, a.min())
    if k > 0:
        moved[:-k, :] = a[k:, :]  # row j shows what was at row j + k: the same patient point
    else:
        moved[:, :] = a
    ds.PixelData = moved.tobytes()
    p = os.path.join(out, 'tilt-shifted', f'{k:03d}.dcm')
    ds.save_as(p)
    paths.append(p)
made['files']['tilt-shifted'] = paths

# enhanced-ct
slices = [pydicom.dcmread(f) for f in first16]
base = slices[0].copy()
series = generate_uid()
made['series']['enhanced-ct'] = series
renew(base, series, 302, 'enhanced-ct')
base.SOPClassUID = '1.2.840.10008.5.1.4.1.1.2.1'  # Enhanced CT Image Storage
base.file_meta.MediaStorageSOPClassUID = base.SOPClassUID
base.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
base.is_implicit_VR = False
base.is_little_endian = True
base.ImageType = ['ORIGINAL', 'PRIMARY', 'AXIAL', 'NONE']
base.NumberOfFrames = len(slices)
shared = Dataset()
pm = Dataset()
pm.PixelSpacing = slices[0].PixelSpacing
pm.SliceThickness = slices[0].SliceThickness
shared.PixelMeasuresSequence = Sequence([pm])
po = Dataset()
po.ImageOrientationPatient = slices[0].ImageOrientationPatient
shared.PlaneOrientationSequence = Sequence([po])
pvt = Dataset()
pvt.RescaleIntercept = slices[0].RescaleIntercept
pvt.RescaleSlope = slices[0].RescaleSlope
pvt.RescaleType = 'HU'
shared.PixelValueTransformationSequence = Sequence([pvt])
base.SharedFunctionalGroupsSequence = Sequence([shared])
frames = []
pixels = []
for f in range(len(slices)):
    s = slices[FRAME_ORDER[f]]
    item, pp = Dataset(), Dataset()
    pp.ImagePositionPatient = s.ImagePositionPatient
    item.PlanePositionSequence = Sequence([pp])
    frames.append(item)
    pixels.append(s.pixel_array.astype(slices[0].pixel_array.dtype).tobytes())
base.PerFrameFunctionalGroupsSequence = Sequence(frames)
for kw in ('ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing', 'RescaleIntercept', 'RescaleSlope', 'SliceLocation', 'InstanceNumber'):
    if kw in base:
        delattr(base, kw)
base.PixelData = b''.join(pixels)
base['PixelData'].VR = 'OW'
os.makedirs(os.path.join(out, 'enhanced-ct'), exist_ok=True)
p = os.path.join(out, 'enhanced-ct', 'ect.dcm')
base.save_as(p, write_like_original=False)
made['files']['enhanced-ct'] = [p]
print(json.dumps(made))
