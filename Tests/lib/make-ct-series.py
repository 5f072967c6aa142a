#!/usr/bin/python3
# Writes a synthetic CT series of COUNT axial slices (SIZE×SIZE, signed 16-bit, Explicit VR Little
# Endian, 1 mm apart; rescale −1024, window 40/400) into OUT_DIR, one file per slice: a disc whose
# value changes with the slice number, so neighbouring slices differ. For the viewer's loading tests
# (a 1,000-image series). Usage: make-ct-series.py OUT_DIR COUNT SIZE
import os, sys
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

out, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
study, series, frame = generate_uid(), generate_uid(), generate_uid()
y, x = np.mgrid[0:size, 0:size]
r = np.hypot(x - size / 2, y - size / 2)
for i in range(count):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
    ds.PatientName, ds.PatientID = 'SYNTHETIC^THOUSAND', 'RR-1000'
    ds.StudyDate, ds.StudyTime, ds.StudyDescription = '20260101', '120000', 'Synthetic 1000-slice CT'
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = 'CT', 1, f'{count} synthetic slices'
    ds.InstanceNumber = i + 1
    ds.ImagePositionPatient = [-size / 2, -size / 2, float(i)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [1, 1], 1
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    hu = np.where(r < size * (0.2 + 0.2 * (i % 50) / 50), -150 + 300 * (i % 100) / 100, -1000)
    ds.PixelData = (hu + 1024).astype('<i2').tobytes()
    ds.save_as(os.path.join(out, f'{i + 1:04d}.dcm'), write_like_original=False)
