import { describe, expect, it } from 'vitest';
import { cosignFailureReason, keylessProblem } from './cosign.js';

describe('cosignFailureReason', () => {
  it("says what cosign's real errors mean, quoting its last Error line", () => {
    expect(
      cosignFailureReason(
        'Error: no signatures found\nerror during command execution: no signatures found\n',
        10,
      ),
    ).toBe('it is not signed (cosign: Error: no signatures found)');
    expect(
      cosignFailureReason(
        'Error: no matching signatures: invalid signature when validating ASN.1 encoded signature\nerror during command execution: x',
        12,
      ),
    ).toMatch(/^no signature on it is by the expected signer \(cosign: Error: no matching signatures/);
    expect(
      cosignFailureReason(
        'Error: none of the attestations matched the predicate type: cyclonedx, found: https://slsa.dev/provenance/v0.2\n',
        1,
      ),
    ).toMatch(/^it has no such attestation by the expected signer/);
  });

  it('keeps what cosign said on one line, cut short, with no workflow command in it', () => {
    const reason = cosignFailureReason(`Error: boom\n::error::pwned ${'x'.repeat(600)}`, 1);
    expect(reason).toBe('cosign: Error: boom');
    const last = cosignFailureReason(`warning\n::error::pwned\r\n${'y'.repeat(500)}`, 1);
    expect(last).not.toMatch(/\n|^::/);
    expect(last.length).toBeLessThan(430);
    expect(cosignFailureReason('', 3)).toBe('cosign: exit code 3');
    expect(cosignFailureReason('Error: a\u001b[31m::error::x', 1)).toBe(
      'cosign: Error: a\\u001b[31m::error::x',
    );
  });
});

describe('keylessProblem', () => {
  it("needs the job's OIDC token: SIGSTORE_ID_TOKEN, or the runner's token request URL and token", () => {
    expect(keylessProblem({ SIGSTORE_ID_TOKEN: 'jwt' }, true)).toBeUndefined();
    expect(
      keylessProblem(
        { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' },
        true,
      ),
    ).toBeUndefined();
    expect(keylessProblem({ ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' }, true)).toMatch(/id-token: write/);
    expect(keylessProblem({}, true)).toMatch(/id-token: write/);
  });

  it('needs the transparency log', () => {
    expect(keylessProblem({ SIGSTORE_ID_TOKEN: 'jwt' }, false)).toMatch(/needs the transparency log/);
  });
});
