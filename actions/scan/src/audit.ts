// The production-readiness audit of a compose stack: rules over the merged configuration
// (`docker compose config --format json`) and what each service's image says about itself,
// each finding attributed to the compose file (and line) it comes from.
import { isRootUser, parseImageRef, type ImageFacts } from '../../../lib/tools/docker.js';
import { ComposeLocator, type ComposeSource, type SourceLocation } from './compose-source.js';
import type { Finding, Severity } from './finding.js';

export interface AuditRule {
  id: string;
  severity: Severity;
  title: string;
  remediation: string;
}

function rule(id: string, severity: Severity, title: string, remediation: string): AuditRule {
  return { id, severity, title, remediation };
}

export const AUDIT_RULES = {
  nonRoot: rule(
    'BERTH-C001',
    'HIGH',
    'Services run as a non-root user',
    "Set user: to a non-root UID:GID (e.g. user: '10001:10001') in the compose file, or a non-root USER in the image",
  ),
  healthcheck: rule(
    'BERTH-C002',
    'HIGH',
    'Services have a health check',
    'Add a healthcheck: whose test proves the service answers; compose up --wait and berth/deploy wait for it',
  ),
  restart: rule(
    'BERTH-C003',
    'HIGH',
    'Services have a restart policy',
    'Set restart: unless-stopped (or always, or deploy.restart_policy) so the service comes back after a crash or reboot',
  ),
  memory: rule(
    'BERTH-C004',
    'HIGH',
    'Services have a memory limit',
    'Set deploy.resources.limits.memory (or mem_limit), e.g. 512M, so one service cannot exhaust the host',
  ),
  cpu: rule(
    'BERTH-C005',
    'MEDIUM',
    'Services have a CPU limit',
    "Set deploy.resources.limits.cpus (or cpus), e.g. '1.0', so one service cannot starve the others",
  ),
  noNewPrivileges: rule(
    'BERTH-C006',
    'HIGH',
    'Services cannot gain privileges (no-new-privileges)',
    'Add security_opt: [no-new-privileges:true] so setuid binaries cannot raise privileges',
  ),
  readOnly: rule(
    'BERTH-C007',
    'MEDIUM',
    'Services have a read-only root filesystem',
    'Set read_only: true and mount tmpfs (e.g. /tmp) or volumes where the service must write',
  ),
  envSecret: rule(
    'BERTH-C008',
    'CRITICAL',
    'No secrets as literal values in environment',
    'Pass the secret as a compose secret (secrets:, mounted at /run/secrets/NAME) and set NAME_FILE=/run/secrets/NAME, then rotate the exposed value',
  ),
  internalPublished: rule(
    'BERTH-C009',
    'HIGH',
    'Databases and internal services are not published on all interfaces',
    'Remove the ports: entry (other services reach it over the compose network) or bind it to 127.0.0.1',
  ),
  backendInternal: rule(
    'BERTH-C010',
    'HIGH',
    'Networks of databases are internal',
    'Attach databases only to a network with internal: true, shared with the services that need them',
  ),
} as const satisfies Record<string, AuditRule>;

export type AuditRuleKey = keyof typeof AUDIT_RULES;

export interface AuditOptions {
  /** the stack's compose files in the order given to compose, to attribute findings */
  sources?: readonly ComposeSource[];
  /** by the image reference as the merged configuration writes it (`services.*.image`) */
  images?: Readonly<Record<string, ImageFacts>>;
  /** the page that documents the rules; each finding links to `<page>#<rule id in lower case>` */
  docsUrl?: string;
}

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

// ---- what a service is -----------------------------------------------------------------------

const DATABASE_IMAGE = /(postgres|postgis|mysql|mariadb|mongo|redis|valkey|memcached)/i;
const DATABASE_NAME = /^(db|database)$|[-_](db|database)$|^(db|database)[-_]/i;
const DATABASE_ENV = /^(POSTGRES_|MYSQL_|MARIADB_|MONGO_INITDB_)/;
const FRONTEND_NETWORK = /front|public|edge|proxy|ingress|dmz|web/i;

