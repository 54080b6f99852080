/**
 * Decoders for the Pixie responses this client reads: ExecuteScriptResponse (batches go to the
 * columnar decoder), HealthCheckResponse and GetClusterInfoResponse. Unknown fields are skipped.
 *
 * @module
 */
import { decodeRowBatchAt } from './decode-batch.ts';
import {
  ClusterStatus,
  type ClusterInfo,
  type ColumnInfo,
  type CompilerError,
  type ExecuteScriptResponse,
  type ExecutionStats,
  type MutationInfo,
  type MutationState,
  type PodStatus,
  type RowBatch,
  type Status,
  type TableMetadata,
  enumName,
} from './types.ts';
import { uint128ToUuid } from './uint128.ts';
import { Reader, WireType } from './wire.ts';

const LEN = WireType.LEN;
const VARINT = WireType.VARINT;
const key = (field: number, wire: number): number => (field << 3) | wire;

/** Runs `onField` for each field of the message at `[reader.pos, end)`; `onField` must consume it. */
const eachField = (reader: Reader, end: number, onField: (tag: number) => boolean): void => {
  const saved = reader.end;
  reader.end = end;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (!onField(tag)) {
      reader.skip(tag & 7);
    }
  }
  reader.end = saved;
  reader.pos = end;
};

const decodeCompilerError = (reader: Reader, end: number): CompilerError => {
  let line = 0;
  let column = 0;
  let message = '';
  eachField(reader, end, (tag) => {
    switch (tag) {
      case key(1, VARINT):
        line = reader.int64Number();
        return true;
      case key(2, VARINT):
        column = reader.int64Number();
        return true;
      case key(3, LEN):
        message = reader.string();
        return true;
      default:
        return false;
    }
  });
  return { line, column, message };
};

const decodeStatus = (reader: Reader, end: number): Status => {
  let code = 0;
  let message = '';
  const compilerErrors: CompilerError[] = [];
  eachField(reader, end, (tag) => {
    switch (tag) {
      case key(1, VARINT):
        code = reader.uint32() | 0;
        return true;
      case key(2, LEN):
        message = reader.string();
        return true;
      case key(4, LEN): {
        // ErrorDetails { oneof error { CompilerError compiler_error = 1 } }
        eachField(reader, reader.lengthEnd(), (inner) => {
          if (inner === key(1, LEN)) {
            compilerErrors.push(decodeCompilerError(reader, reader.lengthEnd()));
            return true;
          }
          return false;
        });
        return true;
      }
      default:
        return false;
    }
  });
  return { code, message, compilerErrors };
};

const decodeColumnInfo = (reader: Reader, end: number): ColumnInfo => {
  let name = '';
  let type = 0;
  let description = '';
  let semanticType = 0;
  eachField(reader, end, (tag) => {
    switch (tag) {
      case key(1, LEN):
        name = reader.string();
        return true;
      case key(2, VARINT):
        type = reader.uint32();
        return true;
      case key(3, LEN):
        description = reader.string();
        return true;
      case key(4, VARINT):
        semanticType = reader.uint32();
        return true;
      default:
        return false;
    }
  });
  return { name, type, description, semanticType };
};

const decodeMetadata = (reader: Reader, end: number): TableMetadata => {
  let id = '';
  let name = '';
  const columns: ColumnInfo[] = [];
  eachField(reader, end, (tag) => {
    switch (tag) {
      case key(1, LEN):
        eachField(reader, reader.lengthEnd(), (inner) => {
          if (inner === key(1, LEN)) {
            columns.push(decodeColumnInfo(reader, reader.lengthEnd()));
            return true;
          }
          return false;
        });
        return true;
      case key(2, LEN):
        name = reader.string();
        return true;
      case key(3, LEN):
        id = reader.string();
        return true;
      default:
        return false;
    }
  });
  return { id, name, columns };
};

