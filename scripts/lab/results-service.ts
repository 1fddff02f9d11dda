// GitHub's results service on loopback, the part that test/cache-server.ts (the cache service) and
// test/artifact-server.ts (the artifact service) share: Twirp plumbing (errors, JSON bodies, the
// job's runtime token, a JWT signed here) and the Azure Blob Storage that the services' signed URLs
// point to: Put Blob, Put Block, Put Block List, Get Blob Properties and Get Blob with ranges,
// checked against a SAS-style signature. Blobs live in a directory the caller owns.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export const ACCOUNT = 'berthcache';
export const CONTAINER = 'actions-cache';
export const AZURE_SUFFIX = '.blob.core.windows.net';
export const STORAGE_VERSION = '2025-11-05';
/** query parameters of a signed URL that request logs leave out */
export const SAS_PARAMS = ['sv', 'st', 'se', 'sr', 'sp', 'spr', 'sig'];

export interface Blob {
  file: string;
  size: number;
  etag: string;
  md5: string;
  contentType: string;
  created: Date;
  modified: Date;
}

export class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class AzureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export function signJwt(payload: object, secret: Buffer): string {
  const unsigned = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))}.${b64url(JSON.stringify(payload))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

export function verifyJwt(token: string, secret: Buffer): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || signature === undefined) return undefined;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 < Date.now()) return undefined;
  return claims;
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
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
export function field(body: Record<string, unknown>, protoName: string): unknown {
  const camel = protoName.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  return body[protoName] ?? body[camel];
}

/** `bytes=a-b` or `bytes=a-` against a blob of `size` bytes: inclusive [start, end], or 'invalid'. */
export function parseRange(header: string, size: number): [number, number] | 'invalid' {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return 'invalid';
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'invalid';
  return [start, end];
}

/** Streams a request body to `file`; its size and base64 MD5. */
export async function saveBody(req: IncomingMessage, file: string): Promise<{ size: number; md5: string }> {
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

export function azureErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}</Message></Error>`;
}

export interface BlobStorageOptions {
  /** a directory for blobs and staged blocks (the caller deletes it) */
  dir: string;
  /** signs the SAS of every URL */
  secret: Buffer;
  /** `http://<account>.blob.core.windows.net` or `http://127.0.0.1:<port>/<account>`, when a URL is signed */
  base: () => string;
  /** the blob container; default actions-cache */
  container?: string;
}

export interface BlobStorage {
  /** A URL for `blob` with a SAS allowing `perms` (`r`, `cw`) for an hour. */
  signedUrl(blob: string, perms: string): string;
  /** Answers the blob request for `path` (`/<container>/<blob>`); resolves with the status sent. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<number>;
  /** The committed blob's size, or undefined. */
  size(blob: string): number | undefined;
}

export async function createBlobStorage(options: BlobStorageOptions): Promise<BlobStorage> {
  const { dir, secret } = options;
  const container = options.container ?? CONTAINER;
  await mkdir(join(dir, 'blocks'), { recursive: true });
  const blobs = new Map<string, Blob>();
  /** uncommitted blocks by blob, then by block id */
  const blocks = new Map<string, Map<string, { file: string; size: number }>>();
  /** Blob names may have slashes; files are named by a hash of the name. */
  const blobFile = (name: string): string =>
    join(
      dir,
      `${createHash('sha256').update(name).digest('hex').slice(0, 32)}.${randomBytes(4).toString('hex')}`,
    );

  const sasSignature = (perms: string, expiry: string, blob: string): string =>
    createHmac('sha256', secret)
      .update(`${perms}\n${expiry}\n/${ACCOUNT}/${container}/${blob}`)
      .digest('base64');

  function signedUrl(blob: string, perms: string): string {
    const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const q = new URLSearchParams({ sv: STORAGE_VERSION, se: expiry, sr: 'b', sp: perms });
    q.set('sig', sasSignature(perms, expiry, blob));
    return `${options.base()}/${container}/${blob}?${q.toString()}`;
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
      'Content-Type': blob.contentType,
    };
  }

  /** Commits `file` as the blob's content (Put Blob, Put Block List). */
  function commit(name: string, file: string, size: number, md5: string, req: IncomingMessage): Blob {
    const previous = blobs.get(name);
    if (previous) void rm(previous.file, { force: true });
    const blob: Blob = {
      file,
      size,
      etag: `"0x${randomBytes(8).toString('hex').toUpperCase()}"`,
      md5,
      contentType: String(req.headers['x-ms-blob-content-type'] ?? 'application/octet-stream'),
      created: previous?.created ?? new Date(),
      modified: new Date(),
    };
    blobs.set(name, blob);
    blocks.delete(name);
    return blob;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<number> {
    const prefix = `/${container}/`;
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
        const file = blobFile(name);
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
        const blob = commit(name, file, size, hash.digest('base64'), req);
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
      const file = blobFile(name);
      const { size, md5 } = await saveBody(req, file);
      const blob = commit(name, file, size, md5, req);
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

  return { signedUrl, serve, size: (blob) => blobs.get(blob)?.size };
}

/** The job's ACTIONS_RUNTIME_TOKEN as the runner gets it: a JWT with the results scope (run and job backend ids). */
export function runtimeToken(secret: Buffer, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    {
      nameid: randomUUID(),
      scp: `Actions.GenericRead:${randomUUID()} Actions.Results:${randomUUID()}:${randomUUID()}`,
      IdentityTypeClaim: 'System:ServiceIdentity',
      iss: 'vstoken.actions.githubusercontent.com',
      aud: 'vstoken.actions.githubusercontent.com',
      nbf: now - 60,
      exp: now + 6 * 3600,
      ...claims,
    },
    secret,
  );
}

