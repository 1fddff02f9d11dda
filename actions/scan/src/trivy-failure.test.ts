import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/action/inputs.js';
import { fatalMessage, trivyFailure, usedEmbeddedChecks } from './trivy-failure.js';

// Trivy 0.74.0's own stderr, as the lab's Trivy printed it.
const NOT_FOUND = `2026-11-22T04:48:34Z\tINFO\t[vuln] Vulnerability scanning is enabled
2026-11-22T04:48:34Z\tFATAL\tFatal error\trun error: image scan error: scan error: unable to initialize a scan service: unable to initialize artifact: unable to initialize container image: unable to find the specified image "localhost:5000/nope/nope:1" in ["remote"]: 2 errors occurred:
\t* remote error: GET http://localhost:5000/v2/nope/nope/manifests/1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:1]
\t* remote error: GET http://localhost:5000/v2/nope/nope/manifests/1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:1]


`;
const DB_FAILED = `2026-11-22T04:49:33Z\tINFO\t[vulndb] Downloading artifact...\trepo="localhost:5000/berth/nope-db:2"
2026-11-22T04:49:33Z\tFATAL\tFatal error\trun error: init error: DB error: failed to download vulnerability DB: OCI artifact error: failed to download vulnerability DB: failed to download artifact from localhost:5000/berth/nope-db:2: OCI repository error: 2 errors occurred:
\t* GET http://localhost:5000/v2/berth/nope-db/manifests/2: MANIFEST_UNKNOWN: manifest unknown; map[Tag:2]
\t* GET http://localhost:5000/v2/berth/nope-db/manifests/2: MANIFEST_UNKNOWN: manifest unknown; map[Tag:2]
`;

describe('trivyFailure', () => {
  const ctx = {
    image: 'localhost:5000/nope/nope:1',
    dbRepositories: ['localhost:5000/berth/nope-db:2'],
    timeoutMs: 300_000,
  };

  it('an image that is not there is the image input, with the registry error once', () => {
    const error = trivyFailure(1, NOT_FOUND, ctx);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'Input "image": localhost:5000/nope/nope:1 was not found (Trivy looked in: remote): ' +
        'GET http://localhost:5000/v2/nope/nope/manifests/1: MANIFEST_UNKNOWN: manifest unknown',
    );
  });

  it('names the first failure when Trivy tried several ways to authenticate', () => {
    const twoWays = NOT_FOUND.replace(
      /\t\* remote error: GET [^\n]*\n(?=\n)/,
      '\t* remote error: GET http://localhost:5000/v2/nope/nope/manifests/1: UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:nope/nope Type:repository]]\n',
    );
    expect(twoWays).toContain('UNAUTHORIZED');
    expect(trivyFailure(1, twoWays, ctx).message).toBe(
      'Input "image": localhost:5000/nope/nope:1 was not found (Trivy looked in: remote): ' +
        'GET http://localhost:5000/v2/nope/nope/manifests/1: MANIFEST_UNKNOWN: manifest unknown',
    );
  });

  it('a DB that cannot be downloaded is db-repository', () => {
    expect(trivyFailure(1, DB_FAILED, ctx).message).toBe(
      'Input "db-repository": Trivy could not download the vulnerability DB from localhost:5000/berth/nope-db:2: ' +
        'GET http://localhost:5000/v2/berth/nope-db/manifests/2: MANIFEST_UNKNOWN: manifest unknown',
    );
  });

  it('JAR files without the Java DB are java-db; a deadline is timeout', () => {
    const jar =
      "2026-01-01T00:00:00Z\tERROR\tThe first run cannot skip downloading Java DB\n2026-01-01T00:00:00Z\tFATAL\tFatal error\t... '--skip-java-db-update' cannot be specified on the first run\n";
    expect(trivyFailure(1, jar, ctx).message).toMatch(/^Input "java-db": the target has JAR files/);
    const late =
      '2026-01-01T00:00:00Z\tFATAL\tFatal error\trun error: image scan error: context deadline exceeded\n';
    expect(trivyFailure(1, late, ctx).message).toBe(
      'Input "timeout": Trivy did not finish within 300s; raise the timeout or scan less ' +
        '(run error: image scan error: context deadline exceeded)',
    );
  });

  it("anything else is Trivy's FATAL message", () => {
    const other =
      '2026-01-01T00:00:00Z\tINFO\tx\n2026-01-01T00:00:00Z\tFATAL\tFatal error\tsomething broke:\n\tdetail\n';
    expect(fatalMessage(other)).toBe('something broke: detail');
    const error = trivyFailure(2, other, ctx);
    expect(error).not.toBeInstanceOf(InputError);
    expect(error.message).toBe('Trivy failed with exit code 2: something broke: detail');
    expect(trivyFailure(2, '', ctx).message).toBe('Trivy failed with exit code 2: no error output');
  });

  it('the embedded-checks ERROR is recognised, not a failure', () => {
    expect(
      usedEmbeddedChecks(
        '2026-11-22T04:48:51Z\tERROR\t[misconfig] Falling back to embedded checks\terr="failed to download checks bundle"',
      ),
    ).toBe(true);
    expect(usedEmbeddedChecks(NOT_FOUND)).toBe(false);
  });
});
