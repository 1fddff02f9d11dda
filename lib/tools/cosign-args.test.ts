import { describe, expect, it } from 'vitest';
import {
  attestArgs,
  isLocalRegistry,
  pinnedRef,
  signArgs,
  verifyArgs,
  verifyAttestationArgs,
} from './cosign-args.js';

const digest = `sha256:${'ab'.repeat(32)}`;
const remote = `ghcr.io/acme/shop@${digest}`;
const local = `localhost:5000/acme/shop@${digest}`;

describe('isLocalRegistry', () => {
  it('is true for this machine only, with or without a port', () => {
    for (const r of [
      'localhost',
      'localhost:5000',
      '127.0.0.1',
      '127.0.0.1:5000',
      '127.1.2.3:80',
      '[::1]:5000',
    ])
      expect(isLocalRegistry(r), r).toBe(true);
    for (const r of [
      'ghcr.io',
      'docker.io',
      'localhost.evil.com',
      '127.0.0.1.nip.io',
      'registry:5000',
      '10.0.0.1:5000',
    ])
      expect(isLocalRegistry(r), r).toBe(false);
  });
});

describe('pinnedRef', () => {
  it('takes repo@sha256 references only', () => {
    expect(pinnedRef(remote)).toEqual({ ref: remote, registry: 'ghcr.io', digest });
    for (const bad of [
      'ghcr.io/acme/shop:1',
      `-ghcr.io/acme/shop@${digest}`,
      ` ${remote}`,
      `${remote}\n`,
      'x;rm -rf /',
    ])
      expect(() => pinnedRef(bad), bad).toThrow(/is not an image pinned by digest/);
  });
});

describe('sign and attest', () => {
  it('signs with a key file, the transparency log on by default, the image after --', () => {
    expect(signArgs(remote, { keyFile: '/t/cosign.key' }, true)).toEqual([
      'sign',
      '--key=/t/cosign.key',
      '--yes',
      '--',
      remote,
    ]);
  });

  it('signs keyless with no key flag at all (cosign takes the OIDC token from the environment)', () => {
    const args = signArgs(remote, { keyless: true }, true);
    expect(args).toEqual(['sign', '--yes', '--', remote]);
    expect(args.join(' ')).not.toMatch(/--key|identity-token|tlog-upload/);
  });

  it('keeps off the transparency log and reaches a local registry over plain HTTP when asked', () => {
    expect(signArgs(local, { keyFile: 'k' }, false)).toEqual([
      'sign',
      '--key=k',
      '--tlog-upload=false',
      '--allow-insecure-registry',
      '--allow-http-registry',
      '--yes',
      '--',
      local,
    ]);
  });

  it('attests a predicate file as the given type', () => {
    expect(attestArgs(remote, '/t/provenance.json', 'slsaprovenance', { keyFile: 'k' }, true)).toEqual([
      'attest',
      '--key=k',
      '--type=slsaprovenance',
      '--predicate=/t/provenance.json',
      '--yes',
      '--',
      remote,
    ]);
    expect(attestArgs(local, 'p.json', 'cyclonedx', { keyless: true }, false)).toEqual([
      'attest',
      '--type=cyclonedx',
      '--predicate=p.json',
      '--tlog-upload=false',
      '--allow-insecure-registry',
      '--allow-http-registry',
      '--yes',
      '--',
      local,
    ]);
  });

  it('refuses an unpinned image before building anything', () => {
    expect(() => signArgs('ghcr.io/acme/shop:latest', { keyFile: 'k' }, true)).toThrow(/pinned by digest/);
  });
});

describe('verify', () => {
  it('verifies against a public key, with the transparency log by default', () => {
    expect(verifyArgs(remote, { kind: 'key', keyFile: '/t/cosign.pub' }, true)).toEqual([
      'verify',
      '--key=/t/cosign.pub',
      '--',
      remote,
    ]);
  });

  it('skips the transparency log only when told, and allows plain HTTP for a local registry', () => {
    expect(verifyArgs(local, { kind: 'key', keyFile: 'p' }, false)).toEqual([
      'verify',
      '--key=p',
      '--insecure-ignore-tlog=true',
      '--allow-insecure-registry',
      '--allow-http-registry',
      '--',
      local,
    ]);
  });

  it('verifies keyless against an identity and issuer, each one argument whatever it holds', () => {
    const identity = `https://github.com/acme/shop/.github/workflows/build.yml@refs/heads/main"; rm -rf / '`;
    const args = verifyArgs(remote, { kind: 'keyless', identity, issuer: '--key=/etc/passwd' }, true);
    expect(args).toEqual([
      'verify',
      `--certificate-identity=${identity}`,
      '--certificate-oidc-issuer=--key=/etc/passwd',
      '--',
      remote,
    ]);
  });

  it('verifies an attestation of each type', () => {
    for (const type of ['slsaprovenance', 'slsaprovenance1', 'cyclonedx', 'spdxjson'] as const)
      expect(verifyAttestationArgs(remote, type, { kind: 'key', keyFile: 'p' }, false)).toEqual([
        'verify-attestation',
        '--key=p',
        `--type=${type}`,
        '--insecure-ignore-tlog=true',
        '--',
        remote,
      ]);
  });
});
