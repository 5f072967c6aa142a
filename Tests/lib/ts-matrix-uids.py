#!/usr/bin/python3
# Copies every file of a folder into OUT with new Study/Series/SOP Instance UIDs (one study, one
# series per file, SeriesNumber in file-name order, SeriesDescription = the transfer syntax UID),
# keeping the transfer syntax and the encoded pixel data as they are: the ts_ct_matrix files share
# their UIDs, and Orthanc keeps only the first instance of a SOP Instance UID.
# Usage: ts-matrix-uids.py IN_DIR OUT_DIR
import os, sys
import pydicom
from pydicom.uid import generate_uid

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
study = generate_uid()
for n, name in enumerate(sorted(f for f in os.listdir(src) if f.endswith('.dcm')), start=1):
    ds = pydicom.dcmread(os.path.join(src, name))
    ts = str(ds.file_meta.TransferSyntaxUID)
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesNumber = n
    ds.SeriesDescription = ts
    ds.PatientID = 'RR-TS-MATRIX'
    ds.save_as(os.path.join(out, f'{n:02d}-{ts}.dcm'), write_like_original=True)
    print(f'{n:02d}-{ts}.dcm')
