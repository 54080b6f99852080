/**
 * End-to-end encryption of row batches as Vizier does it: each serialized RowBatchData becomes a
 * JWE compact serialization for the client's public key (from `encryption_options.jwk_key`), with
 * the algorithms the client asked for (Pixie's clients ask RSA-OAEP-256 / A256GCM / DEF, where DEF
 * is raw DEFLATE of the plaintext before encryption). Only batches are encrypted.
 *
 * @module
 */
import { CompactEncrypt, importJWK, type JWK } from 'jose';

export interface EncryptionOptions {
  readonly jwkKey: string;
  readonly keyAlg: string;
  readonly contentAlg: string;
  readonly compressionAlg: string;
}

/** Bad encryption options from a client: answered with INVALID_ARGUMENT. */
export class EncryptionOptionsError extends Error {
  override readonly name = 'EncryptionOptionsError';
}

export type BatchEncrypter = (batch: Uint8Array) => Promise<string>;

const KEY_ALGS = new Set(['RSA-OAEP-256', 'RSA-OAEP']);
const CONTENT_ALGS = new Set(['A256GCM', 'A128GCM', 'A192GCM']);

/** Prepares an encrypter for the client's key; throws {@link EncryptionOptionsError} on bad options. */
export const createBatchEncrypter = async (options: EncryptionOptions): Promise<BatchEncrypter> => {
  if (!KEY_ALGS.has(options.keyAlg)) {
    throw new EncryptionOptionsError(`unsupported key_alg '${options.keyAlg}'`);
  }
  if (!CONTENT_ALGS.has(options.contentAlg)) {
    throw new EncryptionOptionsError(`unsupported content_alg '${options.contentAlg}'`);
  }
  if (options.compressionAlg !== '' && options.compressionAlg !== 'DEF') {
    throw new EncryptionOptionsError(`unsupported compression_alg '${options.compressionAlg}'`);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(options.jwkKey) as JWK;
  } catch (cause) {
    throw new EncryptionOptionsError('jwk_key is not a JSON Web Key', { cause });
  }
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK({ ...jwk, alg: options.keyAlg }, options.keyAlg);
  } catch (cause) {
    throw new EncryptionOptionsError('jwk_key is not a usable RSA public key', { cause });
  }
  const header = {
    alg: options.keyAlg,
    enc: options.contentAlg,
    ...(options.compressionAlg === 'DEF' ? { zip: 'DEF' } : {}),
  };
  return async (batch: Uint8Array): Promise<string> => new CompactEncrypt(batch).setProtectedHeader(header).encrypt(key);
};
