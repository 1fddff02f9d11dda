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
// instead (no proxy; the SDK uploads, a plain GET downloads).
// Entries behave like GitHub's: a key is unique per (key, version, scope) and immutable (a second
// CreateCacheEntry is a 409 already_exists); a lookup takes the exact key, else the newest entry whose
// key starts with the key, else, for each restore key in turn, the newest entry whose key starts
// with it; the version must always match; entries become visible when finalized. Blobs live in a
// temporary directory until close().
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import {
  createServer,
  request as forwardRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

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
const ACCOUNT = 'berthcache';
const CONTAINER = 'actions-cache';
const AZURE_SUFFIX = '.blob.core.windows.net';
const STORAGE_VERSION = '2025-11-05';
/** the runner's default scope: the workflow's branch, readable and writable */
const DEFAULT_SCOPES: TokenScope[] = [{ Scope: 'refs/heads/main', Permission: 3 }];
const SAS_PARAMS = ['sv', 'st', 'se', 'sr', 'sp', 'spr', 'sig'];

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

interface Blob {
  file: string;
  size: number;
  etag: string;
  md5: string;
  created: Date;
  modified: Date;
}

class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class AzureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function signJwt(payload: object, secret: Buffer): string {
  const unsigned = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))}.${b64url(JSON.stringify(payload))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function verifyJwt(token: string, secret: Buffer): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || signature === undefined) return undefined;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 < Date.now()) return undefined;
  return claims;
}

