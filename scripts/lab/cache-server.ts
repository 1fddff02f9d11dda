// GitHub's Actions cache service on loopback, for tests of code that uses @actions/cache. It speaks
// what @actions/cache 6.x speaks on a hosted runner, so saveCache/restoreCache run their real code
// path (their HTTP clients, retries, tar and zstd) against it:
//  - the cache service v2, a Twirp JSON API under ACTIONS_RESULTS_URL
//    (github.actions.results.api.v1.CacheService: CreateCacheEntry, FinalizeCacheEntryUpload,
//    GetCacheEntryDownloadURL), authenticated by the job's ACTIONS_RUNTIME_TOKEN (a JWT whose `ac`
//    claim carries the cache scopes, signed here);
//  - the Azure Blob Storage that its signed URLs point to: Put Blob, Put Block, Put Block List, Get
//    Blob Properties and Get Blob with ranges, checked against a SAS-style signature.
// @actions/cache downloads with the Azure SDK (getProperties, then ranged GETs of 4 MiB) only when
// the URL's host ends in `.blob.core.windows.net`, and with one plain GET otherwise. So by default
// the signed URLs name `http://berthcache.blob.core.windows.net/…` and the step's HTTP_PROXY is this
// server, which serves that host itself and forwards everything else (plain HTTP and CONNECT) to
// where it was going. `blobHost: 'loopback'` hands out `http://127.0.0.1:<port>/berthcache/…`
// instead (no proxy; the SDK uploads, a plain GET downloads). BuildKit's gha backend (v2, through
// buildx 0.21+) needs the loopback host: it runs in a builder's container, which gets no HTTP_PROXY
// (the Azure host would not resolve and its SDK retries for minutes); on the host network it
// reaches 127.0.0.1, uploads with Put Blob or Put Block / Put Block List and reads with GET (from an
// offset when it resumes), every URL's signature checked.
// Entries behave like GitHub's: a key is unique per (key, version, scope) and immutable (a second
// CreateCacheEntry is a 409 already_exists); a lookup takes the exact key, else the newest entry whose
// key starts with the key, else, for each restore key in turn, the newest entry whose key starts
// with it; the version must always match; entries become visible when finalized. Blobs live in a
// temporary directory until close().
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as forwardRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import { freePort } from './net.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACCOUNT,
  AZURE_SUFFIX,
  AzureError,
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

export interface CacheServerOptions {
  /**
   * Simulate an unavailable service. 'all': every cache and blob request is answered HTTP 500 (an
   * outage; @actions/cache retries each Twirp call 5 times over about 30 s, then gives up).
   * 'refuse': nothing listens at ACTIONS_RESULTS_URL (connection refused; no retries, no requests).
   */
  fail?: 'all' | 'refuse';
  /** Where signed blob URLs point; see the top of this file. Default 'azure'. */
  blobHost?: 'azure' | 'loopback';
}

export interface CacheEntry {
  key: string;
  version: string;
  size: number;
}

export interface CacheRequest {
  method: string;
  /**
   * Path and query as requested, SAS parameters (sig, se, sp, sr, sv) left out: `/twirp/<service>/<method>`,
   * `/actions-cache/<blob>[?comp=…]` (loopback blob host: `/berthcache/actions-cache/…`),
   * `/_apis/artifactcache/…` (the legacy v1 API), or a forwarded proxy request's full URL.
   */
  path: string;
  /** the Range or x-ms-range header, if any */
  range?: string;
  status: number;
}

export interface CacheServer {
  /** http://127.0.0.1:<port>, no trailing slash */
  url: string;
  /** what a step needs, as the runner sets it: merge into runAction's `env` or vi.stubEnv each */
  env: Record<string, string>;
  /** finalized entries, oldest first */
  entries(): CacheEntry[];
  requests(): CacheRequest[];
  close(): Promise<void>;
}

const SERVICE = 'github.actions.results.api.v1.CacheService';
/** the runner's default scope: the workflow's branch, readable and writable */
const DEFAULT_SCOPES: TokenScope[] = [{ Scope: 'refs/heads/main', Permission: 3 }];

interface TokenScope {
  Scope: string;
  /** 1 read, 2 write, 3 both */
  Permission: number;
}

interface Entry {
  id: number;
  key: string;
  version: string;
  scope: string;
  blob: string;
  finalized: boolean;
  size: number;
}

