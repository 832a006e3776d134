import { randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, defaultPayloadConverter } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../src/config';
import { ENCRYPTED_ENCODING, EncryptionCodec, type PayloadKey } from '../../src/temporal/payload-codec';

const key = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');

describe('payload encryption (AES-256-GCM, keys by id)', () => {
  const secret = { signingSecret: 'canary-codec-secret', cost: 4242.17 };

  test('encrypted payloads hide the value and its encoding, and decode to the same payload', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const [sealed] = await codec.encode([payload(secret)]);
    if (!sealed) throw new Error('expected a sealed payload');
    expect(text(sealed.metadata?.[METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed.metadata?.['encryption-key-id'])).toBe('k1');
    expect(Buffer.from(sealed.data ?? []).includes('canary-codec-secret')).toBe(false);
    expect(Buffer.from(sealed.data ?? []).includes('json/plain')).toBe(false);
    const [opened] = await codec.decode([sealed]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(secret);
  });

  test('after rotation a payload sealed with the old key still decodes, and new ones use the new key', async () => {
    const old = key('2026-01');
    const [sealed] = await new EncryptionCodec([old]).encode([payload(secret)]);
    if (!sealed) throw new Error('expected a sealed payload');
    const rotated = new EncryptionCodec([key('2026-12'), old]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed]))[0]!)).toEqual(secret);
    const [fresh] = await rotated.encode([payload(secret)]);
    expect(text(fresh?.metadata?.['encryption-key-id'])).toBe('2026-12');
  });

  test('a retired key, a wrong key or an altered payload is refused with the reason, never decoded to garbage', async () => {
    const k1 = key('k1');
    const [sealed] = await new EncryptionCodec([k1]).encode([payload(secret)]);
    if (!sealed) throw new Error('expected a sealed payload');
    await expect(new EncryptionCodec([key('k2')]).decode([sealed])).rejects.toThrow(/key "k1", which is not among AIRE_PAYLOAD_KEYS \(k2\)/);
    await expect(new EncryptionCodec([{ id: 'k1', key: randomBytes(32) }]).decode([sealed])).rejects.toThrow(/does not decrypt/);
    const altered = Buffer.from(sealed.data ?? []);
    altered[20]! ^= 1;
    await expect(new EncryptionCodec([k1]).decode([{ ...sealed, data: altered }])).rejects.toThrow(/does not decrypt/);
    // The key id is authenticated: relabelling a payload to another key's id fails too.
    const relabelled = { ...sealed, metadata: { ...sealed.metadata, 'encryption-key-id': Buffer.from('k0') } };
    await expect(new EncryptionCodec([k1, { id: 'k0', key: k1.key }]).decode([relabelled])).rejects.toThrow(/does not decrypt/);
  });

  test('payloads written before encryption was turned on pass through', async () => {
    const plain = payload({ title: 'old incident' });
    expect(await new EncryptionCodec([key('k1')]).decode([plain])).toEqual([plain]);
  });

  test('AIRE_PAYLOAD_KEYS: id:base64 of 32 bytes, first encrypts; a bad entry names the variable, not the key', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    const config = loadConfig({ AIRE_PAYLOAD_KEYS: `new:${a}, old:${b}` });
    expect(config.AIRE_PAYLOAD_KEYS.map((k) => k.id)).toEqual(['new', 'old']);
    expect(config.AIRE_PAYLOAD_KEYS[0]!.key.equals(Buffer.from(a, 'base64'))).toBe(true);
    expect(loadConfig({}).AIRE_PAYLOAD_KEYS).toEqual([]);
    const short = randomBytes(16).toString('base64');
    for (const bad of [`k1:${short}`, a, `k1:${a},k1:${b}`]) {
      let error: unknown;
      try {
        loadConfig({ AIRE_PAYLOAD_KEYS: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).toMatch(/AIRE_PAYLOAD_KEYS/);
      expect(String(error)).not.toContain(short);
      expect(String(error)).not.toContain(a);
    }
  });
});