const decodeStats = (reader: Reader, end: number): ExecutionStats => {
  let executionTimeNs = 0;
  let compilationTimeNs = 0;
  let bytesProcessed = 0;
  let recordsProcessed = 0;
  eachField(reader, end, (tag) => {
    switch (tag) {
      case key(1, LEN):
        eachField(reader, reader.lengthEnd(), (inner) => {
          if (inner === key(1, VARINT)) {
            executionTimeNs = reader.int64Number();
            return true;
          }
          if (inner === key(2, VARINT)) {
            compilationTimeNs = reader.int64Number();
            return true;
          }
          return false;
        });
        return true;
      case key(2, VARINT):
        bytesProcessed = reader.int64Number();
        return true;
      case key(3, VARINT):
        recordsProcessed = reader.int64Number();
        return true;
      default:
        return false;
    }
  });
  return { executionTimeNs, compilationTimeNs, bytesProcessed, recordsProcessed };
};

const decodeMutationInfo = (reader: Reader, end: number): MutationInfo => {
  let status: Status | undefined;
  const states: MutationState[] = [];
  eachField(reader, end, (tag) => {
    if (tag === key(1, LEN)) {
      status = decodeStatus(reader, reader.lengthEnd());
      return true;
    }
    if (tag === key(2, LEN)) {
      let id = '';
      let state = 0;
      let name = '';
      eachField(reader, reader.lengthEnd(), (inner) => {
        switch (inner) {
          case key(1, LEN):
            id = reader.string();
            return true;
          case key(2, VARINT):
            state = reader.uint32();
            return true;
          case key(3, LEN):
            name = reader.string();
            return true;
          default:
            return false;
        }
      });
      states.push({ id, state, name });
      return true;
    }
    return false;
  });
  return { status, states };
};

/** Decodes one px.api.vizierpb.ExecuteScriptResponse. */
export const decodeExecuteScriptResponse = (bytes: Uint8Array): ExecuteScriptResponse => {
  const reader = new Reader(bytes);
  let queryId = '';
  let status: Status | undefined;
  let metaData: TableMetadata | undefined;
  let batch: RowBatch | undefined;
  let encryptedBatch: Uint8Array | undefined;
  let executionStats: ExecutionStats | undefined;
  let mutationInfo: MutationInfo | undefined;
  eachField(reader, bytes.length, (tag) => {
    switch (tag) {
      case key(1, LEN):
        status = decodeStatus(reader, reader.lengthEnd());
        return true;
      case key(2, LEN):
        queryId = reader.string();
        return true;
      case key(3, LEN):
        // QueryData: not a oneof; a later `data` replaces the result oneof, as protobuf merges it.
        metaData = undefined;
        eachField(reader, reader.lengthEnd(), (inner) => {
          switch (inner) {
            case key(1, LEN): {
              const end = reader.lengthEnd();
              batch = decodeRowBatchAt(reader.buf, reader.pos, end);
              reader.pos = end;
              return true;
            }
            case key(2, LEN):
              executionStats = decodeStats(reader, reader.lengthEnd());
              return true;
            case key(3, LEN):
              encryptedBatch = reader.bytes();
              return true;
            default:
              return false;
          }
        });
        return true;
      case key(4, LEN):
        batch = undefined;
        encryptedBatch = undefined;
        executionStats = undefined;
        metaData = decodeMetadata(reader, reader.lengthEnd());
        return true;
      case key(5, LEN):
        mutationInfo = decodeMutationInfo(reader, reader.lengthEnd());
        return true;
      default:
        return false;
    }
  });
  return { queryId, status, metaData, batch, encryptedBatch, executionStats, mutationInfo };
};

/** Decodes a px.api.vizierpb.HealthCheckResponse to its status (undefined when absent). */
export const decodeHealthCheckResponse = (bytes: Uint8Array): Status | undefined => {
  const reader = new Reader(bytes);
  let status: Status | undefined;
  eachField(reader, bytes.length, (tag) => {
    if (tag === key(1, LEN)) {
      status = decodeStatus(reader, reader.lengthEnd());
      return true;
    }
    return false;
  });
  return status;
};

/** Decodes a px.uuidpb.UUID message to its dashed string form. */
const decodeUuid = (reader: Reader, end: number): string => {
  let high = 0n;
  let low = 0n;
  eachField(reader, end, (tag) => {
    if (tag === key(2, VARINT)) {
      high = reader.uint64BigInt();
      return true;
    }
    if (tag === key(3, VARINT)) {
      low = reader.uint64BigInt();
      return true;
    }
    return false;
  });
  return uint128ToUuid(high, low);
};