export async function startCacheServer(options: CacheServerOptions = {}): Promise<CacheServer> {
  const secret = randomBytes(32);
  const token = runtimeToken(secret, { ac: JSON.stringify(DEFAULT_SCOPES), acsl: '10' });
  const baseEnv = {
    ACTIONS_RUNTIME_TOKEN: token,
    ACTIONS_CACHE_SERVICE_V2: 'True',
    // The runner's effective cache mode: read and write, as the token's scope allows.
    ACTIONS_CACHE_MODE: 'write',
  };

  if (options.fail === 'refuse') {
    const port = await freePort(); // nothing listens there
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      env: { ...baseEnv, ACTIONS_RESULTS_URL: `${url}/`, ACTIONS_CACHE_URL: `${url}/` },
      entries: () => [],
      requests: () => [],
      close: async () => {},
    };
  }

  const dir = await mkdtemp(join(tmpdir(), 'berth-cache-server-'));
  const entries: Entry[] = [];
  const log: CacheRequest[] = [];
  const tunnels = new Set<Socket>();
  let nextId = 1;
  let port = 0;
  const blobHost = options.blobHost ?? 'azure';

  const storage = await createBlobStorage({
    dir,
    secret,
    base: () =>
      blobHost === 'azure' ? `http://${ACCOUNT}${AZURE_SUFFIX}` : `http://127.0.0.1:${port}/${ACCOUNT}`,
  });
  const signedUrl = storage.signedUrl;

  // ---- Twirp: the cache service ----

  function findEntry(scope: string, version: string, key: string): Entry | undefined {
    return entries.find((e) => e.scope === scope && e.version === version && e.key === key);
  }

  function lookup(scopes: string[], version: string, key: string, restoreKeys: string[]): Entry | undefined {
    for (const scope of scopes) {
      const candidates = entries.filter((e) => e.finalized && e.scope === scope && e.version === version);
      const newestWithPrefix = (prefix: string): Entry | undefined =>
        candidates.filter((e) => e.key.startsWith(prefix)).sort((a, b) => b.id - a.id)[0];
      const hit =
        candidates.find((e) => e.key === key) ??
        newestWithPrefix(key) ??
        restoreKeys.map(newestWithPrefix).find((e) => e !== undefined);
      if (hit) return hit;
    }
    return undefined;
  }

  async function twirp(req: IncomingMessage, method: string): Promise<object> {
    const { claims, body } = await readTwirpRequest(req, secret);
    const scopes = JSON.parse(String(claims['ac'] ?? '[]')) as TokenScope[];
    const readable = scopes.filter((s) => s.Permission & 1).map((s) => s.Scope);
    const writable = scopes.find((s) => s.Permission & 2)?.Scope;

    switch (method) {
      case 'CreateCacheEntry': {
        const key = requireString(body, 'key');
        const version = requireString(body, 'version');
        if (writable === undefined) {
          return { ok: false, message: 'cache write denied: token has no writable scopes' };
        }
        if (findEntry(writable, version, key)) {
          throw new TwirpError(
            409,
            'already_exists',
            'cache entry with the same key, version, and scope already exists',
          );
        }
        const id = nextId++;
        const blob = `${id}-${randomBytes(8).toString('hex')}`;
        entries.push({ id, key, version, scope: writable, blob, finalized: false, size: 0 });
        return { ok: true, signed_upload_url: signedUrl(blob, 'cw') };
      }
      case 'FinalizeCacheEntryUpload': {
        const key = requireString(body, 'key');
        const version = requireString(body, 'version');
        const sizeBytes = Number(field(body, 'size_bytes') ?? 0);
        const entry = writable === undefined ? undefined : findEntry(writable, version, key);
        if (!entry) throw new TwirpError(404, 'not_found', 'cache entry not found');
        if (entry.finalized) {
          throw new TwirpError(
            409,
            'already_exists',
            'cache entry with the same key, version, and scope already exists',
          );
        }
        const blobSize = storage.size(entry.blob);
        if (blobSize === undefined)
          throw new TwirpError(412, 'failed_precondition', 'the cache archive has not been uploaded');
        if (blobSize !== sizeBytes) {
          throw new TwirpError(
            400,
            'invalid_argument',
            `size_bytes ${sizeBytes} does not match the upload (${blobSize})`,
          );
        }
        entry.finalized = true;
        entry.size = blobSize;
        return { ok: true, entry_id: String(entry.id) };
      }
      case 'GetCacheEntryDownloadURL': {
        const key = requireString(body, 'key');
        const version = requireString(body, 'version');
        const restoreKeys = field(body, 'restore_keys') ?? [];
        if (!Array.isArray(restoreKeys) || restoreKeys.some((k) => typeof k !== 'string')) {
          throw new TwirpError(400, 'invalid_argument', 'restore_keys must be a list of strings');
        }
        const hit = lookup(readable, version, key, restoreKeys as string[]);
        if (!hit) return { ok: false, signed_download_url: '', matched_key: '' };
        return { ok: true, signed_download_url: signedUrl(hit.blob, 'r'), matched_key: hit.key };
      }
      default:
        throw new TwirpError(404, 'bad_route', `no handler for path /twirp/${SERVICE}/${method}`);
    }
  }

  // ---- plumbing ----

  function forward(req: IncomingMessage, res: ServerResponse, target: URL): Promise<number> {
    return new Promise((resolve) => {
      const upstream = forwardRequest(
        {
          host: target.hostname,
          port: target.port || 80,
          method: req.method,
          path: target.pathname + target.search,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          resolve(up.statusCode ?? 502);
        },
      );
      upstream.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`berth cache-server proxy: ${error.message}\n`);
        resolve(502);
      });
      req.pipe(upstream);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? '');
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `127.0.0.1:${port}`}`);
    const rangeHeader = req.headers['x-ms-range'] ?? req.headers['range'];
    const entry: CacheRequest = { method: req.method ?? '', path: shownPath(url), status: 0 };
    if (typeof rangeHeader === 'string') entry.range = rangeHeader;
    log.push(entry);

    const isAzureHost = url.hostname.endsWith(AZURE_SUFFIX);
    const isSelf =
      !absolute ||
      ((url.hostname === '127.0.0.1' || url.hostname === 'localhost') && Number(url.port) === port);
    if (!isAzureHost && !isSelf) {
      entry.path = url.href;
      entry.status = await forward(req, res, url);
      return;
    }
    const blobPath = isAzureHost
      ? url.pathname
      : url.pathname.startsWith(`/${ACCOUNT}/`)
        ? url.pathname.slice(ACCOUNT.length + 1)
        : undefined;
    const isTwirp = !isAzureHost && url.pathname.startsWith(`/twirp/`);

    try {
      if (options.fail === 'all') {
        if (isTwirp)
          throw new TwirpError(500, 'internal', 'simulated outage (berth cache-server, fail: all)');
        throw new AzureError(500, 'InternalError', 'simulated outage (berth cache-server, fail: all)');
      }
      if (isTwirp) {
        const m = /^\/twirp\/([^/]+)\/([^/]+)$/.exec(url.pathname);
        if (!m || m[1] !== SERVICE)
          throw new TwirpError(404, 'bad_route', `no handler for path ${url.pathname}`);
        const body = await twirp(req, m[2]!);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
        entry.status = 200;
        return;
      }
      if (!isAzureHost && url.pathname.startsWith('/_apis/artifactcache/')) {
        // What GitHub has answered the legacy (v1) cache API since its sunset in April 2025.
        entry.status = 422;
        res.writeHead(422, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            message:
              'This legacy service is shutting down, effective April 15, 2025. Migrate to the new service ASAP. For more information: https://gh.io/gha-cache-sunset',
          }),
        );
        return;
      }
      if (blobPath !== undefined) {
        entry.status = await storage.serve(req, res, url, blobPath);
        return;
      }
      entry.status = notFound(res);
    } catch (error) {
      entry.status = failRequest(req, res, error, entry.status, 'berth cache-server');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    // A CONNECT through HTTP_PROXY (an https URL of another host): tunnel it untouched.
    const entry: CacheRequest = { method: 'CONNECT', path: req.url ?? '', status: 0 };
    log.push(entry);
    const [host, targetPort] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = connect(Number(targetPort) || 443, host ?? '', () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    tunnels.add(client).add(upstream);
    const done = (): void => {
      tunnels.delete(client);
      tunnels.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', () => {
      if (!entry.status) {
        entry.status = 502;
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      }
      done();
    });
    client.on('error', done);
    upstream.on('close', done);
    client.on('close', done);
  });

  port = await listenLoopback(server);
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    env: {
      ...baseEnv,
      // The runner gives both service URLs with a trailing slash; @actions/cache 6 uses the v2 one
      // (ACTIONS_CACHE_SERVICE_V2); the v1 one answers 422 here as on GitHub since the v1 sunset.
      ACTIONS_RESULTS_URL: `${url}/`,
      ACTIONS_CACHE_URL: `${url}/`,
      ...(blobHost === 'azure' ? { HTTP_PROXY: url } : {}),
    },
    entries: () =>
      entries.filter((e) => e.finalized).map((e) => ({ key: e.key, version: e.version, size: e.size })),
    requests: () => log.map((r) => ({ ...r })),
    close: async () => {
      for (const socket of tunnels) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
