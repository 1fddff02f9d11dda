import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditCompose } from './audit.js';
import { AUDIT_RULES } from './audit-rules.js';
import {
  AuditError,
  frontendNetworks,
  isDatabase,
  isLiteralSecret,
  parseComposeConfig,
  publishedOnAllInterfaces,
  type ComposeConfig,
  type ComposeService,
} from './compose-service.js';
import type { ImageFacts } from '../../../lib/tools/docker.js';
import { ComposeLocator, readComposeSources, type ComposeSource } from './compose-source.js';

const repo = join(import.meta.dirname, '../../..');
const fixtures = 'test/fixtures/compose-audit';
const merged = (name: string) => parseComposeConfig(readFileSync(join(repo, fixtures, name), 'utf8'), name);
const ALL_IDS = Object.values(AUDIT_RULES).map((r) => r.id);

describe('the example app passes every rule', () => {
  const variants = ['base', 'development', 'production', 'ubuntu'] as const;
  // Images that say the worst about themselves: the compose file must be what makes it pass.
  const rootImages: Record<string, ImageFacts> = Object.fromEntries(
    ['berth-example/db:dev', 'berth-example/api:dev', 'berth-example/nginx:dev'].map((i) => [
      i,
      { user: '', healthcheck: false },
    ]),
  );

  it.each(variants)('docker-compose.yml + %s', (variant) => {
    const files = ['example/docker-compose.yml'];
    if (variant !== 'base') files.push(`example/docker-compose.${variant}.yml`);
    const sources = readComposeSources(files, repo);
    const config = merged(`example.${variant}.merged.json`);
    expect(Object.keys(config.services).sort()).toEqual(['api', 'db', 'nginx']);
    expect(auditCompose(config, { sources })).toEqual([]);
    expect(auditCompose(config, { sources, images: rootImages })).toEqual([]);
  });

  it('the example db counts as a database, so C009 and C010 really looked at it', () => {
    const config = merged('example.ubuntu.merged.json');
    expect(isDatabase('db', config.services.db!)).toBe(true);
    expect(isDatabase('api', config.services.api!)).toBe(false);
    expect(frontendNetworks(config)).toEqual(new Set(['frontend']));
    // nginx is published on every interface, which is right for the service on the frontend network.
    expect(publishedOnAllInterfaces(config.services.nginx!)).toEqual(['80', '443']);
  });
});

