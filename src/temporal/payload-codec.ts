import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type DataConverter, METADATA_ENCODING_KEY, type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { first } from '../domain/must';

/**
 * AES-256-GCM encryption of every payload AIRE's worker and clients exchange with Temporal:
 * workflow inputs and results, activity inputs and outputs, signals, updates, queries, memo.
 * Temporal stores only ciphertext; whoever holds a key decodes (the worker, the API, and the codec
 * endpoint the Web UI and CLI call: src/api/routes/codec.ts). The whole payload, metadata
 * included, is encrypted, so not even its encoding shows.
 *
 * Keys rotate by id: the first key encrypts, every key listed decrypts, and each payload names
 * the key it was encrypted with. Add the new key first, keep the old ones until no open incident's
 * history needs them. The layout (`binary/encrypted`, `encryption-key-id`, nonce + ciphertext +
 * tag) is that of Temporal's encryption samples.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const { Payload: PayloadProto } = temporal.api.common.v1;
const text = (value: Uint8Array | null | undefined): string | undefined => (value ? Buffer.from(value).toString('utf8') : undefined);

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  /** `keys[0]` encrypts; all of them decrypt. */
  constructor(private readonly keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new ValueError('the payload codec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = first(this.keys, 'a payload key');
    return settle(() =>
      payloads.map((payload) => ({
        metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID]: Buffer.from(id) },
        data: encrypt(key, id, PayloadProto.encode(payload).finish()),
      })),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() =>
      payloads.map((payload) => {
        // Payloads written before encryption was turned on stay readable.
        if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
        const id = text(payload.metadata?.[KEY_ID]) ?? '';
        const key = this.byId.get(id);
        if (!key) throw new ValueError(`payload encrypted with key "${id}", which is not among AIRE_PAYLOAD_KEYS (${[...this.byId.keys()].join(', ')})`);
        if (!payload.data) throw new ValueError('encrypted payload without data');
        return PayloadProto.decode(decrypt(key, id, payload.data));
      }),
    );
  }
}

/** The codec interface is asynchronous; the work is not. A throw becomes a rejection. */
const settle = <T>(work: () => T): Promise<T> => new Promise((resolve) => resolve(work()));

/** The key id is authenticated too: a payload cannot be passed off as encrypted under another id. */
function encrypt(key: Buffer, id: string, plain: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(Buffer.from(id));
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function decrypt(key: Buffer, id: string, sealed: Uint8Array): Buffer {
  const data = Buffer.from(sealed);
  if (data.length < NONCE_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES)).setAAD(Buffer.from(id));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new ValueError(`payload under key "${id}" does not decrypt: the key is wrong or the payload was altered`);
  }
}

/**
 * The data converter for every Temporal connection AIRE makes (worker, API, tests, bench): with
 * keys, payloads are encrypted; without, Temporal's default JSON (the development default).
 */
export function aireDataConverter(keys: readonly PayloadKey[]): DataConverter | undefined {
  return keys.length > 0 ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined;
}
