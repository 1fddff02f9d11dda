// GitHub's artifact service on loopback, for tests of code that uses @actions/artifact. It speaks
// what @actions/artifact 6.x speaks on a hosted runner, so uploadArtifact, listArtifacts,
// getArtifact and downloadArtifact run their real code path (Twirp client, retries, zip, the Azure
// SDK's block upload, the streaming unzip) against it:
//  - the artifact service, a Twirp JSON API under ACTIONS_RESULTS_URL
//    (github.actions.results.api.v1.ArtifactService: CreateArtifact, FinalizeArtifact,
//    ListArtifacts, GetSignedArtifactURL, DeleteArtifact), authenticated by the job's
//    ACTIONS_RUNTIME_TOKEN, whose `Actions.Results:<run>:<job>` scope names the workflow run and job;
//  - the Azure Blob Storage its signed URLs point to (test/results-service.ts, shared with the cache
//    service), on loopback: `http://127.0.0.1:<port>/berthcache/actions-results/…`.
// Artifacts behave like GitHub's: a name is unique per workflow run (a second CreateArtifact of a
// finalized name is a 409), an artifact is visible only once finalized, listing and downloading see
// every job of the run and no other run, and an artifact past its expires_at is gone. Each job gets
// its own token (`jobEnv()`), as on a runner; `otherRunEnv()` is a job of another run.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACCOUNT,
  backendIds,
  createBlobStorage,
  field,
  readTwirpRequest,
  requireString,
  runtimeToken,
  failRequest,
  listenLoopback,
  notFound,
  shownPath,
  TwirpError,
} from './results-service.js';

export interface ArtifactRecord {
  id: number;
  name: string;
  size: number;
  /** `sha256:<hex>` as FinalizeArtifact reported it */
  digest?: string;
  runId: string;
  jobId: string;
  mimeType?: string;
  created: Date;
  expires?: Date;
}

export interface ArtifactRequest {
  method: string;
  /** path without the SAS parameters */
  path: string;
  status: number;
}

export interface ArtifactServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** the first job's step environment (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL) */
  env: Record<string, string>;
  /** a step environment for another job of the same workflow run */
  jobEnv(): Record<string, string>;
  /** a step environment for a job of another workflow run */
  otherRunEnv(): Record<string, string>;
  /** finalized artifacts, oldest first */
  artifacts(): ArtifactRecord[];
  requests(): ArtifactRequest[];
  close(): Promise<void>;
}

const SERVICE = 'github.actions.results.api.v1.ArtifactService';
const CONTAINER = 'actions-results';

interface Entry extends ArtifactRecord {
  blob: string;
  finalized: boolean;
}

