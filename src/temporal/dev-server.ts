import { SEARCH_ATTRIBUTE_NAMES } from '../workflows/search-attributes';

/**
 * The arguments of `temporal server start-dev` as the tests and the benchmark run it: on loopback,
 * headless, quiet, with AIRE's search attributes registered (scripts/temporal.sh does the same for
 * `npm run dev`). `dbFile` null: in memory.
 */
export function devServerArgs(port: number, dbFile: string | null, extra: readonly string[] = []): string[] {
  return [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    ...(dbFile ? ['--db-filename', dbFile] : []),
    ...SEARCH_ATTRIBUTE_NAMES.flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
    ...extra,
  ];
}