const decodePodStatus = (reader: Reader, end: number): PodStatus => {
  let name = '';
  let status = 0;
  let statusMessage = '';
  let reason = '';
  let restartCount = 0;
  eachField(reader, end, (tag) => {
    switch (tag) {
      case key(1, LEN):
        name = reader.string();
        return true;
      case key(2, VARINT):
        status = reader.uint32();
        return true;
      case key(3, LEN):
        statusMessage = reader.string();
        return true;
      case key(4, LEN):
        reason = reader.string();
        return true;
      case key(8, VARINT):
        restartCount = reader.int64Number();
        return true;
      default:
        return false;
    }
  });
  return { name, status, statusMessage, reason, restartCount };
};

/** Decodes one `map<string, PodStatus>` entry into `into`. */
const decodePodStatusEntry = (reader: Reader, end: number, into: Record<string, PodStatus>): void => {
  let mapKey = '';
  let value: PodStatus = { name: '', status: 0, statusMessage: '', reason: '', restartCount: 0 };
  eachField(reader, end, (tag) => {
    if (tag === key(1, LEN)) {
      mapKey = reader.string();
      return true;
    }
    if (tag === key(2, LEN)) {
      value = decodePodStatus(reader, reader.lengthEnd());
      return true;
    }
    return false;
  });
  into[mapKey] = value;
};

const decodeClusterInfo = (reader: Reader, end: number): ClusterInfo => {
  const strings = new Map<number, string>();
  const numbers = new Map<number, number>();
  let id = '';
  let passthroughEnabled = false;
  const controlPlanePodStatuses: Record<string, PodStatus> = {};
  const unhealthyDataPlanePodStatuses: Record<string, PodStatus> = {};
  eachField(reader, end, (tag) => {
    const field = tag >>> 3;
    if (tag === key(1, LEN)) {
      id = decodeUuid(reader, reader.lengthEnd());
    } else if (tag === key(4, LEN)) {
      eachField(reader, reader.lengthEnd(), (inner) => {
        if (inner === key(1, VARINT)) {
          passthroughEnabled = reader.uint32() !== 0;
          return true;
        }
        return false;
      });
    } else if (tag === key(10, LEN)) {
      decodePodStatusEntry(reader, reader.lengthEnd(), controlPlanePodStatuses);
    } else if (tag === key(14, LEN)) {
      decodePodStatusEntry(reader, reader.lengthEnd(), unhealthyDataPlanePodStatuses);
    } else if ((tag & 7) === VARINT && [2, 3, 11, 12, 15].includes(field)) {
      numbers.set(field, reader.int64Number());
    } else if ((tag & 7) === LEN && [5, 6, 7, 8, 9, 13, 17].includes(field)) {
      strings.set(field, reader.string());
    } else {
      return false;
    }
    return true;
  });
  const status = numbers.get(2) ?? 0;
  return {
    id,
    status,
    statusName: enumName(ClusterStatus, status),
    lastHeartbeatNs: numbers.get(3) ?? 0,
    passthroughEnabled,
    clusterUid: strings.get(5) ?? '',
    clusterName: strings.get(6) ?? '',
    clusterVersion: strings.get(7) ?? '',
    vizierVersion: strings.get(8) ?? '',
    prettyClusterName: strings.get(9) ?? '',
    numNodes: numbers.get(11) ?? 0,
    numInstrumentedNodes: numbers.get(12) ?? 0,
    statusMessage: strings.get(13) ?? '',
    previousStatus: numbers.get(15) ?? 0,
    operatorVersion: strings.get(17) ?? '',
    controlPlanePodStatuses,
    unhealthyDataPlanePodStatuses,
  };
};

/** Decodes a px.cloudapi.GetClusterInfoResponse. */
export const decodeGetClusterInfoResponse = (bytes: Uint8Array): ClusterInfo[] => {
  const reader = new Reader(bytes);
  const clusters: ClusterInfo[] = [];
  eachField(reader, bytes.length, (tag) => {
    if (tag === key(1, LEN)) {
      clusters.push(decodeClusterInfo(reader, reader.lengthEnd()));
      return true;
    }
    return false;
  });
  return clusters;
};
