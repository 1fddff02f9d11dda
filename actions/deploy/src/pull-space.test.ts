import { describe, expect, it } from 'vitest';
import type { Inputs } from './inputs.js';
import { measurePull, pullNeedKb, pullSpaceProblem, registryOptionsFor } from './pull-space.js';

const MiB = 1024 * 1024;

describe('pullNeedKb', () => {
  it('is 2.5 x the compressed sizes plus 256 MiB, or the 2 GiB floor', () => {
    expect(
      pullNeedKb([
        { ref: 'a', bytes: 100 * MiB },
        { ref: 'b', bytes: 20 * MiB },
      ]),
    ).toBe((300 + 256) * 1024);
    expect(pullNeedKb([])).toBe(256 * 1024);
    expect(pullNeedKb(undefined)).toBe(2 * 1024 * 1024);
  });
});

describe('pullSpaceProblem', () => {
  const sizes = [
    { ref: 'r/api@sha256:1', bytes: 300 * MiB },
    { ref: 'r/web@sha256:2', bytes: 10 * MiB + 1 },
  ];

  it('names the images, their sizes, the free space and the fix', () => {
    expect(pullSpaceProblem('/var/lib/docker', 512 * 1024, ['r/api@sha256:1', 'r/web@sha256:2'], sizes)).toBe(
      "/var/lib/docker (Docker's root dir) has 0.5 GiB free; pulling r/api@sha256:1 (300 MiB compressed), " +
        'r/web@sha256:2 (11 MiB compressed) needs 1.0 GiB (2.5 x the compressed size + 0.3 GiB): ' +
        'free space on the host (docker image prune -a) or grow the disk',
    );
  });

  it('says when the floor stood in for the registry', () => {
    expect(pullSpaceProblem('/d', 1024, ['r/api@sha256:1'], undefined)).toBe(
      "/d (Docker's root dir) has 0.0 GiB free, under the 2.0 GiB kept for pulling r/api@sha256:1 " +
        '(their registry could not be asked): free space on the host (docker image prune -a) or grow the disk',
    );
  });

  it('finds nothing with enough room or nothing to pull', () => {
    expect(pullSpaceProblem('/d', 2 * 1024 * 1024, ['r/api@sha256:1'], sizes)).toBeUndefined();
    expect(pullSpaceProblem('/d', 1024, [], undefined)).toBeUndefined();
  });
});

describe('registryOptionsFor', () => {
  const inputs = {
    registry: 'ghcr.io',
    'registry-username': 'bot',
    'registry-password': 'pw',
  } as Inputs;

  it("gives the credentials only to images on the input's registry", () => {
    expect(registryOptionsFor(`ghcr.io/o/api@sha256:${'a'.repeat(64)}`, inputs)).toEqual({
      credentials: { username: 'bot', password: 'pw' },
    });
    expect(registryOptionsFor('evil.example/ghcr.io/api:1', inputs)).toEqual({});
    expect(registryOptionsFor('nginx:1', inputs)).toEqual({});
    expect(registryOptionsFor('ghcr.io/o/api:1', {} as Inputs)).toEqual({});
  });
});

describe('measurePull', () => {
  it('keeps the floor, saying why, when the host reported no platform', async () => {
    const log: string[] = [];
    expect(await measurePull(['r/api:1'], undefined, {} as Inputs, (l) => log.push(l))).toBeUndefined();
    expect(log).toEqual(['the host did not report its platform: keeping 2.0 GiB free for the pull']);
    expect(await measurePull([], undefined, {} as Inputs, (l) => log.push(l))).toEqual([]);
  });
});
