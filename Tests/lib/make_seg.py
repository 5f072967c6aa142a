#!/usr/bin/python3
"""Write a small binary DICOM SEG over an image series, for the viewer's SEG overlay test.

Usage: make_seg.py OUT.dcm IMAGE.dcm...   (the images of one series, any order)
Prints JSON: the SEG's SOP and series UIDs, the image grid, and for each segment the SOP Instance UIDs of the
images it lies on and its rectangle (first row, last row, first column, last column, 0-based, inclusive).
Segment 1 "Lesion" (recommended colour red) covers a rectangle on four middle slices, its frames referencing
the images by SOP Instance UID; segment 2 "Oedema" (no colour) covers another rectangle on one slice and its
frame references nothing (Plane Position only), as some producers write them.
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SEG_CLASS = '1.2.840.10008.5.1.4.1.1.66.4'


def item(**kw):
    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def main():
    out, files = sys.argv[1], sys.argv[2:]
    images = [pydicom.dcmread(f) for f in files]
    iop = [float(v) for v in images[0].ImageOrientationPatient]
    normal = np.cross(iop[:3], iop[3:])
    images.sort(key=lambda d: float(np.dot([float(v) for v in d.ImagePositionPatient], normal)))
    rows, cols = int(images[0].Rows), int(images[0].Columns)
    mid = len(images) // 2
    seg1_slices = images[mid - 2:mid + 2]
    seg2_slice = images[mid]
    r1 = (rows // 3, rows // 3 + rows // 5, cols // 3, cols // 3 + cols // 4)
    r2 = (rows // 8, rows // 8 + rows // 10, cols // 8, cols // 8 + cols // 6)

    first = images[0]
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SEG_CLASS
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = SEG_CLASS
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for kw in ('PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyInstanceUID', 'StudyDate', 'StudyTime',
               'StudyID', 'AccessionNumber', 'ReferringPhysicianName', 'FrameOfReferenceUID'):
        setattr(ds, kw, getattr(first, kw, ''))
    ds.SpecificCharacterSet = 'ISO_IR 192'
    ds.Modality = 'SEG'
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 999
    ds.SeriesDescription = 'Test segmentation'
    ds.InstanceNumber = 1
    ds.Manufacturer = 'Reading Room tests'
    ds.ContentDate = first.get('StudyDate', '')
    ds.ContentTime = first.get('StudyTime', '')
    ds.ContentLabel = 'TEST'
    ds.ContentCreatorName = 'Tests'
    ds.ImageType = ['DERIVED', 'PRIMARY']
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.LossyImageCompression = '00'
    ds.SegmentationType = 'BINARY'
    ds.PositionReferenceIndicator = ''
    ds.ManufacturerModelName = 'make_seg.py'
    ds.DeviceSerialNumber = '1'
    ds.SoftwareVersions = '1'
    ds.ContentDescription = 'Test segmentation'
    dim_org = generate_uid()
    ds.DimensionOrganizationSequence = Sequence([item(DimensionOrganizationUID=dim_org)])
    ds.DimensionIndexSequence = Sequence([
        item(DimensionOrganizationUID=dim_org, DimensionIndexPointer=0x0062000B, FunctionalGroupPointer=0x0062000A),
        item(DimensionOrganizationUID=dim_org, DimensionIndexPointer=0x00200032, FunctionalGroupPointer=0x00209113),
    ])
    category = item(CodeValue='49755003', CodingSchemeDesignator='SCT', CodeMeaning='Morphologically Altered Structure')
    ds.SegmentSequence = Sequence([
        item(SegmentNumber=1, SegmentLabel='Lesion', SegmentAlgorithmType='MANUAL',
             SegmentedPropertyCategoryCodeSequence=Sequence([category]),
             SegmentedPropertyTypeCodeSequence=Sequence([item(CodeValue='52988006', CodingSchemeDesignator='SCT', CodeMeaning='Lesion')]),
             RecommendedDisplayCIELabValue=[34891, 53479, 50167]),
        item(SegmentNumber=2, SegmentLabel='Oedema', SegmentAlgorithmType='MANUAL',
             SegmentedPropertyCategoryCodeSequence=Sequence([category]),
             SegmentedPropertyTypeCodeSequence=Sequence([item(CodeValue='267038008', CodingSchemeDesignator='SCT', CodeMeaning='Edema')])),
    ])
    ds.SharedFunctionalGroupsSequence = Sequence([item(
        PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=first.ImageOrientationPatient)]),
        PixelMeasuresSequence=Sequence([item(PixelSpacing=first.PixelSpacing, SliceThickness=first.get('SliceThickness', 1))]),
    )])
    ds.ReferencedSeriesSequence = Sequence([item(
        SeriesInstanceUID=first.SeriesInstanceUID,
        ReferencedInstanceSequence=Sequence([item(ReferencedSOPClassUID=d.SOPClassUID, ReferencedSOPInstanceUID=d.SOPInstanceUID) for d in images]),
    )])
    frames, groups = [], []

    def frame(image, segment, rect, reference):
        m = np.zeros((rows, cols), dtype=np.uint8)
        m[rect[0]:rect[1] + 1, rect[2]:rect[3] + 1] = 1
        frames.append(m)
        g = item(
            FrameContentSequence=Sequence([item(DimensionIndexValues=[segment, len(frames)])]),
            PlanePositionSequence=Sequence([item(ImagePositionPatient=image.ImagePositionPatient)]),
            SegmentIdentificationSequence=Sequence([item(ReferencedSegmentNumber=segment)]),
        )
        if reference:
            g.DerivationImageSequence = Sequence([item(
                SourceImageSequence=Sequence([item(
                    ReferencedSOPClassUID=image.SOPClassUID, ReferencedSOPInstanceUID=image.SOPInstanceUID,
                    PurposeOfReferenceCodeSequence=Sequence([item(CodeValue='121322', CodingSchemeDesignator='DCM', CodeMeaning='Source image for image processing operation')]),
                )]),
                DerivationCodeSequence=Sequence([item(CodeValue='113076', CodingSchemeDesignator='DCM', CodeMeaning='Segmentation')]),
            )])
        groups.append(g)

    for d in seg1_slices:
        frame(d, 1, r1, True)
    frame(seg2_slice, 2, r2, False)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    ds.NumberOfFrames = len(frames)
    bits = np.packbits(np.stack(frames).reshape(-1), bitorder='little').tobytes()
    if len(bits) % 2:
        bits += b'\0'
    ds.PixelData = bits
    ds['PixelData'].VR = 'OB'
    ds.save_as(out, write_like_original=False)
    print(json.dumps({
        'sopInstanceUid': ds.SOPInstanceUID, 'seriesInstanceUid': ds.SeriesInstanceUID, 'rows': rows, 'columns': cols,
        'segments': {
            '1': {'sops': [d.SOPInstanceUID for d in seg1_slices], 'rect': r1},
            '2': {'sops': [seg2_slice.SOPInstanceUID], 'rect': r2},
        },
    }))


if __name__ == '__main__':
    main()
