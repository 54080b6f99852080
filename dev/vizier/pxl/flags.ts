/**
 * `#px:set key=value` query flags, parsed as Pixie's query broker parses them before anything else
 * (src/vizier/services/query_broker/controllers/query_flags.go at 44d42f1): only lines that start
 * with exactly `#px:set `, split on one space and one `=`; the keys are those with a default
 * (explain, analyze, max_output_rows_per_table), typed by their default (bool via Go's ParseBool,
 * int via ParseInt). A bad flag is a plain error, not a compiler error: the broker returns it
 * before compiling, so the client sees gRPC UNKNOWN with the Go error text.
 *
 * @module
 */

/** A flag line Pixie's broker refuses (message = the Go error text). */
export class QueryFlagError extends Error {
  override readonly name = 'QueryFlagError';
}

export interface QueryFlags {
  readonly explain: boolean;
  readonly analyze: boolean;
  readonly maxOutputRowsPerTable: number;
}

/** query_flags.go defaultQueryFlags. */
export const DEFAULT_MAX_ROWS_PER_TABLE = 10_000;

const PREFIX = '#px:set ';

// strconv.ParseBool's accepted spellings.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

const parseBool = (value: string): boolean => {
  if (TRUE.has(value)) {
    return true;
  }
  if (FALSE.has(value)) {
    return false;
  }
  throw new QueryFlagError(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
};

const parseInt64 = (value: string): number => {
  if (!/^[+-]?\d+$/.test(value)) {
    throw new QueryFlagError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  const n = BigInt(value);
  if (n > 9223372036854775807n || n < -9223372036854775808n) {
    throw new QueryFlagError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  // A cap above 2^53 rows is no cap in practice; keep it a safe number.
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
};

/** The flags of a script; throws {@link QueryFlagError} exactly where ParseQueryFlags errs. */
export const parseQueryFlags = (source: string): QueryFlags => {
  const flags = { explain: false, analyze: false, maxOutputRowsPerTable: DEFAULT_MAX_ROWS_PER_TABLE };
  const text = source.endsWith('\n') ? source.slice(0, -1) : source;
  for (const line of text.split('\n')) {
    if (!line.startsWith(PREFIX)) {
      continue;
    }
    const parts = line.split(' ');
    if (parts.length !== 2) {
      throw new QueryFlagError('Config setting is malformed');
    }
    const keyVal = (parts[1] ?? '').split('=');
    if (keyVal.length !== 2) {
      throw new QueryFlagError('Config setting is malformed');
    }
    const [key = '', value = ''] = keyVal;
    switch (key) {
      case 'explain':
      case 'analyze':
        flags[key] = parseBool(value);
        break;
      case 'max_output_rows_per_table':
        flags.maxOutputRowsPerTable = parseInt64(value);
        break;
      default:
        throw new QueryFlagError(`${key} is not a valid flag`);
    }
  }
  return flags;
};
