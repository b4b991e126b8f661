import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clickHouseConfigFromEnv, findClickHouseMigrationsDir } from '@tally/clickhouse';
import { envString, freeLoopbackPort } from '@tally/common';
import { DEFAULT_NATS_URL, findDefinitionsDir, loadDefinitions } from '@tally/nats';
import { DEFAULT_DATABASE_URL, findMigrationsDir } from '@tally/postgres';
import { findSpannerDdlDir, spannerConfigFromEnv } from '@tally/spanner';
import { describe, expect, it } from 'vitest';
import {
  type AggregatorConfig,
  loadAggregatorConfig,
} from '../../apps/aggregator/src/config/aggregator.config.js';
import { type IngestConfig, loadIngestConfig } from '../../apps/ingest/src/config/ingest.config.js';
import { loadQueryConfig, type QueryConfig } from '../../apps/query/src/config/query.config.js';
import { loadWriterConfig, type WriterConfig } from '../../apps/writer/src/config/writer.config.js';
import {
  type ComposeFile,
  commandOf,
  dockerIgnored,
  type Env,
  interpolate,
  loadCompose,
  parseDockerfile,
  parsePort,
  parseVolume,
  ROOT,
  readText,
  type Service,
  serviceEnv,
} from './compose-file.js';
import {
  clickHouseRelations,
  dashboardProviders,
  dashboardQueries,
  dashboards,
  GRAFANA_DIR,
  provisionedDataSources,
  tablesReadBy,
} from './grafana-dashboard.js';

/**
 * docker-compose.yml, the Dockerfile and Grafana's provisioning, validated without a Docker engine
 * (none runs on the machines Tally is built on, so nothing here starts a container). What can be
 * checked here is checked against the code rather than against copies of it:
 *
 * - every variable a service sets is fed to the config loader its entry point runs at boot
 *   (loadIngestConfig, clickHouseConfigFromEnv, loadDefinitions...), through a recording proxy:
 *   a variable the loader never reads is a typo or a leftover, and a value it refuses fails here
 *   exactly as the container would at start-up;
 * - the config objects those loaders build must point at the compose services, listen where the
 *   service is published, and agree between the services that share a store;
 * - the health check scripts of the apps are run against a local HTTP server;
 * - the folders the code reads at run time (its finder functions, and every findUp() literal in
 *   the source) must be copied into the image's runtime stage;
 * - Grafana's data source must be the read-only user bi-reader.sql creates, and the dashboards may
 *   read only views clickhouse/migrations create (grafana-dashboard.int.spec.ts runs their SQL).
 */

/** What the user must export before `docker compose up` (the file refuses to start without it). */
const HOST_ENV: Env = { TALLY_API_KEYS: 'till-key=branch-1,hq-key=*' };
const compose: ComposeFile = loadCompose(HOST_ENV);
const services = Object.entries(compose.services);

/** Images from their official publishers (Docker official images, or the vendor's own repository). */
const OFFICIAL_IMAGES: Readonly<Record<string, string>> = {
  nats: 'Docker official image',
  postgres: 'Docker official image',
  'clickhouse/clickhouse-server': 'ClickHouse Inc.',
  'gcr.io/cloud-spanner-emulator/emulator': 'Google',
  'grafana/grafana': 'Grafana Labs',
};

/** Ports each infrastructure image listens on (its documentation), with the tool its health check may use. */
const INFRA: Readonly<Record<string, { ports: readonly number[]; probe: string | undefined }>> = {
  nats: { ports: [4222, 8222], probe: 'wget' }, // alpine variant: busybox wget
  postgres: { ports: [5432], probe: 'pg_isready' },
  'clickhouse/clickhouse-server': { ports: [8123, 9000], probe: 'wget' },
  // Distroless (no shell, no HTTP client): no health check can run inside it. Whatever needs it
  // waits for its port itself (spanner-migrate).
  'gcr.io/cloud-spanner-emulator/emulator': { ports: [9010, 9020], probe: undefined },
  'grafana/grafana': { ports: [3000], probe: 'curl' },
};

/** Where each entry point reads its configuration; the HTTP listener of the long-running apps. */
interface EntryPoint {
  /** Builds the config the entry point builds at start-up (throws as it would). */
  readonly load: (env: Env) => unknown | Promise<unknown>;
  /** Variables the entry point reads outside `load`. */
  readonly alsoReads?: readonly string[];
  /** The listener's port variable (long-running apps). */
  readonly portVariable?: string;
}

