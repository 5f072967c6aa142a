/*
 * orthanc_tags_fixtures.h - GET /instances/{id}/tags answers of Debian's
 * Orthanc 1.10.1 for three public test files of /work/shared/dicom, captured
 * verbatim (compact JSON). Binary values come as "Type": "Null" (also the
 * palette descriptors of OT-PAL-8-face, which are xs in an implicit VR file)
 * and long ones as "Type": "TooLong" (the 8192-byte Modality LUT data).
 */
#ifndef RR_TEST_ORTHANC_TAGS_FIXTURES_H
#define RR_TEST_ORTHANC_TAGS_FIXTURES_H

/* mlut_18.dcm (palette_lut_overlay) */
static const char ORTHANC_MLUT_18[] =
  "{\"0008,0016\":{\"Name\":\"SOPClassUID\",\"Type\":\"String\",\"Value\":\"1.2.840.10008.5.1.4.1.1.7\"},\"0008,00"
  "18\":{\"Name\":\"SOPInstanceUID\",\"Type\":\"String\",\"Value\":\"1.2.276.0.7230010.3.200.1.18.1\"},\"0008,002"
  "0\":{\"Name\":\"StudyDate\",\"Type\":\"String\",\"Value\":\"20000621\"},\"0008,0030\":{\"Name\":\"StudyTime\",\"Type"
  "\":\"String\",\"Value\":\"1200\"},\"0008,0050\":{\"Name\":\"AccessionNumber\",\"Type\":\"String\",\"Value\":\"\"},\"00"
  "08,0060\":{\"Name\":\"Modality\",\"Type\":\"String\",\"Value\":\"OT\"},\"0008,0064\":{\"Name\":\"ConversionType\",\""
  "Type\":\"String\",\"Value\":\"WSD\"},\"0008,0070\":{\"Name\":\"Manufacturer\",\"Type\":\"String\",\"Value\":\"OFFIS\""
  "},\"0008,0080\":{\"Name\":\"InstitutionName\",\"Type\":\"String\",\"Value\":\"OFFIS\"},\"0008,0081\":{\"Name\":\"In"
  "stitutionAddress\",\"Type\":\"String\",\"Value\":\"Escherweg 2, D-26121 Oldenburg, Germany\"},\"0008,0090\""
  ":{\"Name\":\"ReferringPhysicianName\",\"Type\":\"String\",\"Value\":\"Riesmeier^Joerg\"},\"0008,1030\":{\"Name\""
  ":\"StudyDescription\",\"Type\":\"String\",\"Value\":\"Modality LUT Test\"},\"0008,103e\":{\"Name\":\"SeriesDesc"
  "ription\",\"Type\":\"String\",\"Value\":\"12 in 16,range -2048 to +2047,signed,mono2,modality lut\"},\"001"
  "0,0010\":{\"Name\":\"PatientName\",\"Type\":\"String\",\"Value\":\"Modality^LUT^Test\"},\"0010,0020\":{\"Name\":\""
  "PatientID\",\"Type\":\"String\",\"Value\":\"MLUT_nn\"},\"0010,0030\":{\"Name\":\"PatientBirthDate\",\"Type\":\"Str"
  "ing\",\"Value\":\"\"},\"0010,0040\":{\"Name\":\"PatientSex\",\"Type\":\"String\",\"Value\":\"O\"},\"0020,000d\":{\"Nam"
  "e\":\"StudyInstanceUID\",\"Type\":\"String\",\"Value\":\"1.2.276.0.7230010.3.200.1\"},\"0020,000e\":{\"Name\":\""
  "SeriesInstanceUID\",\"Type\":\"String\",\"Value\":\"1.2.276.0.7230010.3.200.1.18\"},\"0020,0010\":{\"Name\":\""
  "StudyID\",\"Type\":\"String\",\"Value\":\"MLUT_nn\"},\"0020,0011\":{\"Name\":\"SeriesNumber\",\"Type\":\"String\",\""
  "Value\":\"18\"},\"0020,0013\":{\"Name\":\"InstanceNumber\",\"Type\":\"String\",\"Value\":\"01\"},\"0020,4000\":{\"Na"
  "me\":\"ImageComments\",\"Type\":\"String\",\"Value\":\"image for test MLUT_18\"},\"0028,0002\":{\"Name\":\"Sampl"
  "esPerPixel\",\"Type\":\"String\",\"Value\":\"1\"},\"0028,0004\":{\"Name\":\"PhotometricInterpretation\",\"Type\":"
  "\"String\",\"Value\":\"MONOCHROME2\"},\"0028,0010\":{\"Name\":\"Rows\",\"Type\":\"String\",\"Value\":\"512\"},\"0028,"
  "0011\":{\"Name\":\"Columns\",\"Type\":\"String\",\"Value\":\"512\"},\"0028,0100\":{\"Name\":\"BitsAllocated\",\"Type"
  "\":\"String\",\"Value\":\"16\"},\"0028,0101\":{\"Name\":\"BitsStored\",\"Type\":\"String\",\"Value\":\"12\"},\"0028,01"
  "02\":{\"Name\":\"HighBit\",\"Type\":\"String\",\"Value\":\"11\"},\"0028,0103\":{\"Name\":\"PixelRepresentation\",\"T"
  "ype\":\"String\",\"Value\":\"1\"},\"0028,3000\":{\"Name\":\"ModalityLUTSequence\",\"Type\":\"Sequence\",\"Value\":["
  "{\"0028,3002\":{\"Name\":\"LUTDescriptor\",\"Type\":\"String\",\"Value\":\"4096\\\\-2048\\\\16\"},\"0028,3003\":{\"Na"
  "me\":\"LUTExplanation\",\"Type\":\"String\",\"Value\":\"\"},\"0028,3004\":{\"Name\":\"ModalityLUTType\",\"Type\":\"S"
  "tring\",\"Value\":\"US\"},\"0028,3006\":{\"Name\":\"LUTData\",\"Type\":\"TooLong\",\"Value\":null}}]},\"7fe0,0010\""
  ":{\"Name\":\"PixelData\",\"Type\":\"Null\",\"Value\":null}}";

