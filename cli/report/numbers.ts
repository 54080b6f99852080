/** Numbers as the report prints them. Pure formatting; absent values are handled by the callers. */
/** Millicores as people read a Kubernetes CPU quantity, with the unit always visible: "500m", "1 CPU", "2 CPUs". */
export const formatCpu = (millicores: number): string =>
  millicores % 1000 === 0 ? `${millicores / 1000} CPU${millicores === 1000 ? '' : 's'}` : `${millicores}m`;

/** 0.4 -> "40%", 0.031 -> "3.1%". */
export const percent = (ratio: number): string => `${(ratio * 100).toFixed(Math.abs(ratio) < 0.1 ? 1 : 0)}%`;

/** Nanoseconds as milliseconds with about three significant digits. */
export const ms = (ns: number): string => {
  const value = ns / 1e6;
  const digits = value === 0 ? 0 : Math.abs(value) < 1 ? 3 : Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ms`;
};

/** Seconds of throttled time per second of wall time. */
export const perSecond = (value: number): string => `${value.toFixed(3)} s/s`;

/** Nanoseconds as seconds. */
export const seconds = (ns: number): string => `${(ns / 1e9).toFixed(3)} s`;

/** Thousands separators, locale-independent so the report reads the same everywhere. */
export const count = (value: number): string => String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Coordinates rounded to 0.01 px: short markup, and tests can compare with a small tolerance. */
export const px = (value: number): number => Math.round(value * 100) / 100;
