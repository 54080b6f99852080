import { CompactEncrypt, importJWK } from 'jose';
import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Int64Column } from '../../../shared/pixie/columns.ts';
import { decodeRowBatch } from '../../../shared/pixie/decode-batch.ts';
import { encodeRowBatch } from '../../../dev/vizier/encode-response.ts';
import { type BatchDecrypter, createBatchDecrypter } from '../../../shared/pixie/encryption.ts';

const batch = encodeRowBatch({ tableId: 't', numRows: 3, eow: false, eos: true, cols: [new Int64Column(BigInt64Array.from([1n, -2n, 2n ** 60n]))] });

describe('batch decryption', () => {
  let decrypter: BatchDecrypter;
  const encrypt = async (plaintext: Uint8Array, header: Record<string, string>): Promise<Uint8Array> => {
    const key = await importJWK(JSON.parse(decrypter.options.jwkKey) as Record<string, string>, 'RSA-OAEP-256');
    const jwe = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...header }).encrypt(key);
    return new TextEncoder().encode(jwe);
  };

  beforeAll(async () => {
    decrypter = await createBatchDecrypter(2048);
  });

  it('asks for RSA-OAEP-256 / A256GCM / DEF with a public JWK only', () => {
    expect(decrypter.options).toMatchObject({ keyAlg: 'RSA-OAEP-256', contentAlg: 'A256GCM', compressionAlg: 'DEF' });
    expect(Object.keys(JSON.parse(decrypter.options.jwkKey) as object).sort()).toEqual(['e', 'kty', 'n']);
  });

  it('decrypts a JWE whose header says zip=DEF (as Vizier writes it)', async () => {
    const plain = await decrypter.decrypt(await encrypt(batch, { zip: 'DEF' }));
    expect(Array.from((decodeRowBatch(plain).cols[0] as Int64Column).values)).toEqual([1n, -2n, 2n ** 60n]);
  });

  it('inflates a raw-DEFLATE plaintext sent without the zip header', async () => {
    const plain = await decrypter.decrypt(await encrypt(deflateRawSync(batch), {}));
    expect(Array.from(plain)).toEqual(Array.from(batch));
  });

  it('refuses a JWE for another key', async () => {
    const other = await createBatchDecrypter(2048);
    const key = await importJWK(JSON.parse(other.options.jwkKey) as Record<string, string>, 'RSA-OAEP-256');
    const jwe = await new CompactEncrypt(batch).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', zip: 'DEF' }).encrypt(key);
    await expect(decrypter.decrypt(new TextEncoder().encode(jwe))).rejects.toThrow();
  });
});