async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new TwirpError(400, 'malformed', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON field by its proto name or, as protojson also accepts, its lowerCamelCase name. */
function field(body: Record<string, unknown>, protoName: string): unknown {
  const camel = protoName.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  return body[protoName] ?? body[camel];
}

/** `bytes=a-b` or `bytes=a-` against a blob of `size` bytes: inclusive [start, end], or 'invalid'. */
function parseRange(header: string, size: number): [number, number] | 'invalid' {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return 'invalid';
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'invalid';
  return [start, end];
}

/** Streams a request body to `file`; its size and base64 MD5. */
async function saveBody(req: IncomingMessage, file: string): Promise<{ size: number; md5: string }> {
  const hash = createHash('md5');
  let size = 0;
  await pipeline(
    req,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  return { size, md5: hash.digest('base64') };
}

export async function startCacheServer(options: CacheServerOptions = {}): Promise<CacheServer> {
  const secret = randomBytes(32);
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    {
      nameid: randomUUID(),
      scp: `Actions.GenericRead:${randomUUID()} Actions.Results:${randomUUID()}:${randomUUID()}`,
      IdentityTypeClaim: 'System:ServiceIdentity',
      ac: JSON.stringify(DEFAULT_SCOPES),
      acsl: '10',
      iss: 'vstoken.actions.githubusercontent.com',
      aud: 'vstoken.actions.githubusercontent.com',
      nbf: now - 60,
      exp: now + 6 * 3600,
    },
    secret,
  );
  const baseEnv = {
    ACTIONS_RUNTIME_TOKEN: token,
    ACTIONS_CACHE_SERVICE_V2: 'True',
    // The runner's effective cache mode: read and write, as the token's scope allows.
    ACTIONS_CACHE_MODE: 'write',
  };

  if (options.fail === 'refuse') {
    const port = await closedPort();
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
  await mkdir(join(dir, 'blocks'));
  const entries: Entry[] = [];
  const blobs = new Map<string, Blob>();
  /** uncommitted blocks by blob, then by block id */
  const blocks = new Map<string, Map<string, { file: string; size: number }>>();
  const log: CacheRequest[] = [];
  const tunnels = new Set<Socket>();
  let nextId = 1;
  let port = 0;
  const blobHost = options.blobHost ?? 'azure';

  const blobBase = (): string =>
    blobHost === 'azure' ? `http://${ACCOUNT}${AZURE_SUFFIX}` : `http://127.0.0.1:${port}/${ACCOUNT}`;

  const sasSignature = (perms: string, expiry: string, blob: string): string =>
    createHmac('sha256', secret)
      .update(`${perms}\n${expiry}\n/${ACCOUNT}/${CONTAINER}/${blob}`)
      .digest('base64');

  function signedUrl(blob: string, perms: string): string {
    const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const q = new URLSearchParams({ sv: STORAGE_VERSION, se: expiry, sr: 'b', sp: perms });
    q.set('sig', sasSignature(perms, expiry, blob));
    return `${blobBase()}/${CONTAINER}/${blob}?${q.toString()}`;
  }

  // ---- Twirp: the cache service ----

  function tokenScopes(req: IncomingMessage): TokenScope[] {
    const auth = req.headers.authorization ?? '';
    const claims = auth.startsWith('Bearer ') ? verifyJwt(auth.slice(7), secret) : undefined;
    if (!claims) throw new TwirpError(401, 'unauthenticated', 'invalid or missing runtime token');
    return JSON.parse(String(claims['ac'] ?? '[]')) as TokenScope[];
  }

  function requireString(body: Record<string, unknown>, name: string): string {
    const value = field(body, name);
    if (typeof value !== 'string' || value === '') {
      throw new TwirpError(400, 'invalid_argument', `${name} is required`);
    }
    return value;
  }

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
    if (req.method !== 'POST') throw new TwirpError(404, 'bad_route', `unsupported method ${req.method}`);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (contentType !== 'application/json') {
      throw new TwirpError(404, 'bad_route', `unexpected Content-Type: ${contentType || '(none)'}`);
    }
    const scopes = tokenScopes(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
    } catch (error) {
      if (error instanceof TwirpError) throw error;
      throw new TwirpError(400, 'malformed', 'the request body is not valid JSON');
    }
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
        const blob = blobs.get(entry.blob);
        if (!blob)
          throw new TwirpError(412, 'failed_precondition', 'the cache archive has not been uploaded');
        if (blob.size !== sizeBytes) {
          throw new TwirpError(
            400,
            'invalid_argument',
            `size_bytes ${sizeBytes} does not match the upload (${blob.size})`,
          );
        }
        entry.finalized = true;
        entry.size = blob.size;
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

  // ---- Azure Blob Storage ----

  function checkSas(url: URL, blob: string, needed: 'r' | 'w'): void {
    const q = url.searchParams;
    const perms = q.get('sp') ?? '';
    const expiry = q.get('se') ?? '';
    const given = Buffer.from(q.get('sig') ?? '', 'base64');
    const expected = Buffer.from(sasSignature(perms, expiry, blob), 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AzureError(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
      );
    }
    if (!(Date.parse(expiry) > Date.now())) {
      throw new AzureError(403, 'AuthenticationFailed', 'Signed expiry time must be after the current time.');
    }
    const allowed = needed === 'r' ? perms.includes('r') : /[cw]/.test(perms);
    if (!allowed) {
      throw new AzureError(
        403,
        'AuthorizationPermissionMismatch',
        'This request is not authorized to perform this operation using this permission.',
      );
    }
  }

  function blobHeaders(blob: Blob): Record<string, string> {
    return {
      ETag: blob.etag,
      'Last-Modified': blob.modified.toUTCString(),
      'x-ms-creation-time': blob.created.toUTCString(),
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-lease-status': 'unlocked',
      'x-ms-lease-state': 'available',
      'x-ms-server-encrypted': 'true',
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
    };
  }

  /** Commits `file` as the blob's content (Put Blob, Put Block List). */
  function commit(name: string, file: string, size: number, md5: string): Blob {
    const previous = blobs.get(name);
    if (previous) void rm(previous.file, { force: true });
    const blob: Blob = {
      file,
      size,
      etag: `"0x${randomBytes(8).toString('hex').toUpperCase()}"`,
      md5,
      created: previous?.created ?? new Date(),
      modified: new Date(),
    };
    blobs.set(name, blob);
    blocks.delete(name);
    return blob;
  }

  async function azure(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<number> {
    const prefix = `/${CONTAINER}/`;
    if (!path.startsWith(prefix) || path.length === prefix.length) {
      throw new AzureError(404, 'ContainerNotFound', 'The specified container does not exist.');
    }
    const name = decodeURIComponent(path.slice(prefix.length));
    const comp = url.searchParams.get('comp');
    const common = (extra: Record<string, string> = {}): Record<string, string> => ({
      'x-ms-request-id': randomUUID(),
      'x-ms-version': String(req.headers['x-ms-version'] ?? STORAGE_VERSION),
      ...(req.headers['x-ms-client-request-id']
        ? { 'x-ms-client-request-id': String(req.headers['x-ms-client-request-id']) }
        : {}),
      ...extra,
    });

    if (req.method === 'PUT') {
      checkSas(url, name, 'w');
      if (comp === 'block') {
        const id = url.searchParams.get('blockid');
        if (!id) throw new AzureError(400, 'MissingRequiredQueryParameter', 'blockid is required.');
        const file = join(dir, 'blocks', createHash('sha256').update(`${name}\n${id}`).digest('hex'));
        const { size, md5 } = await saveBody(req, file);
        if (!blocks.has(name)) blocks.set(name, new Map());
        blocks.get(name)!.set(id, { file, size });
        res.writeHead(201, common({ 'Content-MD5': md5, 'x-ms-request-server-encrypted': 'true' }));
        res.end();
        return 201;
      }
      if (comp === 'blocklist') {
        const xml = await readBody(req);
        const ids = [...xml.matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map((m) => m[2]!);
        const staged = blocks.get(name) ?? new Map<string, { file: string; size: number }>();
        const missing = ids.find((id) => !staged.has(id));
        if (ids.length === 0 || missing !== undefined) {
          throw new AzureError(400, 'InvalidBlockList', 'The specified block list is invalid.');
        }
        const file = join(dir, `${name}.${randomBytes(4).toString('hex')}`);
        const hash = createHash('md5');
        let size = 0;
        const out = await open(file, 'w');
        try {
          for (const id of ids) {
            for await (const chunk of createReadStream(staged.get(id)!.file) as AsyncIterable<Buffer>) {
              hash.update(chunk);
              size += chunk.length;
              await out.write(chunk);
            }
          }
        } finally {
          await out.close();
        }
        await Promise.all([...staged.values()].map((b) => rm(b.file, { force: true })));
        const blob = commit(name, file, size, hash.digest('base64'));
        res.writeHead(
          201,
          common({
            ETag: blob.etag,
            'Last-Modified': blob.modified.toUTCString(),
            'x-ms-request-server-encrypted': 'true',
          }),
        );
        res.end();
        return 201;
      }
      if (comp !== null)
        throw new AzureError(400, 'InvalidQueryParameterValue', `comp=${comp} is not supported here.`);
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') {
        throw new AzureError(400, 'InvalidHeaderValue', 'x-ms-blob-type must be BlockBlob.');
      }
      const file = join(dir, `${name}.${randomBytes(4).toString('hex')}`);
      const { size, md5 } = await saveBody(req, file);
      const blob = commit(name, file, size, md5);
      res.writeHead(
        201,
        common({
          ETag: blob.etag,
          'Last-Modified': blob.modified.toUTCString(),
          'Content-MD5': blob.md5,
          'x-ms-request-server-encrypted': 'true',
        }),
      );
      res.end();
      return 201;
    }

    if (req.method === 'GET' || req.method === 'HEAD') {
      checkSas(url, name, 'r');
      if (comp !== null)
        throw new AzureError(400, 'InvalidQueryParameterValue', `comp=${comp} is not supported here.`);
      const blob = blobs.get(name);
      if (!blob) throw new AzureError(404, 'BlobNotFound', 'The specified blob does not exist.');
      const ifMatch = req.headers['if-match'];
      if (ifMatch && ifMatch !== '*' && ifMatch !== blob.etag) {
        throw new AzureError(
          412,
          'ConditionNotMet',
          'The condition specified using HTTP conditional header(s) is not met.',
        );
      }
      const rangeHeader = req.headers['x-ms-range'] ?? req.headers['range'];
      const range =
        typeof rangeHeader === 'string' && req.method === 'GET'
          ? parseRange(rangeHeader, blob.size)
          : undefined;
      if (range === 'invalid') {
        res.writeHead(
          416,
          common({
            'Content-Range': `bytes */${blob.size}`,
            'x-ms-error-code': 'InvalidRange',
            'Content-Type': 'application/xml',
          }),
        );
        res.end(
          azureErrorXml(
            'InvalidRange',
            'The range specified is invalid for the current size of the resource.',
          ),
        );
        return 416;
      }
      const [start, end] = range ?? [0, blob.size - 1];
      const status = range ? 206 : 200;
      const headers = common({
        ...blobHeaders(blob),
        'Content-Length': String(blob.size === 0 ? 0 : end - start + 1),
        ...(range
          ? { 'Content-Range': `bytes ${start}-${end}/${blob.size}`, 'x-ms-blob-content-md5': blob.md5 }
          : { 'Content-MD5': blob.md5 }),
      });
      res.writeHead(status, headers);
      if (req.method === 'HEAD' || blob.size === 0) res.end();
      else await pipeline(createReadStream(blob.file, { start, end }), res);
      return status;
    }

    throw new AzureError(
      405,
      'UnsupportedHttpVerb',
      `The resource doesn't support the specified HTTP verb ${req.method}.`,
    );
  }

  function azureErrorXml(code: string, message: string): string {
    return `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}</Message></Error>`;
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
    const visible = new URLSearchParams(url.search);
    for (const p of SAS_PARAMS) visible.delete(p);
    const shownPath = url.pathname + (visible.size ? `?${visible.toString()}` : '');
    const rangeHeader = req.headers['x-ms-range'] ?? req.headers['range'];
    const entry: CacheRequest = { method: req.method ?? '', path: shownPath, status: 0 };
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
        entry.status = await azure(req, res, url, blobPath);
        return;
      }
      entry.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    } catch (error) {
      req.resume();
      if (res.headersSent) {
        res.destroy();
        entry.status = entry.status || 500;
        return;
      }
      if (error instanceof TwirpError) {
        entry.status = error.status;
        res.writeHead(error.status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: error.code, msg: error.message }));
      } else if (error instanceof AzureError) {
        entry.status = error.status;
        res.writeHead(error.status, {
          'Content-Type': 'application/xml',
          'x-ms-error-code': error.code,
          'x-ms-request-id': randomUUID(),
        });
        res.end(req.method === 'HEAD' ? undefined : azureErrorXml(error.code, error.message));
      } else {
        entry.status = 500;
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`berth cache-server: ${error instanceof Error ? error.message : String(error)}\n`);
      }
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
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

/** A loopback port nothing listens on (as good as it gets without holding it). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
