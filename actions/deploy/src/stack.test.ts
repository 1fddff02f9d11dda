import { describe, expect, it } from 'vitest';
import type { ComposeConfig } from '../../../lib/tools/compose.js';
import { toSwarmStack } from './stack.js';

const files: Record<string, string> = { '/b/secrets/pw': 'one', '/b/secrets/pw2': 'two' };
const opts = {
  project: 'shop',
  bundleDir: '/b',
  releaseDir: '/opt/shop/releases/r1',
  readFile: (p: string) => Buffer.from(files[p] ?? ''),
};

// The shape `docker compose config --format json` writes (compose 2.26).
const config = (): ComposeConfig => ({
  name: 'shop',
  services: {
    web: {
      build: { context: '/b/web' },
      image: 'reg/web@sha256:' + 'a'.repeat(64),
      command: null,
      entrypoint: null,
      depends_on: { db: { condition: 'service_healthy', required: true } },
      restart: 'unless-stopped',
      deploy: { resources: { limits: { cpus: 0.5, memory: '134217728' } }, placement: {} },
      ports: [{ mode: 'ingress', host_ip: '0.0.0.0', target: 8443, published: '443', protocol: 'tcp' }],
      networks: { front: null, back: null },
      secrets: [{ source: 'pw', target: '/run/secrets/pw' }],
      security_opt: ['no-new-privileges:true'],
      tmpfs: ['/tmp', '/run/app:uid=10,mode=0700,size=64m'],
      shm_size: '128m',
      environment: { A: 'x $$HOME', EMPTY: '' },
      volumes: [{ type: 'volume', source: 'data', target: '/data', volume: {} }],
    },
  },
  networks: {
    front: { name: 'shop_front', ipam: {} },
    back: { name: 'shop_back', internal: true, ipam: {} },
  },
  volumes: { data: { name: 'shop_data' } },
  secrets: { pw: { name: 'shop_pw', file: '/b/secrets/pw' } },
  'x-hardening': { read_only: true },
});

describe('toSwarmStack', () => {
  it("rewrites compose's merged config into what docker stack deploy accepts", () => {
    const { stack, images } = toSwarmStack(config(), opts);
    const web = (stack.services as Record<string, Record<string, unknown>>).web!;
    expect(stack).not.toHaveProperty('name');
    expect(stack).not.toHaveProperty('x-hardening');
    expect(web).not.toHaveProperty('build');
    expect(web).not.toHaveProperty('depends_on');
    expect(web).not.toHaveProperty('command');
    expect(web).not.toHaveProperty('restart');
    expect(web).not.toHaveProperty('tmpfs');
    expect(web.deploy).toEqual({
      resources: { limits: { cpus: '0.5', memory: '134217728' } },
      restart_policy: { condition: 'any' },
    });
    expect(web.ports).toEqual([{ target: 8443, published: 443, protocol: 'tcp', mode: 'ingress' }]);
    expect(web.networks).toEqual(['front', 'back']);
    expect(web.secrets).toEqual([{ source: 'pw', target: 'pw' }]);
    expect(web.environment).toEqual({ A: 'x $$HOME', EMPTY: '' });
    expect(web.volumes).toEqual([
      { type: 'volume', source: 'data', target: '/data' },
      { type: 'tmpfs', target: '/tmp' },
      { type: 'tmpfs', target: '/run/app', tmpfs: { size: 64 * 1024 * 1024 } },
    ]);
    // Default names are left to docker stack's namespacing; explicit ones would be kept.
    expect(stack.networks).toEqual({ front: {}, back: { internal: true } });
    expect(stack.volumes).toEqual({ data: {} });
    expect(images).toEqual(['reg/web@sha256:' + 'a'.repeat(64)]);
  });

  it('names secrets by content, so a changed value is a new swarm object and an unchanged one is not', () => {
    const a = toSwarmStack(config(), opts);
    const again = toSwarmStack(config(), opts);
    const changed = config();
    changed.secrets!.pw!.file = '/b/secrets/pw2';
    const b = toSwarmStack(changed, opts);
    const name = (s: typeof a) => (s.stack.secrets as Record<string, { name: string }>).pw!.name;
    expect(name(a)).toMatch(/^shop_pw_[0-9a-f]{10}$/);
    expect(name(again)).toBe(name(a));
    expect(name(b)).not.toBe(name(a));
    expect(a.objects).toEqual([name(a)]);
    expect((a.stack.secrets as Record<string, { file: string }>).pw!.file).toBe('./secrets/pw');
    const long = toSwarmStack(config(), { ...opts, project: 'p'.repeat(80) });
    expect(name(long).length).toBeLessThanOrEqual(64);
  });

  it('says what swarm cannot do, per service, instead of dropping it in silence', () => {
    const { warnings } = toSwarmStack(config(), opts);
    expect(warnings).toEqual([
      'service web: swarm services take no security_opt (no-new-privileges:true); dropped',
      'service web: swarm ignores "shm_size"; dropped',
      "service web: swarm cannot set tmpfs uid=10,mode=0700 on /run/app: it gets the image directory's mode, owned by root",
    ]);
  });

  it.each([
    [
      'a port bound to one address',
      (c: ComposeConfig) => (c.services.web!.ports![0]!.host_ip = '127.0.0.1'),
      /^Input "compose-files": mode swarm: service "web" publishes 443 on 127\.0\.0\.1; swarm publishes on every interface/,
    ],
    [
      'a service without an image',
      (c: ComposeConfig) => delete c.services.web!.image,
      /service "web" has no image; swarm never builds/,
    ],
    [
      'a secret from the environment',
      (c: ComposeConfig) => (c.secrets!.pw = { environment: 'PW' }),
      /secrets "pw" is not a file/,
    ],
  ])('refuses %s, naming compose-files', (_, change, message) => {
    const c = config();
    change(c);
    expect(() => toSwarmStack(c, opts)).toThrow(message);
  });

  it('maps restart policies and compose-level limits', () => {
    const c = config();
    const web = c.services.web!;
    web.restart = 'on-failure:3';
    web.deploy = {};
    web.mem_limit = '256m';
    web.cpus = 1.5;
    const out = (toSwarmStack(c, opts).stack.services as Record<string, { deploy: unknown }>).web!;
    expect(out.deploy).toEqual({
      restart_policy: { condition: 'on-failure' },
      resources: { limits: { memory: '256m', cpus: '1.5' } },
    });
  });
});

describe('toSwarmStack: bind mounts', () => {
  it('mounts config files from the release directory on the host, data and host paths as they are', () => {
    const c = config();
    c.services.web!.volumes = [
      { type: 'bind', source: '/b/nginx/conf.d', target: '/etc/nginx/conf.d', read_only: true },
      { type: 'bind', source: '/opt/shop/shared/data', target: '/data' },
      { type: 'bind', source: '/proc', target: '/host/proc', read_only: true },
      { type: 'volume', source: 'data', target: '/v' },
    ];
    const { stack } = toSwarmStack(c, opts);
    const web = (stack.services as Record<string, { volumes: unknown[] }>).web!;
    expect(web.volumes.slice(0, 3)).toEqual([
      {
        type: 'bind',
        source: '/opt/shop/releases/r1/nginx/conf.d',
        target: '/etc/nginx/conf.d',
        read_only: true,
      },
      { type: 'bind', source: '/opt/shop/shared/data', target: '/data' },
      { type: 'bind', source: '/proc', target: '/host/proc', read_only: true },
    ]);
    expect(web.volumes[3]).toMatchObject({ type: 'volume', source: 'data' });
  });
});
