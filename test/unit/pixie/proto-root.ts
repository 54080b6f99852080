/**
 * Loads kernel-gossip's own Pixie proto text with protobufjs: an independent codec to check the
 * hand-written encoders and decoders against.
 */
import path from 'node:path';
import protobuf from 'protobufjs';

const protoDir = path.resolve(import.meta.dirname, '../../../shared/pixie/proto');

export const loadPixieRoot = async (): Promise<protobuf.Root> => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : path.join(protoDir, target));
  await root.load(['vizierapi.proto', 'cloudapi.proto'], { keepCase: true });
  root.resolveAll();
  return root;
};