/** The run and job backend ids of a token's `Actions.Results:<run>:<job>` scope. */
export function backendIds(claims: Record<string, unknown>): { run: string; job: string } {
  const scope = String(claims['scp'] ?? '')
    .split(' ')
    .map((s) => s.split(':'))
    .find((p) => p[0] === 'Actions.Results' && p.length === 3);
  if (!scope) throw new TwirpError(403, 'permission_denied', 'the token has no Actions.Results scope');
  return { run: scope[1]!, job: scope[2]! };
}

/** A Twirp JSON call: POST, application/json, a valid runtime token; its claims and body. */
export async function readTwirpRequest(
  req: IncomingMessage,
  secret: Buffer,
): Promise<{ claims: Record<string, unknown>; body: Record<string, unknown> }> {
  if (req.method !== 'POST') throw new TwirpError(404, 'bad_route', `unsupported method ${req.method}`);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (contentType !== 'application/json') {
    throw new TwirpError(404, 'bad_route', `unexpected Content-Type: ${contentType || '(none)'}`);
  }
  const auth = req.headers.authorization ?? '';
  const claims = auth.startsWith('Bearer ') ? verifyJwt(auth.slice(7), secret) : undefined;
  if (!claims) throw new TwirpError(401, 'unauthenticated', 'invalid or missing runtime token');
  try {
    return { claims, body: JSON.parse((await readBody(req)) || '{}') as Record<string, unknown> };
  } catch (error) {
    if (error instanceof TwirpError) throw error;
    throw new TwirpError(400, 'malformed', 'the request body is not valid JSON');
  }
}

export function requireString(body: Record<string, unknown>, name: string): string {
  const value = field(body, name);
  if (typeof value !== 'string' || value === '') {
    throw new TwirpError(400, 'invalid_argument', `${name} is required`);
  }
  return value;
}

/** Answers a failed request as the service would: Twirp JSON, Azure XML, or a plain 500. */
export function sendServiceError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  who: string,
): number {
  if (error instanceof TwirpError) {
    res.writeHead(error.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: error.code, msg: error.message }));
    return error.status;
  }
  if (error instanceof AzureError) {
    res.writeHead(error.status, {
      'Content-Type': 'application/xml',
      'x-ms-error-code': error.code,
      'x-ms-request-id': randomUUID(),
    });
    res.end(req.method === 'HEAD' ? undefined : azureErrorXml(error.code, error.message));
    return error.status;
  }
  res.writeHead(500, { 'Content-Type': 'text/plain' });
  res.end(`${who}: ${error instanceof Error ? error.message : String(error)}\n`);
  return 500;
}

/** A request's path and query as logs show it: the SAS parameters (the signature) left out. */
export function shownPath(url: URL): string {
  const visible = new URLSearchParams(url.search);
  for (const p of SAS_PARAMS) visible.delete(p);
  return url.pathname + (visible.size ? `?${visible.toString()}` : '');
}

/**
 * Ends a request whose handler threw: the rest of the body is drained, a response already under way
 * is cut off (status 500 unless one was sent), otherwise the error is answered as the service would.
 */
export function failRequest(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  status: number,
  who: string,
): number {
  req.resume();
  if (res.headersSent) {
    res.destroy();
    return status || 500;
  }
  return sendServiceError(req, res, error, who);
}

/** Answers 404 for a path no route serves; returns the status. */
export function notFound(res: ServerResponse): number {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
  return 404;
}

/** Starts `server` on a free loopback port and resolves with the port. */
export async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
