// The merged compose configuration the audit reads (`docker compose config --format json`), checked
// for its shape, and what a service in it is: a database, on which networks, publishing which ports,
// with which limits, secrets in its environment and health check.
import { parseImageRef } from '../../../lib/tools/docker.js';

/** The parts of `docker compose config --format json` the audit reads. */
export interface ComposeService {
  image?: string;
  user?: string | number;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  deploy?: {
    restart_policy?: { condition?: string } | null;
    resources?: { limits?: { memory?: string | number; cpus?: string | number } | null } | null;
  } | null;
  mem_limit?: string | number;
  cpus?: string | number;
  security_opt?: string[];
  read_only?: boolean;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (ComposePort | string | number)[];
  networks?: Record<string, unknown> | string[] | null;
  network_mode?: string;
  volumes?: (ComposeMount | string)[];
  configs?: ({ source?: string; target?: string } | string)[];
}

/** A `volumes:` entry as compose config writes it: bind sources absolute. */
export interface ComposeMount {
  type?: string;
  source?: string;
  target?: string;
}

export interface ComposePort {
  target?: number | string;
  published?: number | string;
  host_ip?: string;
  protocol?: string;
}

export interface ComposeConfig {
  name?: string;
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean; external?: boolean; name?: string } | null>;
  /** top-level configs; `file` is absolute */
  configs?: Record<string, { file?: string } | null>;
}

export class AuditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditError';
  }
}

/** Checks the shape of a merged configuration; `source` names it in errors. */
export function parseComposeConfig(value: unknown, source = 'the compose configuration'): ComposeConfig {
  const data = typeof value === 'string' ? parseJson(value, source) : value;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(data) || !isObject(data.services)) {
    throw new AuditError(
      `${source}: no services; expected the output of docker compose config --format json`,
    );
  }
  for (const [name, service] of Object.entries(data.services)) {
    if (!isObject(service)) throw new AuditError(`${source}: services.${name} is not a mapping`);
  }
  return data as unknown as ComposeConfig;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AuditError(`${source}: not valid JSON (${(error as Error).message})`);
  }
}

const DATABASE_IMAGE = /(postgres|postgis|mysql|mariadb|mongo|redis|valkey|memcached)/i;
const DATABASE_NAME = /^(db|database)$|[-_](db|database)$|^(db|database)[-_]/i;
const DATABASE_ENV = /^(POSTGRES_|MYSQL_|MARIADB_|MONGO_INITDB_)/;
const FRONTEND_NETWORK = /front|public|edge|proxy|ingress|dmz|web/i;

export function environmentEntries(service: ComposeService): [string, string | undefined][] {
  const env = service.environment;
  if (Array.isArray(env)) {
    return env.map((item) => {
      const eq = item.indexOf('=');
      return eq === -1 ? [item, undefined] : [item.slice(0, eq), item.slice(eq + 1)];
    });
  }
  return Object.entries(env ?? {}).map(([k, v]) => [
    k,
    v === null || v === undefined ? undefined : String(v),
  ]);
}

/** A database by its image (postgres, mysql, mariadb, mongo, redis, memcached...), its name or its variables. */
export function isDatabase(name: string, service: ComposeService): boolean {
  const image = service.image ? (parseImageRef(service.image)?.repository ?? service.image) : '';
  if (DATABASE_IMAGE.test(image.split('/').pop() ?? '') || DATABASE_IMAGE.test(name)) return true;
  if (DATABASE_NAME.test(name)) return true;
  return environmentEntries(service).some(([key]) => DATABASE_ENV.test(key));
}

/** The networks a service is attached to: its `networks`, else `default` (none with a network_mode). */
export function serviceNetworks(service: ComposeService): string[] {
  if (service.network_mode) return [];
  const networks = service.networks;
  if (Array.isArray(networks)) return networks;
  if (networks && typeof networks === 'object') return Object.keys(networks);
  return ['default'];
}

/**
 * The networks that face users: those named like front/public/edge/proxy/ingress/dmz/web. A stack
 * that names none is judged by the database rule alone: every non-internal network counts.
 */
export function frontendNetworks(config: ComposeConfig): Set<string> {
  const declared = Object.keys(config.networks ?? {});
  const named = declared.filter((n) => FRONTEND_NETWORK.test(n));
  if (named.length > 0) return new Set(named);
  const all = new Set([...declared, 'default']);
  return new Set([...all].filter((n) => config.networks?.[n]?.internal !== true));
}

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);

/** Ports published on every interface, as `8080` or `5432/udp` (short-syntax strings parsed too). */
export function publishedOnAllInterfaces(service: ComposeService): string[] {
  const out: string[] = [];
  for (const port of service.ports ?? []) {
    if (typeof port === 'object' && port !== null) {
      if (!ALL_INTERFACES.has(port.host_ip ?? '')) continue;
      const shown =
        port.published !== undefined && port.published !== '' ? port.published : `(random):${port.target}`;
      out.push(`${shown}${port.protocol && port.protocol !== 'tcp' ? `/${port.protocol}` : ''}`);
    } else {
      // Short syntax: [IP:]HOST:CONTAINER[/proto] or CONTAINER; an IPv6 address comes bracketed.
      const text = String(port);
      const ip = /^\[([^\]]*)\]:/.exec(text)?.[1] ?? (text.split(':').length === 3 ? text.split(':')[0] : '');
      if (ALL_INTERFACES.has(ip ?? '')) out.push(text);
    }
  }
  return out;
}

export function positiveLimit(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  const n = Number.parseFloat(String(value));
  return Number.isFinite(n) ? n > 0 : true;
}

const SECRET_NAME = /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY/i;
/** Names that carry the word but hold no secret: a path to one, or a setting about it. */
const NOT_A_SECRET = /_(FILE|PATH|DIR|TTL|TIMEOUT|EXPIRY|EXPIRES|LENGTH|ENABLED)$/i;

/** A variable that holds a secret as a literal value (a `_FILE` name or a /run/secrets path does not). */
export function isLiteralSecret(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (!SECRET_NAME.test(name) || NOT_A_SECRET.test(name)) return false;
  return !value.includes('/run/secrets/');
}

export function healthcheckDisabled(service: ComposeService): boolean {
  const hc = service.healthcheck;
  if (!hc) return false;
  const test = Array.isArray(hc.test) ? hc.test[0] : hc.test;
  return hc.disable === true || (typeof test === 'string' && test.toUpperCase() === 'NONE');
}

export function hasComposeHealthcheck(service: ComposeService): boolean {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.length > 0 : typeof test === 'string' && test !== '';
}