const ENTRY_POINTS: Readonly<Record<string, EntryPoint>> = {
  'dist/apps/ingest/src/main.js': { load: loadIngestConfig, portVariable: 'INGEST_PORT' },
  'dist/apps/writer/src/main.js': { load: loadWriterConfig, portVariable: 'WRITER_PORT' },
  'dist/apps/query/src/main.js': { load: loadQueryConfig, portVariable: 'QUERY_PORT' },
  'dist/apps/aggregator/src/main.js': { load: loadAggregatorConfig, portVariable: 'AGGREGATOR_PORT' },
  'dist/libs/clickhouse/bin/migrate.js': { load: clickHouseConfigFromEnv },
  // runSpannerMigrate() starts with spannerConfigFromEnv(env).
  'dist/libs/spanner/bin/migrate.js': { load: spannerConfigFromEnv },
  // apply-command.ts reads NATS_URL itself and fills the definitions' placeholders from env.
  'dist/nats/apply.js': {
    load: (env) => loadDefinitions({ dir: findDefinitionsDir(ROOT), env }),
    alsoReads: ['NATS_URL'],
  },
  // drizzle/migrate.ts runs on import; this is its one read of the environment.
  'dist/drizzle/migrate.js': {
    load: (env) => ({ url: envString(env, 'DATABASE_URL', DEFAULT_DATABASE_URL) }),
  },
};

const isBuilt = (s: Service) => s.build !== undefined;
const isOneShot = (s: Service) => s.restart === 'no';
const imageName = (image: string) => image.replace(/:[^/:]+$/, '');
const imageTag = (image: string) => /:([^/:]+)$/.exec(image)?.[1];

function entryOf(name: string, service: Service): string {
  const entry = commandOf(service)
    .join(' ')
    .match(/dist\/[\w/.-]+\.js/)?.[0];
  if (!entry) throw new Error(`service ${name} runs no compiled entry point (dist/...js)`);
  return entry;
}

/** The entry's config built from the service's environment, and every variable the loader read. */
async function configOf(name: string, service: Service): Promise<{ config: unknown; read: Set<string> }> {
  const entry = ENTRY_POINTS[entryOf(name, service)];
  if (!entry) throw new Error(`service ${name}: no known config loader for ${entryOf(name, service)}`);
  const read = new Set<string>(entry.alsoReads);
  const env = new Proxy(serviceEnv(service), {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
  });
  return { config: await entry.load(env), read };
}

async function configsOf<T>(entry: string): Promise<[string, Service, T][]> {
  const out: [string, Service, T][] = [];
  for (const [name, s] of services) {
    if (isBuilt(s) && entryOf(name, s) === entry) out.push([name, s, (await configOf(name, s)).config as T]);
  }
  return out;
}

function healthCommand(name: string, service: Service): string[] {
  const test = service.healthcheck?.test;
  if (test === undefined) throw new Error(`service ${name} has no health check`);
  return typeof test === 'string' ? ['CMD-SHELL', test] : [...test];
}

/** Services a service starts after, directly or through the services it waits for. */
function dependencyClosure(name: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(compose.services[name]?.depends_on ?? {})) {
    if (!seen.has(dep)) {
      seen.add(dep);
      dependencyClosure(dep, seen);
    }
  }
  return seen;
}

function natsServerConf(): { port: number; httpPort: number } {
  const text = readText('nats/nats-server.conf');
  return {
    port: Number(/^\s*port:\s*(\d+)/m.exec(text)?.[1]),
    httpPort: Number(/^\s*http_port:\s*(\d+)/m.exec(text)?.[1]),
  };
}

