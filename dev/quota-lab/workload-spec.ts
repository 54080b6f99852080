/** What one lab workload process does, and what it reports. */
export interface WorkloadSpec {
  /** CPU work done once, right at the start (a start-up burst), in ms of CPU time. */
  readonly startupWorkMs: number;
  /** Periodic units: `workMs` of CPU time every `everyMs`, first at `offsetMs`. 0 disables them. */
  readonly workMs: number;
  readonly everyMs: number;
  readonly offsetMs: number;
  /** How long the process lives after `go` (ms). */
  readonly durationMs: number;
}

/** One timed unit of work. */
export interface UnitReport {
  /** Start of the unit, ms after `go`. */
  readonly atMs: number;
  /** CPU time the unit used (ms). */
  readonly cpuMs: number;
  /** Wall time the unit took (ms). */
  readonly wallMs: number;
}

export const workloadSpec = (spec: Partial<WorkloadSpec> & Pick<WorkloadSpec, 'durationMs'>): WorkloadSpec => ({
  startupWorkMs: 0,
  workMs: 0,
  everyMs: 0,
  offsetMs: 0,
  ...spec,
});

export const parseWorkloadSpec = (raw: string): WorkloadSpec => {
  const value = JSON.parse(raw) as Record<string, unknown>;
  const num = (key: keyof WorkloadSpec): number => {
    const v = value[key] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new Error(`workload spec: ${key} must be a non-negative number`);
    }
    return v;
  };
  return { startupWorkMs: num('startupWorkMs'), workMs: num('workMs'), everyMs: num('everyMs'), offsetMs: num('offsetMs'), durationMs: num('durationMs') };
};
