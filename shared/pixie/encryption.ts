/**
 * End-to-end encryption of result batches, as Pixie's Go client does it by default: a fresh RSA
 * key pair per client, the public half sent as a JWK in `encryption_options`, and each batch coming
 * back as a JWE compact serialization (RSA-OAEP-256 key wrap, A256GCM content, raw DEFLATE).
 *
 * @module
 */
import { compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { inflateRawSync } from 'node:zlib';
import type { EncryptionOptions } from './types.ts';

export const KEY_ALG = 'RSA-OAEP-256';
export const CONTENT_ALG = 'A256GCM';
export const COMPRESSION_ALG = 'DEF';

/** Largest decrypted batch accepted (guards against a decompression bomb). */
export const MAX_DECRYPTED_BATCH_BYTES = 256 * 1024 * 1024;

/** A key pair and the options that ask Vizier to encrypt for it. */
export interface BatchDecrypter {
  readonly options: EncryptionOptions;
  /** Decrypts one `encrypted_batch` to serialized RowBatchData. */
  decrypt(jwe: Uint8Array): Promise<Uint8Array>;
}

/** Creates a fresh RSA key pair (4096 bits like the official clients; tests may use 2048). */
export const createBatchDecrypter = async (modulusLength = 4096): Promise<BatchDecrypter> => {
  const { publicKey, privateKey } = await generateKeyPair(KEY_ALG, { modulusLength });
  const jwk = await exportJWK(publicKey);
  const options: EncryptionOptions = {
    jwkKey: JSON.stringify({ kty: jwk.kty, n: jwk.n, e: jwk.e }),
    keyAlg: KEY_ALG,
    contentAlg: CONTENT_ALG,
    compressionAlg: COMPRESSION_ALG,
  };
  const decoder = new TextDecoder();
  return {
    options,
    async decrypt(jwe: Uint8Array): Promise<Uint8Array> {
      const compact = decoder.decode(jwe);
      // Vizier's JWE library marks compression in the protected header (`zip: DEF`) and jose
      // inflates. A server that deflates the batch itself and leaves the header out is also
      // accepted: the plaintext is inflated here, and kept as is if it is not a DEFLATE stream
      // (the RowBatchData decoder then checks it).
      const zipped = decodeProtectedHeader(compact).zip === COMPRESSION_ALG;
      const { plaintext } = await compactDecrypt(compact, privateKey, {
        keyManagementAlgorithms: [KEY_ALG],
        contentEncryptionAlgorithms: [CONTENT_ALG],
        maxDecompressedLength: MAX_DECRYPTED_BATCH_BYTES,
      });
      if (zipped) {
        return plaintext;
      }
      try {
        return inflateRawSync(plaintext, { maxOutputLength: MAX_DECRYPTED_BATCH_BYTES });
      } catch {
        return plaintext;
      }
    },
  };
};