describe('the bad stack trips every rule', () => {
  const sources = readComposeSources(
    [`${fixtures}/docker-compose.bad.yml`, `${fixtures}/docker-compose.bad.override.yml`],
    repo,
  );
  const images: Record<string, ImageFacts> = {
    'postgres:16': { user: '', healthcheck: false },
    'redis:7': { user: 'redis', healthcheck: false },
    'memcached:1.6': { user: 'memcache', healthcheck: false },
    'example.test/acme/web:1.0': { user: '', healthcheck: false },
  };
  const findings = auditCompose(merged('bad.merged.json'), {
    sources,
    images,
    docsUrl: 'https://example.test/berth/blob/v1/actions/scan/README.md#compose-audit',
  });
  const base = `${fixtures}/docker-compose.bad.yml`;
  const override = `${fixtures}/docker-compose.bad.override.yml`;

  it('fires each of the ten rule ids', () => {
    expect(new Set(findings.map((f) => f.id))).toEqual(new Set(ALL_IDS));
    expect(ALL_IDS).toEqual([
      'BERTH-C001',
      'BERTH-C002',
      'BERTH-C003',
      'BERTH-C004',
      'BERTH-C005',
      'BERTH-C006',
      'BERTH-C007',
      'BERTH-C008',
      'BERTH-C009',
      'BERTH-C010',
    ]);
  });

  it('names service, file and line for each finding, sorted by service then rule', () => {
    expect(findings.map((f) => `${f.service} ${f.id} ${f.file}:${f.line}`)).toEqual([
      `cache BERTH-C001 ${base}:18`,
      `cache BERTH-C002 ${base}:20`,
      `cache BERTH-C003 ${base}:19`,
      `cache BERTH-C005 ${base}:16`,
      `cache BERTH-C006 ${base}:23`,
      `cache BERTH-C007 ${base}:25`,
      `cache BERTH-C009 ${base}:26`,
      `cache BERTH-C010 ${base}:16`,
      `db BERTH-C001 ${base}:6`,
      `db BERTH-C002 ${base}:6`,
      `db BERTH-C003 ${base}:6`,
      `db BERTH-C004 ${base}:6`,
      `db BERTH-C005 ${base}:6`,
      `db BERTH-C006 ${base}:6`,
      `db BERTH-C007 ${base}:6`,
      // The override's value wins the merge, so the finding points there.
      `db BERTH-C008 ${override}:5`,
      `db BERTH-C009 ${base}:11`,
      `db BERTH-C010 ${base}:13`,
      `sessions BERTH-C009 ${base}:54`,
      `worker BERTH-C001 ${base}:31`,
      `worker BERTH-C002 ${base}:38`,
      `worker BERTH-C003 ${base}:29`,
      `worker BERTH-C004 ${base}:42`,
      `worker BERTH-C006 ${base}:29`,
      `worker BERTH-C007 ${base}:29`,
      `worker BERTH-C008 ${base}:33`,
      `worker BERTH-C009 ${override}:8`,
    ]);
  });

  it('the good service in the same stack has no finding', () => {
    expect(findings.filter((f) => f.service === 'web')).toEqual([]);
  });

  it('each finding carries its rule: severity, title, remediation, link', () => {
    const c008 = findings.find((f) => f.id === 'BERTH-C008')!;
    expect(c008).toMatchObject({
      kind: 'audit',
      severity: 'CRITICAL',
      class: 'compose',
      target: override,
      ruleTitle: 'No secrets as literal values in environment',
      remediation: AUDIT_RULES.envSecret.remediation,
      url: 'https://example.test/berth/blob/v1/actions/scan/README.md#berth-c008',
    });
    for (const f of findings) {
      const rule = Object.values(AUDIT_RULES).find((r) => r.id === f.id)!;
      expect(f.severity).toBe(rule.severity);
    }
  });

  it('messages say what is wrong, never the secret value', () => {
    const text = JSON.stringify(findings);
    expect(text).not.toMatch(/placeholder/);
    const messages = findings.map((f) => `${f.service} ${f.id}: ${f.title}`);
    expect(messages).toContain(
      'db BERTH-C008: Service db sets POSTGRES_PASSWORD to a literal value in environment (value not shown)',
    );
    expect(messages).toContain(
      'worker BERTH-C008: Service worker sets API_KEY to a literal value in environment (value not shown)',
    );
    expect(messages).toContain(
      'db BERTH-C001: Service db sets no user and image postgres:16 has no USER, so it runs as root',
    );
    expect(messages).toContain('cache BERTH-C001: Service cache runs as root (user: "root")');
    expect(messages).toContain('worker BERTH-C002: Service worker disables its health check');
    expect(messages).toContain('cache BERTH-C003: Service cache has no restart policy (restart: "no")');
    expect(messages).toContain('cache BERTH-C006: Service cache turns no-new-privileges off in security_opt');
    expect(messages).toContain('db BERTH-C009: Service db (a database) publishes 5432 on all interfaces');
    expect(messages).toContain(
      'worker BERTH-C009: Service worker (on no frontend network) publishes 8081 on all interfaces',
    );
    expect(messages).toContain(
      'sessions BERTH-C009: Service sessions (a database) uses network_mode: host, which exposes every port it listens on',
    );
    expect(messages).toContain(
      'cache BERTH-C010: Service cache (a database) is attached to network default, which is not internal: true',
    );
  });

  it('without the compose files, findings still come, with no file', () => {
    const bare = auditCompose(merged('bad.merged.json'), { images });
    expect(bare.map((f) => f.id)).toEqual(findings.map((f) => f.id));
    expect(bare.every((f) => f.file === undefined && f.target === 'compose')).toBe(true);
  });
});