/* OT-PAL-8-face.dcm (palette_lut_overlay) */
static const char ORTHANC_OT_PAL_8_FACE[] =
  "{\"0008,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Value\":\"128\"},\"0008,0016\":{\"Name\":\"SO"
  "PClassUID\",\"Type\":\"String\",\"Value\":\"1.2.840.10008.5.1.4.1.1.7\"},\"0008,0018\":{\"Name\":\"SOPInstance"
  "UID\",\"Type\":\"String\",\"Value\":\"1.2.999999.9.1.6.2\"},\"0008,0020\":{\"Name\":\"StudyDate\",\"Type\":\"Strin"
  "g\",\"Value\":\"1996.10.29\"},\"0008,0030\":{\"Name\":\"StudyTime\",\"Type\":\"String\",\"Value\":\"15:18:59\"},\"00"
  "08,0050\":{\"Name\":\"AccessionNumber\",\"Type\":\"String\",\"Value\":\"710000\"},\"0008,0060\":{\"Name\":\"Modali"
  "ty\",\"Type\":\"String\",\"Value\":\"OT\"},\"0008,0064\":{\"Name\":\"ConversionType\",\"Type\":\"String\",\"Value\":\""
  "DV\"},\"0010,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Value\":\"18\"},\"0010,0010\":{\"Name\":"
  "\"PatientName\",\"Type\":\"String\",\"Value\":\"Anonymized\"},\"0020,0000\":{\"Name\":\"GenericGroupLength\",\"Ty"
  "pe\":\"String\",\"Value\":\"72\"},\"0020,000d\":{\"Name\":\"StudyInstanceUID\",\"Type\":\"String\",\"Value\":\"1.2.9"
  "99999.9.1.4.2\"},\"0020,000e\":{\"Name\":\"SeriesInstanceUID\",\"Type\":\"String\",\"Value\":\"1.2.999999.9.1."
  "5.2\"},\"0020,0011\":{\"Name\":\"SeriesNumber\",\"Type\":\"String\",\"Value\":\"1\"},\"0020,0013\":{\"Name\":\"Insta"
  "nceNumber\",\"Type\":\"String\",\"Value\":\"1\"},\"0028,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\""
  ",\"Value\":\"1368\"},\"0028,0002\":{\"Name\":\"SamplesPerPixel\",\"Type\":\"String\",\"Value\":\"1\"},\"0028,0004\":"
  "{\"Name\":\"PhotometricInterpretation\",\"Type\":\"String\",\"Value\":\"PALETTE COLOR\"},\"0028,0006\":{\"Name\""
  ":\"PlanarConfiguration\",\"Type\":\"String\",\"Value\":\"1\"},\"0028,0010\":{\"Name\":\"Rows\",\"Type\":\"String\",\""
  "Value\":\"480\"},\"0028,0011\":{\"Name\":\"Columns\",\"Type\":\"String\",\"Value\":\"640\"},\"0028,0100\":{\"Name\":\""
  "BitsAllocated\",\"Type\":\"String\",\"Value\":\"8\"},\"0028,0101\":{\"Name\":\"BitsStored\",\"Type\":\"String\",\"Va"
  "lue\":\"8\"},\"0028,0102\":{\"Name\":\"HighBit\",\"Type\":\"String\",\"Value\":\"7\"},\"0028,0103\":{\"Name\":\"PixelR"
  "epresentation\",\"Type\":\"String\",\"Value\":\"0\"},\"0028,1101\":{\"Name\":\"RedPaletteColorLookupTableDescr"
  "iptor\",\"Type\":\"Null\",\"Value\":null},\"0028,1102\":{\"Name\":\"GreenPaletteColorLookupTableDescriptor\","
  "\"Type\":\"Null\",\"Value\":null},\"0028,1103\":{\"Name\":\"BluePaletteColorLookupTableDescriptor\",\"Type\":\""
  "Null\",\"Value\":null},\"0028,1201\":{\"Name\":\"RedPaletteColorLookupTableData\",\"Type\":\"Null\",\"Value\":n"
  "ull},\"0028,1202\":{\"Name\":\"GreenPaletteColorLookupTableData\",\"Type\":\"Null\",\"Value\":null},\"0028,12"
  "03\":{\"Name\":\"BluePaletteColorLookupTableData\",\"Type\":\"Null\",\"Value\":null},\"7fe0,0000\":{\"Name\":\"G"
  "enericGroupLength\",\"Type\":\"String\",\"Value\":\"307208\"},\"7fe0,0010\":{\"Name\":\"PixelData\",\"Type\":\"Nul"
  "l\",\"Value\":null}}";

