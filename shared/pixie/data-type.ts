/**
 * Pixie column data types, on their own so that columns and message types can both use them.
 *
 * @module
 */

/** Column data types (px.api.vizierpb.DataType). */
export const DataType = {
  DATA_TYPE_UNKNOWN: 0,
  BOOLEAN: 1,
  INT64: 2,
  UINT128: 3,
  FLOAT64: 4,
  STRING: 5,
  TIME64NS: 6,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];
