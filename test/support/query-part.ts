/**
 * The query part of a mutation script: what a client that never sets `mutation` (Pixie's pxapi)
 * can run once the tracepoint is deployed. Drops `import pxtrace` and the whole
 * `pxtrace.UpsertTracepoint(...)` statement, which may span lines (a TraceProgram list).
 */
export const queryPartOf = (script: string): string =>
  script
    .replace(/^ *pxtrace\.UpsertTracepoint\([\s\S]*?\)\n(?=\s*df = )/m, '')
    .split('\n')
    .filter((l) => !l.includes('import pxtrace'))
    .join('\n');
