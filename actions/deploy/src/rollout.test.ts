import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ComposeService } from '../../../lib/tools/compose.js';
import {
  checkRollout,
  parseDrain,
  parseReload,
  parseServices,
  rolloutFile,
  stageRollout,
  type RolloutInputs,
} from './rollout.js';

const healthy: ComposeService = { healthcheck: { test: ['CMD', 'true'] } };
const services: Record<string, ComposeService> = {
  api: { ...healthy, ports: [{ target: 8080 }] },
  nginx: { ...healthy, ports: [{ target: 8443, published: '443' }] },
  db: {},
  fixed: { ...healthy, container_name: 'fixed' },
  hosty: { ...healthy, network_mode: 'host' },
  noneCheck: { healthcheck: { test: ['NONE'] } },
  off: { healthcheck: { test: ['CMD', 'true'], disable: true } },
};
const inputs = (over: Partial<RolloutInputs> = {}): RolloutInputs => ({
  'zero-downtime': ['api'],
  proxy: 'nginx',
  'proxy-reload': ['nginx', '-s', 'reload'],
  'drain-seconds': 10,
  ...over,
});

describe('rollout inputs', () => {
  it('splits the reload command like the hooks, without a shell', () => {
    expect(parseReload(`sh -c 'kill -HUP 1'`)).toEqual(['sh', '-c', 'kill -HUP 1']);
    expect(() => parseReload('  ')).toThrow(/^Input "proxy-reload": is empty/);
    expect(() => parseReload(`nginx 's`)).toThrow(/^Input "proxy-reload": unbalanced ' quote/);
  });

  it('reads the drain as whole seconds, 10 by default', () => {
    expect(parseDrain('')).toBe(10);
    expect(parseDrain('0')).toBe(0);
    expect(parseDrain(' 3 ')).toBe(3);
    expect(() => parseDrain('2.5')).toThrow(/^Input "drain-seconds": "2.5" is not a whole number/);
    expect(() => parseDrain('99999')).toThrow(/drain-seconds/);
  });

  it('takes service names, once each', () => {
    expect(parseServices('zero-downtime', ['api', 'worker', 'api'])).toEqual(['api', 'worker']);
    expect(() => parseServices('zero-downtime', ['api x'])).toThrow(
      /^Input "zero-downtime": "api x" is not a service name/,
    );
  });
});

describe('checkRollout', () => {
  it('accepts a healthy, unpublished service behind an existing proxy', () => {
    expect(checkRollout(inputs(), services, 'deploy')).toBe(true);
  });

  it('does nothing without listed services, or outside mode deploy', () => {
    expect(checkRollout(inputs({ 'zero-downtime': [] }), services, 'deploy')).toBe(false);
    expect(checkRollout(inputs({ proxy: undefined }), {}, 'swarm')).toBe(false);
    expect(checkRollout(inputs(), {}, 'rollback')).toBe(false);
  });

  it.each([
    [{ proxy: undefined }, /^Input "proxy": is required with "zero-downtime"/],
    [
      { proxy: 'traefik' },
      /^Input "proxy": service "traefik" is not in the compose files \(services: api, nginx/,
    ],
    [{ 'zero-downtime': ['web'] }, /^Input "zero-downtime": service "web" is not in the compose files/],
    [{ 'zero-downtime': ['nginx'] }, /^Input "zero-downtime": service "nginx" is the proxy/],
    [{ 'zero-downtime': ['db'] }, /^Input "zero-downtime": service "db" has no healthcheck/],
    [{ 'zero-downtime': ['noneCheck'] }, /service "noneCheck" has no healthcheck/],
    [{ 'zero-downtime': ['off'] }, /service "off" has no healthcheck/],
    [{ 'zero-downtime': ['fixed'] }, /^Input "zero-downtime": service "fixed" sets container_name \(fixed\)/],
    [{ 'zero-downtime': ['hosty'] }, /service "hosty" uses network_mode host/],
  ])('refuses %j', (over, message) => {
    expect(() => checkRollout(inputs(over), services, 'deploy')).toThrow(message);
  });

  it('refuses a listed service with published ports, naming them', () => {
    const model = { ...services, web: { ...healthy, ports: [{ target: 80, published: '8080' }] } };
    expect(() => checkRollout(inputs({ 'zero-downtime': ['web'] }), model, 'deploy')).toThrow(
      /^Input "zero-downtime": service "web" publishes port 8080 on the host/,
    );
  });
});

describe('the staged .berth/rollout', () => {
  it('holds one key and value a line, the reload one argv word a line', () => {
    expect(rolloutFile(inputs({ 'proxy-reload': ['sh', '-c', 'kill -HUP 1'], 'drain-seconds': 2 }))).toBe(
      'service api\nproxy nginx\nreload sh\nreload -c\nreload kill -HUP 1\ndrain 2\n',
    );
  });

  it('is written only when services are listed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-rollout-'));
    expect(stageRollout(inputs({ 'zero-downtime': [] }), services, 'deploy', dir)).toBe(false);
    expect(stageRollout(inputs(), services, 'deploy', dir)).toBe(true);
    expect(readFileSync(join(dir, '.berth/rollout'), 'utf8')).toContain('service api\n');
  });
});
