// @actions/artifact against test/artifact-server.ts, in this process: the library's own Twirp
// client, zip, Azure SDK block upload and streaming unzip; only the service at the other end is ours.
// The library reads its environment at call time, so vi.stubEnv per test is enough.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startArtifactServer, type ArtifactServer } from '../scripts/lab/artifact-server.js';

let server: ArtifactServer;
let dir: string;

function enterJob(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.stubEnv('GITHUB_WORKSPACE', dir);
  vi.stubEnv('GITHUB_SERVER_URL', 'https://github.com');
  vi.stubEnv('HTTP_PROXY', undefined);
  vi.stubEnv('http_proxy', undefined);
}

beforeEach(async () => {
  server = await startArtifactServer();
  dir = mkdtempSync(join(tmpdir(), 'berth-artifact-test-'));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('artifact server', () => {
  it('uploads, lists and downloads an artifact across jobs of one run, with its retention', async () => {
    const up = join(dir, 'up');
    mkdirSync(up);
    const blob = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(up, 'a.bin'), blob);
    writeFileSync(join(up, 'b.txt'), 'hello\n');
    enterJob(server.env);
    const client = new DefaultArtifactClient();
    const uploaded = await client.uploadArtifact('backup-1', [join(up, 'a.bin'), join(up, 'b.txt')], up, {
      retentionDays: 3,
      compressionLevel: 0,
    });
    expect(uploaded.id).toBeGreaterThan(0);
    const [record] = server.artifacts();
    expect(record).toMatchObject({
      name: 'backup-1',
      size: uploaded.size,
      digest: `sha256:${uploaded.digest}`,
    });
    const days = (record!.expires!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2.9);
    expect(days).toBeLessThan(3.1);

    // Another job of the same run sees it and downloads it; the zip is unpacked.
    enterJob(server.jobEnv());
    const other = new DefaultArtifactClient();
    const { artifacts } = await other.listArtifacts({ latest: true });
    expect(artifacts.map((a) => a.name)).toEqual(['backup-1']);
    const { artifact } = await other.getArtifact('backup-1');
    const down = join(dir, 'down');
    const result = await other.downloadArtifact(artifact.id, { path: down, expectedHash: artifact.digest });
    expect(result.digestMismatch).toBe(false);
    expect(readFileSync(join(down, 'a.bin')).equals(blob)).toBe(true);
    expect(readFileSync(join(down, 'b.txt'), 'utf8')).toBe('hello\n');
  });

  it('keeps runs apart and names unique per run', async () => {
    const up = join(dir, 'up');
    mkdirSync(up);
    writeFileSync(join(up, 'x.txt'), 'x');
    enterJob(server.env);
    await new DefaultArtifactClient().uploadArtifact('same', [join(up, 'x.txt')], up);
    await expect(new DefaultArtifactClient().uploadArtifact('same', [join(up, 'x.txt')], up)).rejects.toThrow(
      /409|already exists/,
    );
    enterJob(server.otherRunEnv());
    const { artifacts } = await new DefaultArtifactClient().listArtifacts();
    expect(artifacts).toEqual([]);
    await expect(new DefaultArtifactClient().getArtifact('same')).rejects.toThrow(/not found|No artifact/i);
  });

  it('refuses a token it did not sign and a call for another run', async () => {
    const r = await fetch(`${server.url}/twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer nope' },
      body: JSON.stringify({ workflow_run_backend_id: 'a', workflow_job_run_backend_id: 'b' }),
    });
    expect(r.status).toBe(401);
    const token = server.env.ACTIONS_RUNTIME_TOKEN!;
    const r2 = await fetch(
      `${server.url}/twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ workflow_run_backend_id: 'a', workflow_job_run_backend_id: 'b' }),
      },
    );
    expect(r2.status).toBe(403);
  });
});
