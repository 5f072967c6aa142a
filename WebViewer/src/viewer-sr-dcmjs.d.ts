// dcmjs ships no types; the viewer uses only data.datasetToDict, DicomMessage.readFile and the
// DicomMetaDictionary naturalising functions (viewer-sr.ts).
declare module 'dcmjs' {
  const dcmjs: {
    data: {
      datasetToDict(dataset: Record<string, unknown>): { write(): ArrayBuffer };
      DicomMessage: { readFile(buffer: ArrayBuffer): { dict: Record<string, unknown>; meta: Record<string, unknown> } };
      DicomMetaDictionary: {
        naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown>;
        namifyDataset(dict: Record<string, unknown>): Record<string, unknown>;
      };
    };
  };
  export default dcmjs;
}
