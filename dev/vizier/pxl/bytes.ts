/**
 * STRING cells are JS strings in the evaluator, but Pixie's strings are bytes (a dataset may hold
 * bytes that are not UTF-8). Bytes go to text with Python's "surrogateescape" rule: valid UTF-8 is
 * decoded, every other byte b becomes the lone surrogate U+DC00+b; text goes back to the same bytes.
 *
 * @module
 */

const STRICT = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence at `i`, or 0. */
const sequenceAt = (bytes: Uint8Array, i: number): number => {
  const b0 = bytes[i] ?? 0;
  const len = b0 < 0x80 ? 1 : b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
  if (len <= 1 || i + len > bytes.length) {
    return len === 1 ? 1 : 0;
  }
  try {
    STRICT.decode(bytes.subarray(i, i + len));
    return len;
  } catch {
    return 0;
  }
};

/** Bytes to text, invalid bytes as U+DC80..U+DCFF. */
export const bytesToText = (bytes: Uint8Array): string => {
  try {
    return STRICT.decode(bytes);
  } catch {
    let out = '';
    for (let i = 0; i < bytes.length; ) {
      const len = sequenceAt(bytes, i);
      if (len === 0) {
        out += String.fromCharCode(0xdc00 + (bytes[i] ?? 0));
        i++;
      } else {
        out += STRICT.decode(bytes.subarray(i, i + len));
        i += len;
      }
    }
    return out;
  }
};

const ESCAPED = /[\udc80-\udcff]/;

/** Text back to bytes (the inverse of {@link bytesToText}). */
export const textToBytes = (text: string): Buffer => {
  if (!ESCAPED.test(text)) {
    return Buffer.from(text, 'utf8');
  }
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([code - 0xdc00]));
      run = '';
    } else {
      run += ch;
    }
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
};
