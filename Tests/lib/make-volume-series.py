#!/usr/bin/python3
# Writes the series the volume tests need into OUT_DIR, made from real files of ../shared/dicom, each with
# new Study (one for all, of one made-up patient), Series and SOP Instance UIDs, and prints what it made as JSON on stdout:
#
#   from the first 16 slices (by position) of the 134-slice CT (3 mm apart, axial):
#   tilt-tag        positions shifted along the column direction by tan(15°)·z, GantryDetectorTilt 15
#   tilt-positions  the same shift, GantryDetectorTilt removed (only the positions tell)
#   tilt-oblique    the way GE writes a tilted gantry: orientation tilted by 15° about the x axis
#                   (columns (0, cos, sin)), positions straight along the table (z), GantryDetectorTilt 15
#   missing         3 slices left out (the 6th, 10th and 11th)
#   irregular       the slices' positions made 1 mm and 5 mm apart in turn
#   duplicate       the 8th slice stored twice (a second SOP Instance UID, same position)
#   two-for         the last 8 slices in another Frame of Reference
#   from the enhanced MR (emri_small.dcm, 10 frames, no functional groups):
#   enhanced-mr     the Shared Functional Groups (Pixel Measures 4 mm, slice 1.2 mm; Plane Orientation
#                   sagittal 0\1\0\0\0\-1) and one Plane Position per frame, 1.2 mm apart along x but
#                   written out of order (frame f is at slot ORDER[f])
#
# Usage: make-volume-series.py OUT_DIR CT_DIR EMRI_FILE
import json, math, os, sys
import glob
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

out, ct_dir, emri = sys.argv[1], sys.argv[2], sys.argv[3]
TILT = 15.0
ORDER = [3, 0, 7, 1, 9, 4, 2, 8, 5, 6]  # enhanced MR: frame f lies at slot ORDER[f] along the normal
study = generate_uid()
made = {'study': study, 'tiltDegrees': TILT, 'series': {}, 'files': {}, 'enhancedOrder': ORDER}

headers = [(pydicom.dcmread(f, stop_before_pixels=True), f) for f in glob.glob(os.path.join(ct_dir, '*.dcm'))]
headers.sort(key=lambda h: float(h[0].ImagePositionPatient[2]))
first16 = [f for _, f in headers[:16]]


def renew(ds, series, number, description):
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesNumber = number
    ds.SeriesDescription = description
    ds.StudyDescription = 'Volume checks'
    ds.PatientID, ds.PatientName = 'RR-VOLUME-1', 'VOLUME^CHECKS'  # one patient: Orthanc files a study by both


def ct_series(name, number, change, files=first16, extra=()):
    series = generate_uid()
    made['series'][name] = series
    paths = []
    os.makedirs(os.path.join(out, name), exist_ok=True)
    z0 = None
    for i, f in enumerate(list(files) + list(extra)):
        ds = pydicom.dcmread(f)
        z = float(ds.ImagePositionPatient[2])
        z0 = z if z0 is None else z0
        renew(ds, series, number, name)
        change(ds, i, z - z0)
        p = os.path.join(out, name, f'{i:03d}.dcm')
        ds.save_as(p)
        paths.append(p)
    made['files'][name] = paths


def shift(tag):
    def change(ds, i, dz):
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y + math.tan(math.radians(TILT)) * dz, z]  # columns run along +y
        if tag:
            ds.GantryDetectorTilt = TILT
        elif 'GantryDetectorTilt' in ds:
            del ds.GantryDetectorTilt
    return change


def oblique(ds, i, dz):
    t = math.radians(TILT)
    ds.ImageOrientationPatient = [1, 0, 0, 0, math.cos(t), math.sin(t)]
    ds.GantryDetectorTilt = TILT


def irregular(ds, i, dz):
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    z0 = z - dz
    ds.ImagePositionPatient = [x, y, z0 + 6.0 * (i // 2) + 1.0 * (i % 2)]


def two_for(other):
    def change(ds, i, dz):
        if i >= 8:
            ds.FrameOfReferenceUID = other
    return change


ct_series('tilt-tag', 101, shift(True))
ct_series('tilt-positions', 102, shift(False))
ct_series('tilt-oblique', 103, oblique)
ct_series('missing', 104, lambda ds, i, dz: None, files=[f for i, f in enumerate(first16) if i not in (5, 9, 10)])
ct_series('irregular', 105, irregular)
ct_series('duplicate', 106, lambda ds, i, dz: None, extra=[first16[7]])
ct_series('two-for', 107, two_for(generate_uid()))

# the enhanced MR with functional groups
ds = pydicom.dcmread(emri)
series = generate_uid()
renew(ds, series, 201, 'enhanced-mr')
ds.FrameOfReferenceUID = generate_uid()
shared = Dataset()
pm = Dataset()
pm.PixelSpacing = [4, 4]
pm.SliceThickness = 1.2
shared.PixelMeasuresSequence = Sequence([pm])
po = Dataset()
po.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
shared.PlaneOrientationSequence = Sequence([po])
ds.SharedFunctionalGroupsSequence = Sequence([shared])
frames = []
for f in range(int(ds.NumberOfFrames)):
    item, pp = Dataset(), Dataset()
    pp.ImagePositionPatient = [60.0 - 1.2 * ORDER[f], -128.0, 128.0]  # the normal is -x: slot 0 first
    item.PlanePositionSequence = Sequence([pp])
    frames.append(item)
ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
os.makedirs(os.path.join(out, 'enhanced-mr'), exist_ok=True)
p = os.path.join(out, 'enhanced-mr', 'emri.dcm')
ds.save_as(p)
made['series']['enhanced-mr'] = series
made['files']['enhanced-mr'] = [p]
made['ctPixelSpacing'] = [float(v) for v in headers[0][0].PixelSpacing]
print(json.dumps(made))
