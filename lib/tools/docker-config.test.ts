import { readFileSync, statSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configWithLogin, privateDockerConfig } from './docker-config.js';

afterEach(() => vi.unstubAllEnvs());

const auth = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString('base64');

describe('configWithLogin', () => {
  it("adds the login to the runner's config, keeping its other logins and helpers", () => {
    const existing = JSON.stringify({
      auths: { 'ghcr.io': { auth: 'x' } },
      credHelpers: { 'gcr.io': 'gcloud', 'registry.example.com': 'pass' },
      credsStore: 'desktop',
    });
    const merged = JSON.parse(configWithLogin(existing, 'registry.example.com', 'u', 'p:w')) as Record<
      string,
      unknown
    >;
    expect(merged).toEqual({
      auths: { 'ghcr.io': { auth: 'x' }, 'registry.example.com': { auth: auth('u', 'p:w') } },
      credHelpers: { 'gcr.io': 'gcloud' },
      credsStore: 'desktop',
    });
  });

  it('starts from nothing when there is no config or it is not a JSON object', () => {
    for (const existing of ['', '[1]', '{broken', 'null'])
      expect(JSON.parse(configWithLogin(existing, 'r', 'u', 'p'))).toEqual({
        auths: { r: { auth: auth('u', 'p') } },
        credHelpers: {},
      });
  });
});

describe('privateDockerConfig', () => {
  it('writes a 0600 config.json in a 0700 directory, and removes it', () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-dc-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ auths: { a: { auth: 'b' } } }));
    vi.stubEnv('DOCKER_CONFIG', home);
    const c = privateDockerConfig('localhost:5000', 'u', 'secret', home);
    expect(statSync(c.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(c.dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(c.dir, 'config.json'), 'utf8'))).toMatchObject({
      auths: { a: { auth: 'b' }, 'localhost:5000': { auth: auth('u', 'secret') } },
    });
    c.remove();
    expect(() => statSync(c.dir)).toThrow();
  });
});
