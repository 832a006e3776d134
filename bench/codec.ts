/**
 * What payload encryption (AIRE_PAYLOAD_KEYS, src/temporal/payload-codec.ts) costs per payload:
 * encode and decode of payloads the size of an incident's (a join event, a step call, a workflow
 * input with its draft), on this machine's CPU alone, no network. `npm run bench:codec`; the figures
 * go to bench/results/<time>-codec.{json,md}.
 *
 *   --rounds N   payloads per size (default 20,000)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../src/temporal/payload-codec';

const SIZES = [
  { name: 'join event', bytes: 200 },
  { name: 'step call', bytes: 2_000 },
  { name: 'workflow input', bytes: 20_000 },
];

interface Figure {
  payload: string;
  bytes: number;
  rounds: number;
  encodeMicros: number;
  decodeMicros: number;
  overheadBytes: number;
}

async function measure(codec: EncryptionCodec, bytes: number, rounds: number): Promise<Omit<Figure, 'payload'>> {
  const payload = defaultPayloadConverter.toPayload({ text: 'x'.repeat(bytes) });
  const plainBytes = payload.data?.length ?? 0;
  // Warm up the cipher and the JIT before timing.
  for (let i = 0; i < 500; i += 1) await codec.decode(await codec.encode([payload]));
  let sealed = await codec.encode([payload]);
  let started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i += 1) sealed = await codec.encode([payload]);
  const encodeNs = Number(process.hrtime.bigint() - started);
  started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i += 1) await codec.decode(sealed);
  const decodeNs = Number(process.hrtime.bigint() - started);
  const round2 = (n: number): number => Math.round(n * 100) / 100;
  return {
    bytes: plainBytes,
    rounds,
    encodeMicros: round2(encodeNs / rounds / 1000),
    decodeMicros: round2(decodeNs / rounds / 1000),
    overheadBytes: (sealed[0]?.data?.length ?? 0) - plainBytes,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20000' } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 100) throw new Error('--rounds takes a whole number of at least 100');
  const codec = new EncryptionCodec([{ id: 'bench', key: randomBytes(32) }]);
  const figures: Figure[] = [];
  for (const size of SIZES) {
    const figure = { payload: size.name, ...(await measure(codec, size.bytes, rounds)) };
    figures.push(figure);
    console.log(`${figure.payload}: ${figure.bytes} B, encode ${figure.encodeMicros} µs, decode ${figure.decodeMicros} µs, +${figure.overheadBytes} B`);
  }
  const at = new Date().toISOString().slice(0, 16).replace(/:/g, '');
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  // Other work on the machine slows these down: the load average says how busy it was.
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1) ?? '?'}`;
  writeFileSync(join(dir, `${at}-codec.json`), `${JSON.stringify({ at: new Date().toISOString(), machine, figures }, null, 2)}\n`);
  const rows = figures.map((f) => `| ${f.payload} | ${f.bytes} | ${f.encodeMicros} | ${f.decodeMicros} | ${f.overheadBytes} |`);
  const md = [
    `# Payload codec, ${new Date().toISOString()}`,
    '',
    `${machine}; ${rounds} payloads per size; \`npm run bench:codec\`.`,
    '',
    '| payload | plain bytes | encode µs | decode µs | bytes added |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(dir, `${at}-codec.md`), md);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