describe('rules, one at a time', () => {
  const good: ComposeService = {
    image: 'example.test/app:1',
    user: '1000',
    healthcheck: { test: ['CMD', 'true'] },
    restart: 'always',
    deploy: { resources: { limits: { memory: '134217728', cpus: 0.5 } } },
    security_opt: ['no-new-privileges:true'],
    read_only: true,
    networks: { frontend: null },
  };
  const ids = (
    service: Partial<ComposeService>,
    images?: Record<string, ImageFacts>,
    extra: Partial<ComposeConfig> = {},
  ) =>
    auditCompose(
      { services: { app: { ...good, ...service } }, networks: { frontend: {}, ...extra.networks } },
      { images },
    ).map((f) => f.id);

  it('a good service passes', () => {
    expect(ids({})).toEqual([]);
  });

  it('C001: the compose user wins; without one the image decides; unknown is a finding', () => {
    expect(ids({ user: '0' })).toEqual(['BERTH-C001']);
    expect(ids({ user: 'root:root' })).toEqual(['BERTH-C001']);
    expect(ids({ user: undefined }, { 'example.test/app:1': { user: 'app', healthcheck: false } })).toEqual(
      [],
    );
    expect(ids({ user: undefined }, { 'example.test/app:1': { user: '0:0', healthcheck: false } })).toEqual([
      'BERTH-C001',
    ]);
    const unknown = auditCompose({
      services: { app: { ...good, user: undefined } },
      networks: { frontend: {} },
    });
    expect(unknown[0]!.title).toBe(
      'Service app sets no user and the user of image example.test/app:1 is not known, so it may run as root',
    );
  });

  it('C002: compose or image health check; disable or NONE fails whatever the image has', () => {
    const withHealth = { 'example.test/app:1': { user: 'app', healthcheck: true } };
    expect(ids({ healthcheck: undefined }, withHealth)).toEqual([]);
    expect(ids({ healthcheck: undefined })).toEqual(['BERTH-C002']);
    expect(ids({ healthcheck: { disable: true } }, withHealth)).toEqual(['BERTH-C002']);
    expect(ids({ healthcheck: { test: 'NONE' } }, withHealth)).toEqual(['BERTH-C002']);
  });

  it('C003: restart or deploy.restart_policy, not "no" or condition none', () => {
    expect(ids({ restart: undefined })).toEqual(['BERTH-C003']);
    expect(ids({ restart: 'no' })).toEqual(['BERTH-C003']);
    expect(
      ids({ restart: undefined, deploy: { ...good.deploy, restart_policy: { condition: 'on-failure' } } }),
    ).toEqual([]);
    expect(ids({ restart: undefined, deploy: { ...good.deploy, restart_policy: {} } })).toEqual([]);
    expect(
      ids({ restart: undefined, deploy: { ...good.deploy, restart_policy: { condition: 'none' } } }),
    ).toEqual(['BERTH-C003']);
  });

  it('C004 and C005: deploy limits or mem_limit/cpus, and not zero', () => {
    expect(ids({ deploy: undefined })).toEqual(['BERTH-C004', 'BERTH-C005']);
    expect(ids({ deploy: undefined, mem_limit: '268435456', cpus: '0.5' })).toEqual([]);
    expect(ids({ deploy: { resources: { limits: { memory: '0', cpus: 0 } } } })).toEqual([
      'BERTH-C004',
      'BERTH-C005',
    ]);
  });

  it('C006: no-new-privileges in any spelling that turns it on', () => {
    expect(ids({ security_opt: ['no-new-privileges'] })).toEqual([]);
    expect(ids({ security_opt: ['no-new-privileges=true'] })).toEqual([]);
    expect(ids({ security_opt: ['no-new-privileges=false'] })).toEqual(['BERTH-C006']);
    expect(ids({ security_opt: ['seccomp=unconfined'] })).toEqual(['BERTH-C006']);
    expect(ids({ security_opt: undefined })).toEqual(['BERTH-C006']);
  });

  it('C007: read_only must be true', () => {
    expect(ids({ read_only: undefined })).toEqual(['BERTH-C007']);
    expect(AUDIT_RULES.readOnly.severity).toBe('MEDIUM');
  });

  it('C008: literal secret-like values, in map or list form', () => {
    expect(ids({ environment: { DB_PASSWORD: 'x' } })).toEqual(['BERTH-C008']);
    expect(ids({ environment: ['STRIPE_API_KEY=sk', 'JWT_SECRET=y'] })).toEqual(['BERTH-C008', 'BERTH-C008']);
    expect(ids({ environment: { DB_PASSWORD_FILE: '/run/secrets/db', TOKEN: null, SECRET: '' } })).toEqual(
      [],
    );
    const table: [string, string | undefined, boolean][] = [
      ['POSTGRES_PASSWORD', 'hunter2', true],
      ['GITHUB_TOKEN', 'ghp_x', true],
      ['PRIVATE_KEY', '-----BEGIN', true],
      ['APIKEY', 'k', true],
      ['app_secret', 'k', true],
      ['DB_PASSWORD_FILE', '/run/secrets/db', false],
      ['DB_PASSWORD', '/run/secrets/db_password', false],
      ['TOKEN_TTL', '3600', false],
      ['PASSWORD', undefined, false],
      ['LOG_LEVEL', 'debug', false],
    ];
    for (const [name, value, expected] of table) expect(isLiteralSecret(name, value), name).toBe(expected);
  });

  it('C009: databases and services on no frontend network may not listen on every interface', () => {
    expect(
      ids(
        {
          image: 'mysql:8',
          ports: [{ target: 3306, published: '3306', host_ip: '127.0.0.1' }],
          networks: { backend: null },
        },
        undefined,
        {
          networks: { backend: { internal: true } },
        },
      ),
    ).toEqual([]);
    expect(
      ids(
        {
          image: 'mariadb:11',
          ports: [{ target: 3306, published: '3306', host_ip: '::' }],
          networks: { backend: null },
        },
        undefined,
        {
          networks: { backend: { internal: true } },
        },
      ),
    ).toEqual(['BERTH-C009']);
    // On a frontend network, publishing is what it is for; on a backend one, it is not.
    expect(ids({ ports: [{ target: 80, published: '80' }] })).toEqual([]);
    expect(ids({ ports: [{ target: 80, published: '80' }], networks: { backend: null } })).toEqual([
      'BERTH-C009',
    ]);
    expect(
      publishedOnAllInterfaces({ ports: ['8080:80', '127.0.0.1:8443:443', '[::]:53:53/udp', '9000'] }),
    ).toEqual(['8080:80', '[::]:53:53/udp', '9000']);
  });

  it('C009: a stack without frontend-named networks is judged by the database rule alone', () => {
    const config: ComposeConfig = {
      services: { app: { ...good, networks: undefined, ports: [{ target: 80, published: '80' }] } },
    };
    expect(frontendNetworks(config)).toEqual(new Set(['default']));
    expect(auditCompose(config)).toEqual([]);
  });

  it('C010: every network of a database must be internal', () => {
    const db = { image: 'postgres:16', networks: { data: null, shared: null } };
    expect(
      ids(db, undefined, { networks: { data: { internal: true }, shared: { external: true } } }),
    ).toEqual(['BERTH-C010']);
    expect(ids({ image: 'redis:7', networks: undefined })).toEqual(['BERTH-C010']);
    const findings = auditCompose({
      services: { db: { ...good, ...db } },
      networks: { data: { internal: true }, shared: { external: true } },
    });
    expect(findings.map((f) => f.title)).toEqual([
      'Service db (a database) is attached to network shared, which is an external network, not declared internal here',
    ]);
  });

  it('isDatabase: by image, name or variables', () => {
    const is = (name: string, service: ComposeService) => isDatabase(name, service);
    expect(is('store', { image: 'docker.io/library/postgres:16-alpine' })).toBe(true);
    expect(is('store', { image: 'bitnami/mongodb:7' })).toBe(true);
    expect(is('store', { image: 'ghcr.io/acme/valkey:8' })).toBe(true);
    expect(is('db', { image: 'acme/custom:1' })).toBe(true);
    expect(is('orders-db', {})).toBe(true);
    expect(is('store', { environment: { MYSQL_DATABASE: 'x' } })).toBe(true);
    expect(is('api', { image: 'acme/api:1', environment: { DB_HOST: 'db' } })).toBe(false);
    expect(is('dashboard', { image: 'acme/dashboard' })).toBe(false);
  });
});

