/**
 * The frame of `px.GetAgentStatus()`: Pixie's relation (44d42f1
 * src/vizier/funcs/md_udtfs/md_udtfs_impl.h:287-305; no semantic types), rows from the cluster's
 * agents (../agents.ts).
 *
 * @module
 */
import type { DataTypeName } from '../dataset.ts';
import { type Cell, DataFrame, type FrameColumn, ST_NONE } from './frame.ts';

export const AGENT_STATUS_RELATION: readonly { readonly name: string; readonly type: DataTypeName }[] = [
  { name: 'agent_id', type: 'UINT128' },
  { name: 'asid', type: 'INT64' },
  { name: 'hostname', type: 'STRING' },
  { name: 'ip_address', type: 'STRING' },
  { name: 'agent_state', type: 'STRING' },
  { name: 'create_time', type: 'TIME64NS' },
  { name: 'last_heartbeat_ns', type: 'INT64' },
  { name: 'kernel_headers_installed', type: 'BOOLEAN' },
];

export const agentStatusFrame = (rows: readonly Readonly<Record<string, Cell>>[]): DataFrame =>
  new DataFrame(
    new Map(
      AGENT_STATUS_RELATION.map((c): [string, FrameColumn] => [
        c.name,
        {
          type: c.type,
          semantic: ST_NONE,
          values: rows.map((r) => {
            const v = r[c.name];
            if (v === undefined) {
              throw new Error(`agent row without ${c.name}`);
            }
            return v;
          }),
        },
      ]),
    ),
    rows.length,
  );