describe('docker-compose.yml', () => {
  it('refuses to start without the API keys instead of running ingest with none', () => {
    expect(() => loadCompose({})).toThrow(/required variable TALLY_API_KEYS is missing/);
  });

  it('uses official images pinned to a version, and builds every app from the one Dockerfile', () => {
    for (const [name, s] of services) {
      if (isBuilt(s)) {
        expect(s.image, `${name}: an app service is built, not pulled`).toBeUndefined();
        const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
        expect([build.context, build.dockerfile ?? 'Dockerfile'], name).toEqual(['.', 'Dockerfile']);
        continue;
      }
      expect(s.image, `${name} has an image or a build`).toBeDefined();
      const image = s.image!;
      expect(
        OFFICIAL_IMAGES[imageName(image)],
        `${name}: ${image} is not from an official publisher`,
      ).toBeDefined();
      expect(imageTag(image), `${name}: ${image} is pinned to a version`).toMatch(
        /^\d+(\.\d+)*(-[a-z0-9]+)?$/,
      );
    }
    // nats-server.conf sets sync_interval, which nats-server knows from 2.10 on.
    const [major = 0, minor = 0] = (imageTag(compose.services.nats!.image!) ?? '').split(/[.-]/).map(Number);
    expect(major * 100 + minor).toBeGreaterThanOrEqual(210);
  });

  it('runs each compiled entry point that exists in the sources', () => {
    for (const [name, s] of services.filter(([, s]) => isBuilt(s))) {
      const source = entryOf(name, s)
        .replace(/^dist\//, '')
        .replace(/\.js$/, '.ts');
      expect(existsSync(path.join(ROOT, source)), `${name}: ${source}`).toBe(true);
    }
  });

  it('sets only variables each app reads, with values its own config loader accepts', async () => {
    for (const [name, s] of services.filter(([, s]) => isBuilt(s))) {
      const { read } = await configOf(name, s);
      const unread = Object.keys(serviceEnv(s)).filter((key) => !read.has(key));
      expect(unread, `${name} sets variables ${entryOf(name, s)} never reads`).toEqual([]);
    }
  });

  it('publishes each port once, on the port its service listens on', async () => {
    const hostPorts = services.flatMap(([, s]) => (s.ports ?? []).map((p) => parsePort(p).host));
    expect(hostPorts.length).toBe(new Set(hostPorts).size);
    for (const [name, s] of services) {
      const published = (s.ports ?? []).map((p) => parsePort(p).container);
      if (isBuilt(s)) {
        const entry = ENTRY_POINTS[entryOf(name, s)]!;
        if (!entry.portVariable) {
          expect(published, `${name} is a one-shot job`).toEqual([]);
          continue;
        }
        const { config } = await configOf(name, s);
        const { port, host } = config as { port: number; host: string };
        expect(published, name).toEqual([port]);
        expect(host, `${name} must listen on every interface inside its container`).toBe('0.0.0.0');
      } else {
        expect(published, name).toEqual([...INFRA[imageName(s.image!)]!.ports]);
      }
    }
    const conf = natsServerConf();
    expect([conf.port, conf.httpPort]).toEqual([...INFRA.nats!.ports]);
  });

  it('gives every long-running service a health check a tool of its image can run', async () => {
    for (const [name, s] of services.filter(([, s]) => !isOneShot(s))) {
      if (!isBuilt(s)) {
        const probe = INFRA[imageName(s.image!)]!.probe;
        if (probe === undefined) {
          expect(s.healthcheck, `${name}: its image cannot run a health check`).toBeUndefined();
          continue;
        }
        expect(healthCommand(name, s).slice(0, 2), name).toEqual(['CMD', probe]);
        continue;
      }
      // node:24-slim has neither curl nor wget: the apps are probed with Node's own fetch, on the
      // port variable the app itself listens on, at its readiness endpoint.
      const entry = ENTRY_POINTS[entryOf(name, s)]!;
      const [kind, tool, flag, script = ''] = healthCommand(name, s);
      expect([kind, tool, flag], name).toEqual(['CMD', 'node', '-e']);
      expect(script, name).toContain(`process.env.${entry.portVariable} + '/health/ready'`);
      expect(serviceEnv(s)[entry.portVariable!], `${name} sets ${entry.portVariable}`).toBeDefined();
    }
  });

  it("the apps' health checks pass on a ready app and fail on a 503 or on nothing listening", async () => {
    const scripts = new Map<string, string>();
    for (const [name, s] of services.filter(([, s]) => isBuilt(s) && !isOneShot(s))) {
      scripts.set(ENTRY_POINTS[entryOf(name, s)]!.portVariable!, healthCommand(name, s)[3]!);
    }
    let status = 200;
    const server = createHttpServer((req, res) => {
      res.statusCode = req.url === '/health/ready' ? status : 404;
      res.end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    try {
      for (const [variable, script] of scripts) {
        status = 200;
        expect(await exitCode(runNode(['-e', script], { [variable]: String(port) })), variable).toBe(0);
        status = 503;
        expect(await exitCode(runNode(['-e', script], { [variable]: String(port) })), variable).toBe(1);
      }
    } finally {
      await new Promise((done) => server.close(done));
    }
    const closed = await freeLoopbackPort();
    for (const [variable, script] of scripts) {
      expect(await exitCode(runNode(['-e', script], { [variable]: String(closed) })), variable).toBe(1);
    }
  });

  it('spanner-migrate waits for the emulator to accept connections, then runs the migration', async () => {
    const s = compose.services['spanner-migrate']!;
    const [tool, ...args] = commandOf(s);
    expect(tool).toBe('node');
    // The same script, in a folder whose dist/ holds a stand-in for the migration entry.
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-compose-'));
    const port = await freeLoopbackPort();
    let server: Server | undefined;
    try {
      const entry = path.join(dir, entryOf('spanner-migrate', s));
      mkdirSync(path.dirname(entry), { recursive: true });
      writeFileSync(entry, "console.log('migrate ran against ' + process.env.SPANNER_EMULATOR_HOST);\n");
      const child = runNode(args, { SPANNER_EMULATOR_HOST: `127.0.0.1:${port}` }, dir);
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += String(chunk);
      });
      await new Promise((done) => setTimeout(done, 1500));
      expect(out, 'nothing runs before the emulator listens').toBe('');
      server = createTcpServer((socket) => socket.end());
      await new Promise<void>((done) => server!.listen(port, '127.0.0.1', done));
      expect(await exitCode(child)).toBe(0);
      expect(out).toBe(`migrate ran against 127.0.0.1:${port}\n`);
    } finally {
      server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(s.depends_on?.spanner?.condition).toBe('service_started');
  });

  it('starts nothing before what it needs: jobs complete, stores are healthy', () => {
    const valid = ['service_started', 'service_healthy', 'service_completed_successfully'];
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} depends on unknown service ${dep}`).toBeDefined();
        expect(valid, `${name} → ${dep}`).toContain(condition);
        if (condition === 'service_healthy')
          expect(target!.healthcheck, `${dep} has a health check`).toBeDefined();
        if (condition === 'service_completed_successfully')
          expect(isOneShot(target!), `${dep} is a job`).toBe(true);
        if (condition === 'service_started') {
          expect(
            target!.healthcheck,
            `${name} waits only for ${dep} to start though it has a health check`,
          ).toBe(undefined);
        }
      }
    }
    // Every host a service's variables name is a service it starts after.
    for (const [name, s] of services) {
      for (const value of Object.values(serviceEnv(s))) {
        const host =
          /^[a-z]+:\/\/(?:[^@/]*@)?([^:/]+)/.exec(value)?.[1] ?? /^([a-z][\w-]*):\d+$/.exec(value)?.[1];
        if (host === undefined || !(host in compose.services)) continue;
        expect([...dependencyClosure(name)], `${name} reaches ${host}`).toContain(host);
      }
    }
  });

  it('points every app at the compose stores, with the same settings wherever a store is shared', async () => {
    const nats = natsServerConf();
    const natsUrls = [
      ...(await configsOf<IngestConfig>('dist/apps/ingest/src/main.js')).map(([, , c]) => c.natsUrl),
      ...(await configsOf<WriterConfig>('dist/apps/writer/src/main.js')).map(([, , c]) => c.natsUrl),
      ...(await configsOf<AggregatorConfig>('dist/apps/aggregator/src/main.js')).map(([, , c]) => c.natsUrl),
      ...services
        .filter(([name, s]) => isBuilt(s) && entryOf(name, s) === 'dist/nats/apply.js')
        .map(([, s]) => serviceEnv(s).NATS_URL || DEFAULT_NATS_URL),
    ];
    expect(new Set(natsUrls)).toEqual(new Set([`nats://nats:${nats.port}`]));

    const pg = serviceEnv(compose.services.postgres!);
    const databaseUrls = [
      ...(await configsOf<{ url: string }>('dist/drizzle/migrate.js')).map(([, , c]) => c.url),
      ...(await configsOf<QueryConfig>('dist/apps/query/src/main.js')).map(([, , c]) => c.databaseUrl),
      ...(await configsOf<WriterConfig>('dist/apps/writer/src/main.js'))
        .filter(([, , c]) => c.sinks.includes('postgres'))
        .map(([, , c]) => c.postgres.url),
    ];
    expect(new Set(databaseUrls)).toEqual(new Set([`postgres://postgres@postgres:5432/${pg.POSTGRES_DB}`]));

    const ch = serviceEnv(compose.services.clickhouse!);
    const clickhouse = [
      ...(await configsOf('dist/libs/clickhouse/bin/migrate.js')).map(([, , c]) => c),
      ...(await configsOf<AggregatorConfig>('dist/apps/aggregator/src/main.js')).map(
        ([, , c]) => c.clickhouse,
      ),
    ];
    expect(clickhouse.length).toBeGreaterThanOrEqual(2);
    for (const c of clickhouse) {
      // The image leaves chdb's engine out (Dockerfile, CHDB=omit): only the server mode can run.
      expect(c).toMatchObject({
        mode: 'server',
        url: `http://clickhouse:${INFRA['clickhouse/clickhouse-server']!.ports[0]}`,
        username: ch.CLICKHOUSE_USER,
        password: ch.CLICKHOUSE_PASSWORD,
        database: ch.CLICKHOUSE_DB,
      });
    }

    const spannerOf = (c: {
      projectId: string;
      instanceId: string;
      databaseId: string;
      emulatorHost?: string;
    }) => [c.projectId, c.instanceId, c.databaseId, c.emulatorHost].join('/');
    const spanner = [
      ...(await configsOf<ReturnType<typeof spannerConfigFromEnv>>('dist/libs/spanner/bin/migrate.js')).map(
        ([, , c]) => spannerOf(c),
      ),
      ...(await configsOf<WriterConfig>('dist/apps/writer/src/main.js'))
        .filter(([, , c]) => c.sinks.includes('spanner'))
        .map(([name, , c]) => {
          expect(c.spanner, `${name} runs the Spanner sink, so Spanner must be configured`).toBeDefined();
          return spannerOf(c.spanner!);
        }),
    ];
    expect(new Set(spanner)).toEqual(
      new Set([
        `tally-local/tally/tally/spanner:${INFRA['gcr.io/cloud-spanner-emulator/emulator']!.ports[0]}`,
      ]),
    );

    const keys = [
      ...(await configsOf<IngestConfig>('dist/apps/ingest/src/main.js')).map(([, , c]) => c.apiKeys),
      ...(await configsOf<QueryConfig>('dist/apps/query/src/main.js')).map(([, , c]) => c.apiKeys),
      ...(await configsOf<AggregatorConfig>('dist/apps/aggregator/src/main.js')).map(([, , c]) => c.apiKeys),
    ];
    for (const k of keys) expect(k, 'auth stays on, with the keys the host gave').toEqual(keys[0]);
    expect(keys[0]?.size).toBe(2);
  });

  it('runs a process for every durable consumer in nats/definitions, and one only', async () => {
    const definitions = await loadDefinitions({ dir: findDefinitionsDir(ROOT), env: {} });
    const served: string[] = [
      ...(await configsOf<WriterConfig>('dist/apps/writer/src/main.js')).flatMap(([, , c]) =>
        c.sinks.map((sink) => (sink === 'postgres' ? c.postgres.consumer : c.spanner!.consumer)),
      ),
      ...(await configsOf<AggregatorConfig>('dist/apps/aggregator/src/main.js')).map(([, , c]) => c.consumer),
    ];
    expect(served.sort()).toEqual(definitions.consumers.map((c) => c.config.durable_name).sort());
  });

  it('mounts files and folders that exist, and declares every named volume', () => {
    for (const [name, s] of services) {
      for (const v of (s.volumes ?? []).map(parseVolume)) {
        if (v.bind) expect(existsSync(path.join(ROOT, v.source)), `${name}: ${v.source}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${v.source}`).toContain(v.source);
      }
    }
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile();
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const runs = (stage: typeof build) =>
    stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const workdir = (stage: typeof build) =>
    stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args;

  it('builds from the lock file in one stage and runs as a non-root user in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      // package.json asks for Node >= 24.
      expect(Number(/^node:(\d+)/.exec(stage.from)?.[1])).toBeGreaterThanOrEqual(24);
    }
    const order = build.instructions.map((i) => `${i.keyword} ${i.args}`);
    const lockCopy = order.findIndex((i) => /^COPY .*package-lock\.json/.test(i));
    const ci = order.findIndex((i) => /^RUN npm ci\b/.test(i));
    expect(lockCopy).toBeGreaterThanOrEqual(0);
    expect(ci, 'npm ci right after the lock file, before the sources').toBeGreaterThan(lockCopy);
    expect(
      order.some((i) => /^RUN npm install\b/.test(i)),
      'npm ci, never npm install',
    ).toBe(false);
    expect(runs(build).join(' && ')).toMatch(/npm run build\b.*npm prune --omit=dev/);
    const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user, 'the runtime stage drops root').toBeDefined();
    expect(['root', '0'], 'the runtime stage drops root').not.toContain(user?.split(':')[0]);
    const copied = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const needed of ['node_modules', 'dist', 'package.json']) {
      expect(
        copied.some((c) => c.startsWith(`--from=${build.name} /app/${needed} `)),
        needed,
      ).toBe(true);
    }
    expect(
      runs(runtime).some((r) => /npm (ci|install)\b/.test(r)),
      'nothing is installed at run time',
    ).toBe(false);
  });

  it('leaves chdb out of the image by default: every ClickHouse user in compose runs on the server', async () => {
    expect(runtime.instructions).toContainEqual({ keyword: 'ARG', args: 'CHDB=omit' });
    expect(runs(runtime).join('\n')).toMatch(/"\$CHDB" = "omit" \]; then rm -rf node_modules\/@chdb/);
    for (const [name, , c] of await configsOf<AggregatorConfig>('dist/apps/aggregator/src/main.js')) {
      expect(c.clickhouse?.mode, `${name} would need chdb`).not.toBe('embedded');
    }
  });

  /**
   * Modules the compose services run (sources() below) that read files at run time, and the
   * folders they read.
   * A module that starts reading files fails the next test until it is listed here and its folder
   * is copied into the image.
   */
  const RUNTIME_READERS: Readonly<Record<string, (() => string) | 'no image folder'>> = {
    'libs/nats/src/definitions.ts': () => findDefinitionsDir(ROOT),
    'libs/postgres/src/migrations.ts': () => findMigrationsDir(ROOT),
    'libs/spanner/src/migrations.ts': () => findSpannerDdlDir(ROOT),
    'libs/clickhouse/src/migrations.ts': () => findClickHouseMigrationsDir(ROOT),
    'apps/aggregator/src/reports/report-catalog.ts': 'no image folder', // its findUp() literal is checked below
    'libs/common/src/sql/sql-files.ts': 'no image folder', // findUp() and loadSqlFiles(): reads what its caller names
    'libs/clickhouse/src/clickhouse.client.ts': 'no image folder', // creates chdb's data folder (/app/data, writable)
  };
  /**
   * Every source module the compose services run: the import graph from their entry points,
   * through relative imports and the @tally/* aliases (npm packages are not followed).
   */
  function sources(): string[] {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, spec = ''] of text.matchAll(/(?:\bfrom|\bimport\(?)\s*'([^']+)'/g)) {
        const alias = /^@tally\/([\w-]+)$/.exec(spec);
        if (alias) visit(`libs/${alias[1]}/src/index.ts`);
        else if (spec.startsWith('.')) {
          const target = path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, '');
          visit(existsSync(path.join(ROOT, `${target}.ts`)) ? `${target}.ts` : `${target}/index.ts`);
        }
      }
    };
    for (const [name, s] of services.filter(([, s]) => isBuilt(s))) {
      visit(
        entryOf(name, s)
          .replace(/^dist\//, '')
          .replace(/\.js$/, '.ts'),
      );
    }
    return [...seen];
  }

  /** Folders named by findUp('a/b', ...) or findUp(path.join('a', 'b'), ...) in `text`. */
  function findUpFolders(file: string, text: string): string[] {
    return [...text.matchAll(/\bfindUp\(\s*(path\.join\([^)]*\)|'[^']*'|[^,)]+)/g)]
      .filter((m) => !/^\s*relative\b/.test(m[1]!)) // the definition of findUp itself
      .map((m) => {
        const literals = [...m[1]!.matchAll(/'([^']+)'/g)].map((l) => l[1]!);
        if (literals.length === 0)
          throw new Error(`${file}: findUp(${m[1]}) names no folder this test can read`);
        return literals.join('/');
      });
  }

  it('knows every module that reads files at run time', () => {
    const readers = sources().filter((file) =>
      /from 'node:fs(\/promises)?'|\bfindUp\(/.test(readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(readers.sort()).toEqual(Object.keys(RUNTIME_READERS).sort());
  });

  it('copies every folder the code reads at run time into the runtime stage', () => {
    const folders = new Set<string>();
    for (const reader of Object.values(RUNTIME_READERS)) {
      if (typeof reader === 'function') folders.add(path.relative(ROOT, reader()));
    }
    for (const file of sources()) {
      for (const folder of findUpFolders(file, readFileSync(path.join(ROOT, file), 'utf8')))
        folders.add(folder);
    }
    expect([...folders]).toEqual(
      expect.arrayContaining([
        'nats/definitions',
        'drizzle',
        'libs/spanner/ddl',
        'clickhouse/migrations',
        'clickhouse/queries',
      ]),
    );
    const buildDir = workdir(build);
    const runDir = workdir(runtime);
    const copies = runtime.instructions
      .filter((i) => i.keyword === 'COPY' && i.args.startsWith(`--from=${build.name} `))
      .map((i) => {
        const [, from = '', to = ''] = i.args.split(/\s+/);
        return {
          from: path.posix.relative(buildDir!, from),
          to: path.posix.relative(runDir!, path.posix.resolve(runDir!, to)),
        };
      });
    for (const folder of folders) {
      const copy = copies.find((c) => folder === c.to || folder.startsWith(`${c.to}/`));
      expect(copy, `${folder} is copied into the runtime stage`).toBeDefined();
      expect(copy!.from, `${folder} keeps its place relative to WORKDIR`).toBe(copy!.to);
    }
  });

  it('sends the sources and the lock file to the build, and leaves host artefacts out (.dockerignore)', () => {
    const patterns = readText('.dockerignore').split(/\r?\n/);
    for (const out of ['node_modules', 'dist', 'data', '.git', 'node_modules/@chdb/lib-linux-x64-gnu']) {
      expect(dockerIgnored(patterns, out), `${out} stays out of the context`).toBe(true);
    }
    // What `npm run build` compiles (swc <folders> ... --config-file <file>) and what npm ci reads.
    const script = (JSON.parse(readText('package.json')) as { scripts: Record<string, string> }).scripts
      .build!;
    const compiled = /^swc\s+((?:[\w-]+\s+)+)-d\s/.exec(script)?.[1]?.trim().split(/\s+/) ?? [];
    expect(compiled.length).toBeGreaterThan(0);
    const configFile = /--config-file\s+(\S+)/.exec(script)?.[1];
    const inputs = [...compiled, configFile!, 'package.json', 'package-lock.json', 'tsconfig.json'];
    for (const input of inputs) {
      expect(existsSync(path.join(ROOT, input)), input).toBe(true);
      expect(dockerIgnored(patterns, input), `${input} is needed by the build`).toBe(false);
    }
    for (const folder of [
      'nats/definitions',
      'drizzle/meta/_journal.json',
      'libs/spanner/ddl',
      'clickhouse/queries',
    ]) {
      expect(dockerIgnored(patterns, folder), folder).toBe(false);
    }
  });
});

describe('Grafana provisioning (clickhouse/grafana)', () => {
  const grafana = compose.services.grafana!;
  const [datasource, ...others] = provisionedDataSources();
  const biReader = readText('clickhouse/bi-reader.sql');
  const user = /CREATE USER IF NOT EXISTS (\w+) IDENTIFIED WITH \w+ BY '([^']*)'/.exec(biReader);
  const grant = /GRANT SELECT ON (\w+)\.\* TO (\w+)/.exec(biReader);

  it('connects to the compose ClickHouse as the read-only user bi-reader.sql creates', () => {
    expect(others).toEqual([]);
    expect(datasource).toBeDefined();
    const ch = serviceEnv(compose.services.clickhouse!);
    expect(datasource!.type).toBe('grafana-clickhouse-datasource');
    expect(datasource!.jsonData).toMatchObject({
      host: 'clickhouse',
      port: INFRA['clickhouse/clickhouse-server']!.ports[0],
      protocol: 'http',
      username: user?.[1],
      defaultDatabase: ch.CLICKHOUSE_DB,
    });
    expect(datasource!.secureJsonData?.password, 'the password bi-reader.sql sets').toBe(user?.[2]);
    expect([grant?.[1], grant?.[2]]).toEqual([ch.CLICKHOUSE_DB, user?.[1]]);
    expect(/readonly\s*=\s*1/.test(biReader)).toBe(true);
    // The plugin of that type is installed before Grafana serves.
    const plugins = serviceEnv(grafana)
      .GF_PLUGINS_PREINSTALL_SYNC?.split(',')
      .map((p) => p.split('@')[0]);
    expect(plugins).toContain(datasource!.type);
  });

  it("lets bi_reader run Grafana's queries while staying read-only, set up after the user exists", () => {
    const alter = readText(`${GRAFANA_DIR}/bi-reader-grafana.sql`).replace(/--.*$/gm, '');
    expect(alter).toMatch(
      new RegExp(`ALTER USER ${user?.[1]} SETTINGS readonly = 1, max_execution_time CHANGEABLE_IN_READONLY;`),
    );
    const inits = (compose.services.clickhouse!.volumes ?? [])
      .map(parseVolume)
      .filter((v) => v.target.startsWith('/docker-entrypoint-initdb.d/'))
      .sort((a, b) => (a.target < b.target ? -1 : 1))
      .map((v) => v.source);
    expect(inits).toEqual(['./clickhouse/bi-reader.sql', `./${GRAFANA_DIR}/bi-reader-grafana.sql`]);
  });

  it('mounts the provisioning where Grafana reads it and the dashboards where the provider looks', () => {
    const mounts = new Map((grafana.volumes ?? []).map(parseVolume).map((v) => [v.target, v.source]));
    expect(mounts.get('/etc/grafana/provisioning/datasources')).toBe(
      `./${GRAFANA_DIR}/provisioning/datasources`,
    );
    expect(mounts.get('/etc/grafana/provisioning/dashboards')).toBe(
      `./${GRAFANA_DIR}/provisioning/dashboards`,
    );
    const providers = dashboardProviders();
    expect(providers.length).toBeGreaterThan(0);
    for (const provider of providers) {
      expect(provider.type).toBe('file');
      expect(mounts.get(provider.options.path), provider.options.path).toBe(`./${GRAFANA_DIR}/dashboards`);
    }
    const home = serviceEnv(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    const [dir, file] = [path.posix.dirname(home), path.posix.basename(home)];
    expect(mounts.get(dir)).toBe(`./${GRAFANA_DIR}/dashboards`);
    expect(dashboards().has(file), home).toBe(true);
  });

  it('reads only the de-duplicated views clickhouse/migrations create, through the provisioned data source', () => {
    const relations = clickHouseRelations();
    const all = [...dashboards()].flatMap(([file, d]) => dashboardQueries(file, d));
    expect(all.length).toBeGreaterThanOrEqual(5);
    const read = new Set<string>();
    for (const q of all) {
      expect(q.datasource, q.source).toEqual({ type: datasource!.type, uid: datasource!.uid });
      const tables = tablesReadBy(q.sql);
      expect(tables.length, `${q.source} reads a table`).toBeGreaterThan(0);
      for (const t of tables) {
        // Unqualified: the data source's defaultDatabase decides, as CLICKHOUSE_DATABASE does for the app.
        expect(relations.get(t), `${q.source}: ${t} is a view of clickhouse/migrations`).toBe('view');
        expect(t, `${q.source}: replays collapse only in the _final views`).toMatch(/_final$/);
        read.add(t);
      }
    }
    // Both the raw lines and the per-minute rollup are on the dashboard.
    expect([...read].sort()).toEqual(['sale_lines_final', 'sales_minute_final']);
  });
});

// --- child processes -------------------------------------------------------------------------

function runNode(args: readonly string[], env: Record<string, string>, cwd = ROOT): ChildProcess {
  return spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  // 'close', not 'exit': the child's output is complete by then.
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

// Keep the interpolation rules honest: this is what lets the file say `$$` for a literal dollar.
describe('compose variable substitution (as docker compose does it)', () => {
  it('fills defaults, refuses required variables and unset ones, and unescapes $$', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's syntax, not a template
    expect(interpolate('${A:-x} ${B-y} $$HOME', { B: '' })).toBe('x  $HOME');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's syntax, not a template
    expect(() => interpolate('${A:?give A}', { A: '' })).toThrow(/give A/);
    expect(() => interpolate('$A', {})).toThrow(/A is not set/);
  });
});