function environmentEntries(service: ComposeService): [string, string | undefined][] {
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

function positiveLimit(value: unknown): boolean {
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

function healthcheckDisabled(service: ComposeService): boolean {
  const hc = service.healthcheck;
  if (!hc) return false;
  const test = Array.isArray(hc.test) ? hc.test[0] : hc.test;
  return hc.disable === true || (typeof test === 'string' && test.toUpperCase() === 'NONE');
}

function hasComposeHealthcheck(service: ComposeService): boolean {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.length > 0 : typeof test === 'string' && test !== '';
}

// ---- the rules -------------------------------------------------------------------------------

interface Hit {
  rule: AuditRule;
  message: string;
  /** the key under the service that the rule is about, when a compose file sets it */
  keyPath: (string | number)[];
}

const LIMITS = ['deploy', 'resources', 'limits'];

function checkService(
  name: string,
  s: ComposeService,
  config: ComposeConfig,
  facts: AuditOptions['images'],
): Hit[] {
  const hits: Hit[] = [];
  const R = AUDIT_RULES;
  const image = s.image;
  const imageFacts = image ? facts?.[image] : undefined;
  const imageName = image ? `image ${image}` : 'its image (no image: set)';

  // C001: the compose user wins over the image's USER.
  if (s.user !== undefined && String(s.user).trim() !== '') {
    if (isRootUser(String(s.user))) {
      hits.push({
        rule: R.nonRoot,
        message: `Service ${name} runs as root (user: "${s.user}")`,
        keyPath: ['user'],
      });
    }
  } else if (!imageFacts) {
    hits.push({
      rule: R.nonRoot,
      message: `Service ${name} sets no user and the user of ${imageName} is not known, so it may run as root`,
      keyPath: ['user'],
    });
  } else if (isRootUser(imageFacts.user)) {
    const shown = imageFacts.user.trim() === '' ? 'has no USER' : `has USER ${imageFacts.user}`;
    hits.push({
      rule: R.nonRoot,
      message: `Service ${name} sets no user and ${imageName} ${shown}, so it runs as root`,
      keyPath: ['user'],
    });
  }

  // C002
  if (healthcheckDisabled(s)) {
    hits.push({
      rule: R.healthcheck,
      message: `Service ${name} disables its health check`,
      keyPath: ['healthcheck'],
    });
  } else if (!hasComposeHealthcheck(s) && !imageFacts?.healthcheck) {
    const why = imageFacts
      ? `${imageName} has no HEALTHCHECK`
      : `the health check of ${imageName} is not known`;
    hits.push({
      rule: R.healthcheck,
      message: `Service ${name} has no health check in the compose file and ${why}`,
      keyPath: ['healthcheck'],
    });
  }

  // C003
  const policy = s.deploy?.restart_policy;
  const restartOk =
    (s.restart !== undefined && s.restart !== 'no') ||
    (policy !== undefined && policy !== null && (policy.condition ?? 'any') !== 'none');
  if (!restartOk) {
    const set = s.restart === 'no' ? ' (restart: "no")' : '';
    hits.push({
      rule: R.restart,
      message: `Service ${name} has no restart policy${set}`,
      keyPath: ['restart'],
    });
  }

  // C004, C005
  const limits = s.deploy?.resources?.limits ?? undefined;
  if (!positiveLimit(limits?.memory) && !positiveLimit(s.mem_limit)) {
    hits.push({ rule: R.memory, message: `Service ${name} has no memory limit`, keyPath: LIMITS });
  }
  if (!positiveLimit(limits?.cpus) && !positiveLimit(s.cpus)) {
    hits.push({ rule: R.cpu, message: `Service ${name} has no CPU limit`, keyPath: LIMITS });
  }

  // C006
  const opts = (s.security_opt ?? []).map((o) => o.replace(/\s+/g, '').toLowerCase());
  if (!opts.some((o) => /^no-new-privileges([:=]true)?$/.test(o))) {
    const off = opts.some((o) => o.startsWith('no-new-privileges'));
    hits.push({
      rule: R.noNewPrivileges,
      message: off
        ? `Service ${name} turns no-new-privileges off in security_opt`
        : `Service ${name} does not set no-new-privileges in security_opt`,
      keyPath: ['security_opt'],
    });
  }

  // C007
  if (s.read_only !== true) {
    hits.push({
      rule: R.readOnly,
      message: `Service ${name} has a writable root filesystem`,
      keyPath: ['read_only'],
    });
  }

  // C008: the value is never part of the message.
  for (const [key, value] of environmentEntries(s)) {
    if (isLiteralSecret(key, value)) {
      hits.push({
        rule: R.envSecret,
        message: `Service ${name} sets ${key} to a literal value in environment (value not shown)`,
        keyPath: ['environment', key],
      });
    }
  }

  // C009
  const database = isDatabase(name, s);
  const frontend = frontendNetworks(config);
  const onFrontend = s.network_mode === 'host' || serviceNetworks(s).some((n) => frontend.has(n));
  if (database || !onFrontend) {
    const what = database ? `${name} (a database)` : `${name} (on no frontend network)`;
    if (s.network_mode === 'host') {
      hits.push({
        rule: R.internalPublished,
        message: `Service ${what} uses network_mode: host, which exposes every port it listens on`,
        keyPath: ['network_mode'],
      });
    } else {
      const ports = publishedOnAllInterfaces(s);
      if (ports.length > 0) {
        hits.push({
          rule: R.internalPublished,
          message: `Service ${what} publishes ${ports.join(', ')} on all interfaces`,
          keyPath: ['ports'],
        });
      }
    }
  }

  // C010
  if (database) {
    for (const network of serviceNetworks(s)) {
      const spec = config.networks?.[network];
      if (spec?.internal === true) continue;
      const why = spec?.external ? 'an external network, not declared internal here' : 'not internal: true';
      hits.push({
        rule: R.backendInternal,
        message: `Service ${name} (a database) is attached to network ${network}, which is ${why}`,
        keyPath: ['networks'],
      });
    }
  }
  return hits;
}

/**
 * Audits a merged compose configuration. Findings come sorted by service, then rule; each names the
 * first compose file that mentions the service, or the last one that sets the value at fault.
 */
export function auditCompose(config: ComposeConfig, options: AuditOptions = {}): Finding[] {
  const locator = new ComposeLocator(options.sources ?? []);
  const findings: Finding[] = [];
  for (const name of Object.keys(config.services).sort()) {
    const hits = checkService(name, config.services[name]!, config, options.images);
    hits.sort((a, b) => a.rule.id.localeCompare(b.rule.id));
    for (const hit of hits) {
      const where: SourceLocation = locator.locate(name, hit.keyPath);
      findings.push({
        kind: 'audit',
        id: hit.rule.id,
        severity: hit.rule.severity,
        target: where.file ?? 'compose',
        class: 'compose',
        type: 'compose',
        title: hit.message,
        ruleTitle: hit.rule.title,
        ruleDescription: `${hit.rule.title}. ${hit.rule.remediation}.`,
        remediation: hit.rule.remediation,
        url: options.docsUrl ? `${options.docsUrl.split('#')[0]}#${hit.rule.id.toLowerCase()}` : undefined,
        file: where.file,
        line: where.line,
        service: name,
      });
    }
  }
  return findings;
}
