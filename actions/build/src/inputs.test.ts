import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getInputs } from './inputs.js';

let workspace: string;

function setInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs)) vi.stubEnv(`INPUT_${name.toUpperCase()}`, value);
}

beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), 'berth-build-inputs-'));
  writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
  vi.stubEnv('GITHUB_WORKSPACE', workspace);
  setInputs({ image: 'ghcr.io/acme/api' });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('getInputs refuses values that would become options or cache settings of their own', () => {
  it.each([
    ['cache-scope', 'x,url=https://evil.test/', /^Input "cache-scope": .* may only hold letters/],
    ['cache-scope', 'a=b', /^Input "cache-scope": /],
    [
      'cache-ref',
      'reg.test/cache:x,url=https://evil.test/',
      /^Input "cache-ref": .* is not an image reference/,
    ],
    ['cache-ref', 'evil.test,push=true/cache:x', /^Input "cache-ref": /],
    ['cache-dir', 'dir,dest=/tmp/elsewhere', /^Input "cache-dir": .* has a ","/],
    ['cache-dir', 'a=b', /^Input "cache-dir": /],
    ['image', '-evil.test/api', /^Input "image": /],
    ['image', 'evil-.test/api', /^Input "image": /],
    ['build-args', '--push=true', /^Input "build-args": line 1 is not KEY=VALUE/],
    ['labels', '-x=1', /^Input "labels": line 1 is not KEY=VALUE/],
    ['platforms', '--push', /^Input "platforms": "--push" is not a platform/],
  ])('%s %j', (name, value, message) => {
    setInputs({ [name]: value });
    expect(() => getInputs()).toThrow(message);
  });

  it('accepts ordinary values', () => {
    setInputs({
      'cache-scope': 'api-runtime_1.2',
      'cache-ref': 'localhost:5000/acme/api:buildcache',
      'cache-dir': '.cache/api',
      'build-args': 'VERSION=1\n_X=a=b',
      platforms: 'linux/amd64,linux/arm/v7',
    });
    expect(getInputs()).toMatchObject({
      'cache-scope': 'api-runtime_1.2',
      'cache-ref': 'localhost:5000/acme/api:buildcache',
      'cache-dir': join(workspace, '.cache/api'),
      platforms: ['linux/amd64', 'linux/arm/v7'],
    });
  });
});
