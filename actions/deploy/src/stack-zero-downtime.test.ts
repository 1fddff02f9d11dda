import { describe, expect, it } from 'vitest';
import type { ComposeConfig } from '../../../lib/tools/compose.js';
import { toSwarmStack } from './stack.js';
import { MONITOR, zeroDowntimeServices } from './stack-zero-downtime.js';

const healthcheck = { test: ['CMD', '/app', 'healthcheck'], interval: '15s' };
const image = 'reg/app@sha256:' + 'a'.repeat(64);

describe('zeroDowntimeServices', () => {
  it('sets start-first, rollback on failure and a monitor on each listed service, leaving the others alone', () => {
    const warnings: string[] = [];
    const services = {
      api: { image, healthcheck, deploy: { resources: { limits: { memory: '256M' } } } },
      db: { image, healthcheck },
    };
    const out = zeroDowntimeServices(services, ['api'], warnings);
    expect(out.api).toEqual({
      image,
      healthcheck,
      deploy: {
        resources: { limits: { memory: '256M' } },
        update_config: { order: 'start-first', failure_action: 'rollback', monitor: MONITOR },
        rollback_config: { order: 'start-first' },
      },
    });
    expect(out.db).toBe(services.db);
    expect(services.api.deploy).not.toHaveProperty('update_config'); // the input is not changed
    expect(warnings).toEqual([]);
  });

  it("keeps the stack's own settings, and warns about those that defeat it", () => {
    const warnings: string[] = [];
    const services = {
      api: {
        image,
        healthcheck,
        deploy: {
          endpoint_mode: 'dnsrr',
          update_config: { order: 'stop-first', parallelism: 2, monitor: '30s' },
          rollback_config: { order: 'stop-first' },
        },
      },
      web: { image, healthcheck, deploy: { update_config: { failure_action: 'pause' } } },
    };
    const out = zeroDowntimeServices(services, ['api', 'web'], warnings) as Record<
      string,
      { deploy: Record<string, unknown> }
    >;
    expect(out.api!.deploy.update_config).toEqual({
      order: 'stop-first',
      failure_action: 'rollback',
      monitor: '30s',
      parallelism: 2,
    });
    expect(out.api!.deploy.rollback_config).toEqual({ order: 'stop-first' });
    // pause is no gap: the old task keeps running and the deploy rolls the release back.
    expect(out.web!.deploy.update_config).toEqual({
      order: 'start-first',
      failure_action: 'pause',
      monitor: MONITOR,
    });
    expect(warnings).toEqual([
      'service api: zero-downtime: update_config.order is stop-first: the old task stops before the new one is healthy',
      'service api: zero-downtime: rollback_config.order is stop-first: a rollback stops the new task before the old one is back',
      expect.stringMatching(
        /^service api: zero-downtime: endpoint_mode is dnsrr: .*re-resolve the name within 2 s/,
      ),
    ]);
  });

  it('refuses, naming the input, a service that is missing, has no health check or binds a host port', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /^Input "zero-downtime": mode swarm: service "api" is not in the compose files$/],
      [{ api: { image } }, /service "api" has no healthcheck in the compose files/],
      [{ api: { image, healthcheck: { test: ['NONE'] } } }, /service "api" has no healthcheck/],
      [
        { api: { image, healthcheck: { ...healthcheck, disable: true } } },
        /service "api" has no healthcheck/,
      ],
      [
        { api: { image, healthcheck, ports: [{ target: 8080, published: 80, mode: 'host' }] } },
        /service "api" publishes 80 in host mode: its new task cannot bind the port while the old one runs/,
      ],
    ];
    for (const [services, error] of cases)
      expect(() => zeroDowntimeServices(services, ['api'], []), JSON.stringify(services)).toThrow(error);
    // Through the routing mesh, a published port is no obstacle.
    const ingress = {
      api: { image, healthcheck, ports: [{ target: 8080, published: 80, mode: 'ingress' }] },
    };
    expect(() => zeroDowntimeServices(ingress, ['api'], [])).not.toThrow();
  });
});

describe('toSwarmStack with zero-downtime', () => {
  const config = (): ComposeConfig => ({
    name: 'shop',
    services: {
      api: {
        image,
        healthcheck,
        ports: [{ mode: 'ingress', host_ip: '', target: 8080, published: '8080', protocol: 'tcp' }],
      },
      db: { image },
    },
  });
  const opts = { project: 'shop', bundleDir: '/b', releaseDir: '/r', readFile: () => Buffer.from('') };

  it('writes the update order into the stack file for the listed services only', () => {
    const { stack } = toSwarmStack(config(), { ...opts, zeroDowntime: ['api'] });
    const services = stack.services as Record<string, { deploy?: Record<string, unknown> }>;
    expect(services.api!.deploy).toMatchObject({
      update_config: { order: 'start-first', failure_action: 'rollback' },
      rollback_config: { order: 'start-first' },
    });
    expect(services.db!.deploy).toBeUndefined();
    expect(toSwarmStack(config(), opts).stack.services).not.toHaveProperty('api.deploy.update_config');
  });

  it('refuses a listed service without a health check', () => {
    expect(() => toSwarmStack(config(), { ...opts, zeroDowntime: ['db'] })).toThrow(
      /^Input "zero-downtime": mode swarm: service "db" has no healthcheck/,
    );
  });
});
