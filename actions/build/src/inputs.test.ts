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

describe('the supply-chain inputs', () => {
  const key =
    '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n';
  it.each([
    [{ push: 'yes' }, /^Input "push": "yes" is not one of/],
    [{ sbom: 'true' }, /^Input "sbom": attestations are stored with the pushed image/],
    [
      { push: 'true', 'sbom-generator': 'reg.test/gen:1' },
      /^Input "sbom-generator": is set but sbom is not true/,
    ],
    [{ push: 'true', provenance: 'full' }, /^Input "provenance": "full" is not one of/],
    [{ push: 'true', 'cosign-key': 'not a key' }, /^Input "cosign-key": is not a cosign private key/],
    [{ 'cosign-key': key }, /^Input "cosign-key": signing needs a pushed image/],
    [{ push: 'true', 'cosign-password': 'p' }, /^Input "cosign-password": is set but cosign-key is not/],
    [{ push: 'true', keyless: 'true', 'cosign-key': key }, /^Input "keyless": is true but cosign-key is set/],
    [
      { push: 'true', keyless: 'true', 'transparency-log': 'false' },
      /^Input "transparency-log": keyless signing needs/,
    ],
    [{ push: 'true', 'cosign-version': 'latest' }, /^Input "cosign-version": /],
    [{ builder: '--push' }, /^Input "builder": "--push" is not a buildx builder name/],
    [{ 'driver-opts': 'image=x,network=host"' }, /^Input "driver-opts": /],
    [
      { builder: 'mine', 'driver-opts': 'network=host' },
      /^Input "builder": an existing builder is used as it is/,
    ],
    [{ 'buildkitd-config': 'no/such.toml' }, /^Input "buildkitd-config": file .* does not exist/],
    [{ 'from-digest': 'sha256:abc' }, /^Input "from-digest": "sha256:abc" is not a digest/],
    [
      { 'from-digest': `sha256:${'a'.repeat(64)}` },
      /^Input "from-digest": tags and signs an image already pushed/,
    ],
  ])('%j', (inputs, message) => {
    setInputs(inputs);
    expect(() => getInputs()).toThrow(message);
  });

  it('defaults provenance to min, and to max for a public repository; none when nothing is pushed', () => {
    setInputs({ push: 'true' });
    expect(getInputs()).toMatchObject({ provenance: 'min', 'transparency-log': true, keyless: false });
    const event = join(workspace, 'event.json');
    writeFileSync(event, JSON.stringify({ repository: { private: false } }));
    vi.stubEnv('GITHUB_EVENT_PATH', event);
    expect(getInputs().provenance).toBe('max');
    setInputs({ push: 'false' });
    expect(getInputs().provenance).toBe('false');
  });

  it('checks nothing about a Dockerfile when it signs and tags an image pushed earlier', () => {
    setInputs({ push: 'true', 'from-digest': `sha256:${'b'.repeat(64)}`, file: 'no/Dockerfile' });
    expect(getInputs()).toMatchObject({ 'from-digest': `sha256:${'b'.repeat(64)}`, push: 'true' });
  });
});