/* gdcm-CR-MONO1-10-chest.dcm (cr_chest_mono1) */
static const char ORTHANC_CR_MONO1[] =
  "{\"0008,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Value\":\"286\"},\"0008,0008\":{\"Name\":\"Im"
  "ageType\",\"Type\":\"String\",\"Value\":\"ORIGINAL PRIMARY\"},\"0008,0012\":{\"Name\":\"InstanceCreationDate\","
  "\"Type\":\"String\",\"Value\":\"1995.07.20\"},\"0008,0013\":{\"Name\":\"InstanceCreationTime\",\"Type\":\"String\""
  ",\"Value\":\"11:22:07\"},\"0008,0016\":{\"Name\":\"SOPClassUID\",\"Type\":\"String\",\"Value\":\"1.2.840.10008.5."
  "1.4.1.1.1\"},\"0008,0018\":{\"Name\":\"SOPInstanceUID\",\"Type\":\"String\",\"Value\":\"1.2.392.200036.9125.0."
  "19950720112207\"},\"0008,0022\":{\"Name\":\"AcquisitionDate\",\"Type\":\"String\",\"Value\":\"1993.02.24\"},\"00"
  "08,0032\":{\"Name\":\"AcquisitionTime\",\"Type\":\"String\",\"Value\":\"17:58:00\"},\"0008,0050\":{\"Name\":\"Acce"
  "ssionNumber\",\"Type\":\"String\",\"Value\":\"FUJI95714\"},\"0008,0060\":{\"Name\":\"Modality\",\"Type\":\"String\""
  ",\"Value\":\"CR\"},\"0008,0070\":{\"Name\":\"Manufacturer\",\"Type\":\"String\",\"Value\":\"FUJI PHOTO FILM CO. L"
  "TD.\"},\"0008,0080\":{\"Name\":\"InstitutionName\",\"Type\":\"String\",\"Value\":\"FUJI PHOTO FILM CO.,\"},\"000"
  "8,1040\":{\"Name\":\"InstitutionalDepartmentName\",\"Type\":\"String\",\"Value\":\"!!!!!!!!\"},\"0008,1090\":{\""
  "Name\":\"ManufacturerModelName\",\"Type\":\"String\",\"Value\":\"9000\"},\"0010,0000\":{\"Name\":\"GenericGroupL"
  "ength\",\"Type\":\"String\",\"Value\":\"18\"},\"0010,0010\":{\"Name\":\"PatientName\",\"Type\":\"String\",\"Value\":\""
  "Anonymized\"},\"0018,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Value\":\"140\"},\"0018,0015\""
  ":{\"Name\":\"BodyPartExamined\",\"Type\":\"String\",\"Value\":\"CHEST\"},\"0018,1050\":{\"Name\":\"SpatialResolut"
  "ion\",\"Type\":\"String\",\"Value\":\"0.2\"},\"0018,1260\":{\"Name\":\"PlateType\",\"Type\":\"String\",\"Value\":\"ST\""
  "},\"0018,1261\":{\"Name\":\"PhosphorType\",\"Type\":\"String\",\"Value\":\"5\"},\"0018,1400\":{\"Name\":\"Acquisiti"
  "onDeviceProcessingDescription\",\"Type\":\"String\",\"Value\":\"[CHEST,GENERAL     ]\"},\"0018,1401\":{\"Nam"
  "e\":\"AcquisitionDeviceProcessingCode\",\"Type\":\"String\",\"Value\":\"00\"},\"0018,1402\":{\"Name\":\"Cassette"
  "Orientation\",\"Type\":\"String\",\"Value\":\"PORTRAIT\"},\"0018,1403\":{\"Name\":\"CassetteSize\",\"Type\":\"Stri"
  "ng\",\"Value\":\"35CMX35CM\"},\"0018,5101\":{\"Name\":\"ViewPosition\",\"Type\":\"String\",\"Value\":\"PA\"},\"0018,"
  "6000\":{\"Name\":\"Sensitivity\",\"Type\":\"String\",\"Value\":\"357\"},\"0020,0000\":{\"Name\":\"GenericGroupLeng"
  "th\",\"Type\":\"String\",\"Value\":\"102\"},\"0020,000d\":{\"Name\":\"StudyInstanceUID\",\"Type\":\"String\",\"Value"
  "\":\"1.2.392.200036.9125.0.199302241758.16\"},\"0020,000e\":{\"Name\":\"SeriesInstanceUID\",\"Type\":\"Strin"
  "g\",\"Value\":\"1.2.392.200036.9125.0.199302241758.16\"},\"0020,0013\":{\"Name\":\"InstanceNumber\",\"Type\":"
  "\"String\",\"Value\":\"16\"},\"0028,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Value\":\"114\"},\""
  "0028,0002\":{\"Name\":\"SamplesPerPixel\",\"Type\":\"String\",\"Value\":\"1\"},\"0028,0004\":{\"Name\":\"Photometr"
  "icInterpretation\",\"Type\":\"String\",\"Value\":\"MONOCHROME1\"},\"0028,0010\":{\"Name\":\"Rows\",\"Type\":\"Stri"
  "ng\",\"Value\":\"440\"},\"0028,0011\":{\"Name\":\"Columns\",\"Type\":\"String\",\"Value\":\"440\"},\"0028,0100\":{\"Na"
  "me\":\"BitsAllocated\",\"Type\":\"String\",\"Value\":\"16\"},\"0028,0101\":{\"Name\":\"BitsStored\",\"Type\":\"Strin"
  "g\",\"Value\":\"10\"},\"0028,0102\":{\"Name\":\"HighBit\",\"Type\":\"String\",\"Value\":\"9\"},\"0028,0103\":{\"Name\":"
  "\"PixelRepresentation\",\"Type\":\"String\",\"Value\":\"0\"},\"0028,1050\":{\"Name\":\"WindowCenter\",\"Type\":\"St"
  "ring\",\"Value\":\"550\"},\"0028,1051\":{\"Name\":\"WindowWidth\",\"Type\":\"String\",\"Value\":\"1024\"},\"2010,000"
  "0\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Value\":\"14\"},\"2010,0100\":{\"Name\":\"BorderDensity"
  "\",\"Type\":\"String\",\"Value\":\"BLACK\"},\"7fe0,0000\":{\"Name\":\"GenericGroupLength\",\"Type\":\"String\",\"Val"
  "ue\":\"387212\"},\"7fe0,0010\":{\"Name\":\"PixelData\",\"Type\":\"Null\",\"Value\":null}}";

#endif