export async function startArtifactServer(): Promise<ArtifactServer> {
  const secret = randomBytes(32);
  const dir = await mkdtemp(join(tmpdir(), 'berth-artifact-server-'));
  let port = 0;
  const storage = await createBlobStorage({
    dir,
    secret,
    container: CONTAINER,
    base: () => `http://127.0.0.1:${port}/${ACCOUNT}`,
  });
  const entries: Entry[] = [];
  const log: ArtifactRequest[] = [];
  let nextId = 1;
  const run = randomUUID();

  const envFor = (runId: string): Record<string, string> => {
    const scp = `Actions.GenericRead:${randomUUID()} Actions.Results:${runId}:${randomUUID()}`;
    return {
      ACTIONS_RUNTIME_TOKEN: runtimeToken(secret, { scp }),
      ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
    };
  };

  const live = (e: Entry): boolean => e.finalized && !(e.expires && e.expires.getTime() < Date.now());

  /**
   * The token's run and job. The body's run must be the token's; its job too when writing (reads
   * name the job that uploaded the artifact, as GetSignedArtifactURL does).
   */
  function caller(claims: Record<string, unknown>, body: Record<string, unknown>, writing: boolean) {
    const ids = backendIds(claims);
    const runId = requireString(body, 'workflow_run_backend_id');
    const jobId = requireString(body, 'workflow_job_run_backend_id');
    if (runId !== ids.run || (writing && jobId !== ids.job)) {
      throw new TwirpError(
        403,
        'permission_denied',
        'the token does not grant access to this workflow run/job',
      );
    }
    return ids;
  }

  const listed = (e: Entry): Record<string, unknown> => ({
    workflow_run_backend_id: e.runId,
    workflow_job_run_backend_id: e.jobId,
    database_id: String(e.id),
    name: e.name,
    size: String(e.size),
    created_at: e.created.toISOString(),
    ...(e.digest ? { digest: e.digest } : {}),
  });

  async function twirp(req: IncomingMessage, method: string): Promise<object> {
    const { claims, body } = await readTwirpRequest(req, secret);
    const ids = caller(claims, body, /^(Create|Finalize|Delete)/.test(method));
    switch (method) {
      case 'CreateArtifact': {
        const name = requireString(body, 'name');
        if (entries.some((e) => e.runId === ids.run && e.name === name && live(e))) {
          throw new TwirpError(
            409,
            'already_exists',
            'an artifact with this name already exists on the workflow run',
          );
        }
        const mimeType = field(body, 'mime_type');
        const expiresAt = field(body, 'expires_at');
        const id = nextId++;
        const extension = mimeType === 'application/zip' || mimeType === undefined ? '.zip' : '';
        const blob = `${ids.run}/workflow-job-run-${ids.job}/artifacts/${randomBytes(16).toString('hex')}${extension}`;
        // A later CreateArtifact of an unfinished name replaces it (a retried upload).
        for (let i = entries.length - 1; i >= 0; i--) {
          const e = entries[i]!;
          if (e.runId === ids.run && e.name === name && !e.finalized) entries.splice(i, 1);
        }
        entries.push({
          id,
          name,
          size: 0,
          runId: ids.run,
          jobId: ids.job,
          mimeType: typeof mimeType === 'string' ? mimeType : undefined,
          created: new Date(),
          expires: typeof expiresAt === 'string' ? new Date(expiresAt) : undefined,
          blob,
          finalized: false,
        });
        return { ok: true, signed_upload_url: storage.signedUrl(blob, 'cw') };
      }
      case 'FinalizeArtifact': {
        const name = requireString(body, 'name');
        const entry = entries.find(
          (e) => e.runId === ids.run && e.jobId === ids.job && e.name === name && !e.finalized,
        );
        if (!entry) throw new TwirpError(404, 'not_found', 'artifact not found');
        const uploaded = storage.size(entry.blob);
        if (uploaded === undefined)
          throw new TwirpError(412, 'failed_precondition', 'the artifact has not been uploaded');
        const size = Number(field(body, 'size') ?? 0);
        if (size !== uploaded) {
          throw new TwirpError(
            400,
            'invalid_argument',
            `size ${size} does not match the upload (${uploaded})`,
          );
        }
        const hash = field(body, 'hash');
        entry.size = uploaded;
        entry.digest = typeof hash === 'string' ? hash : undefined;
        entry.finalized = true;
        return { ok: true, artifact_id: String(entry.id) };
      }
      case 'ListArtifacts': {
        const nameFilter = field(body, 'name_filter');
        const idFilter = field(body, 'id_filter');
        const artifacts = entries
          .filter((e) => e.runId === ids.run && live(e))
          .filter((e) => nameFilter === undefined || e.name === nameFilter)
          .filter((e) => idFilter === undefined || String(e.id) === String(idFilter))
          .map(listed);
        return { artifacts };
      }
      case 'GetSignedArtifactURL': {
        const name = requireString(body, 'name');
        const entry = entries.find((e) => e.runId === ids.run && e.name === name && live(e));
        if (!entry) throw new TwirpError(404, 'not_found', `artifact ${name} not found`);
        return { signed_url: storage.signedUrl(entry.blob, 'r') };
      }
      case 'DeleteArtifact': {
        const name = requireString(body, 'name');
        const index = entries.findIndex((e) => e.runId === ids.run && e.name === name && live(e));
        if (index < 0) throw new TwirpError(404, 'not_found', `artifact ${name} not found`);
        const [entry] = entries.splice(index, 1);
        return { ok: true, artifact_id: String(entry!.id) };
      }
      default:
        throw new TwirpError(404, 'bad_route', `no handler for path /twirp/${SERVICE}/${method}`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const entry: ArtifactRequest = { method: req.method ?? '', path: shownPath(url), status: 0 };
    log.push(entry);
    try {
      const m = /^\/twirp\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (m) {
        if (m[1] !== SERVICE) throw new TwirpError(404, 'bad_route', `no handler for path ${url.pathname}`);
        const body = await twirp(req, m[2]!);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
        entry.status = 200;
        return;
      }
      if (url.pathname.startsWith(`/${ACCOUNT}/`)) {
        entry.status = await storage.serve(req, res, url, url.pathname.slice(ACCOUNT.length + 1));
        return;
      }
      entry.status = notFound(res);
    } catch (error) {
      entry.status = failRequest(req, res, error, entry.status, 'berth artifact-server');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  port = await listenLoopback(server);
  const env = envFor(run);

  return {
    url: `http://127.0.0.1:${port}`,
    env,
    jobEnv: () => envFor(run),
    otherRunEnv: () => envFor(randomUUID()),
    artifacts: () =>
      entries.filter(live).map(({ blob: _blob, finalized: _finalized, ...record }) => ({ ...record })),
    requests: () => log.map((r) => ({ ...r })),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