describe('parseComposeConfig', () => {
  it('accepts compose JSON as text or object and says when it is not that', () => {
    expect(parseComposeConfig('{"services": {"a": {}}}').services.a).toEqual({});
    expect(() => parseComposeConfig('{', 'config.json')).toThrow(/^config\.json: not valid JSON/);
    expect(() => parseComposeConfig({ version: '3' }, 'config.json')).toThrow(
      'config.json: no services; expected the output of docker compose config --format json',
    );
    expect(() => parseComposeConfig({ services: { a: [] } })).toThrow(AuditError);
  });
});

describe('ComposeLocator', () => {
  const sources: ComposeSource[] = [
    {
      path: 'docker-compose.yml',
      text: [
        'x-base: &base',
        '  restart: always',
        'services:',
        '  api:',
        '    <<: *base',
        '    environment:',
        '      - TOKEN=x',
        '  db:',
        '    image: postgres',
      ].join('\n'),
    },
    { path: 'override.yml', text: 'services:\n  api:\n    environment:\n      - TOKEN=y\n  web: {}\n' },
  ];
  const locator = new ComposeLocator(sources);

  it('finds a key through a merge key, in the anchor that sets it', () => {
    expect(locator.locate('api', ['restart'])).toEqual({ file: 'docker-compose.yml', line: 2 });
  });

  it('prefers the last file that sets a key, and finds list-form variables', () => {
    expect(locator.locate('api', ['environment', 'TOKEN'])).toEqual({ file: 'override.yml', line: 4 });
  });

  it('falls back to the first file that mentions the service', () => {
    expect(locator.locate('db', ['user'])).toEqual({ file: 'docker-compose.yml', line: 8 });
    expect(locator.locate('web')).toEqual({ file: 'override.yml', line: 5 });
    expect(locator.locate('ghost')).toEqual({ file: 'docker-compose.yml' });
  });

  it('readComposeSources names files relative to the root', () => {
    const [source] = readComposeSources([join(repo, 'example/docker-compose.yml')], repo);
    expect(source!.path).toBe('example/docker-compose.yml');
    expect(() => readComposeSources(['missing.yml'], repo)).toThrow(
      /cannot read the compose file missing\.yml/,
    );
  });
});
