// The production-readiness audit of a compose stack: the rules (audit-rules.ts) checked over the
// merged configuration (compose-service.ts) and what each service's image says about itself, each
// finding attributed to the compose file (and line) it comes from.
import { isRootUser, type ImageFacts } from '../../../lib/tools/docker.js';
import { AUDIT_RULES, type AuditRule } from './audit-rules.js';
import { ComposeLocator, type ComposeSource, type SourceLocation } from './compose-source.js';
import {
  environmentEntries,
  frontendNetworks,
  hasComposeHealthcheck,
  healthcheckDisabled,
  isDatabase,
  isLiteralSecret,
  positiveLimit,
  publishedOnAllInterfaces,
  serviceNetworks,
  type ComposeConfig,
  type ComposeService,
} from './compose-service.js';
import type { Finding } from './finding.js';

export interface AuditOptions {
  /** the stack's compose files in the order given to compose, to attribute findings */
  sources?: readonly ComposeSource[];
  /** by the image reference as the merged configuration writes it (`services.*.image`) */
  images?: Readonly<Record<string, ImageFacts>>;
  /** the page that documents the rules; each finding links to `<page>#<rule id in lower case>` */
  docsUrl?: string;
}

interface Hit {
  rule: AuditRule;
  message: string;
  /** the key under the service that the rule is about, when a compose file sets it */
  keyPath: (string | number)[];
}

/** What every check of one service may look at. */
interface ServiceContext {
  name: string;
  service: ComposeService;
  config: ComposeConfig;
  /** what the service's image says about itself, when it is known */
  image?: ImageFacts;
  /** `image <ref>`, for messages */
  imageName: string;
}

const R = AUDIT_RULES;
const LIMITS = ['deploy', 'resources', 'limits'];

/** C001: the compose user wins over the image's USER. */
function checkUser({ name, service: s, image, imageName }: ServiceContext): Hit[] {
  const hit = (message: string): Hit[] => [{ rule: R.nonRoot, message, keyPath: ['user'] }];
  if (s.user !== undefined && String(s.user).trim() !== '') {
    return isRootUser(String(s.user)) ? hit(`Service ${name} runs as root (user: "${s.user}")`) : [];
  }
  if (!image) {
    return hit(
      `Service ${name} sets no user and the user of ${imageName} is not known, so it may run as root`,
    );
  }
  if (!isRootUser(image.user)) return [];
  const shown = image.user.trim() === '' ? 'has no USER' : `has USER ${image.user}`;
  return hit(`Service ${name} sets no user and ${imageName} ${shown}, so it runs as root`);
}

/** C002 */
function checkHealthcheck({ name, service: s, image, imageName }: ServiceContext): Hit[] {
  const hit = (message: string): Hit[] => [{ rule: R.healthcheck, message, keyPath: ['healthcheck'] }];
  if (healthcheckDisabled(s)) return hit(`Service ${name} disables its health check`);
  if (hasComposeHealthcheck(s) || image?.healthcheck) return [];
  const why = image ? `${imageName} has no HEALTHCHECK` : `the health check of ${imageName} is not known`;
  return hit(`Service ${name} has no health check in the compose file and ${why}`);
}

/** C003 */
function checkRestart({ name, service: s }: ServiceContext): Hit[] {
  const policy = s.deploy?.restart_policy;
  const restartOk =
    (s.restart !== undefined && s.restart !== 'no') ||
    (policy !== undefined && policy !== null && (policy.condition ?? 'any') !== 'none');
  if (restartOk) return [];
  const set = s.restart === 'no' ? ' (restart: "no")' : '';
  return [{ rule: R.restart, message: `Service ${name} has no restart policy${set}`, keyPath: ['restart'] }];
}

/** C004, C005 */
function checkLimits({ name, service: s }: ServiceContext): Hit[] {
  const hits: Hit[] = [];
  const limits = s.deploy?.resources?.limits ?? undefined;
  if (!positiveLimit(limits?.memory) && !positiveLimit(s.mem_limit)) {
    hits.push({ rule: R.memory, message: `Service ${name} has no memory limit`, keyPath: LIMITS });
  }
  if (!positiveLimit(limits?.cpus) && !positiveLimit(s.cpus)) {
    hits.push({ rule: R.cpu, message: `Service ${name} has no CPU limit`, keyPath: LIMITS });
  }
  return hits;
}

/** C006 */
function checkNoNewPrivileges({ name, service: s }: ServiceContext): Hit[] {
  const opts = (s.security_opt ?? []).map((o) => o.replace(/\s+/g, '').toLowerCase());
  if (opts.some((o) => /^no-new-privileges([:=]true)?$/.test(o))) return [];
  const off = opts.some((o) => o.startsWith('no-new-privileges'));
  const message = off
    ? `Service ${name} turns no-new-privileges off in security_opt`
    : `Service ${name} does not set no-new-privileges in security_opt`;
  return [{ rule: R.noNewPrivileges, message, keyPath: ['security_opt'] }];
}

/** C007 */
function checkReadOnly({ name, service: s }: ServiceContext): Hit[] {
  if (s.read_only === true) return [];
  return [
    { rule: R.readOnly, message: `Service ${name} has a writable root filesystem`, keyPath: ['read_only'] },
  ];
}

/** C008: the value is never part of the message. */
function checkEnvironment({ name, service: s }: ServiceContext): Hit[] {
  return environmentEntries(s)
    .filter(([key, value]) => isLiteralSecret(key, value))
    .map(([key]) => ({
      rule: R.envSecret,
      message: `Service ${name} sets ${key} to a literal value in environment (value not shown)`,
      keyPath: ['environment', key],
    }));
}

/** C009 */
function checkPublished({ name, service: s, config }: ServiceContext): Hit[] {
  const database = isDatabase(name, s);
  const frontend = frontendNetworks(config);
  const onFrontend = s.network_mode === 'host' || serviceNetworks(s).some((n) => frontend.has(n));
  if (!database && onFrontend) return [];
  const what = database ? `${name} (a database)` : `${name} (on no frontend network)`;
  if (s.network_mode === 'host') {
    return [
      {
        rule: R.internalPublished,
        message: `Service ${what} uses network_mode: host, which exposes every port it listens on`,
        keyPath: ['network_mode'],
      },
    ];
  }
  const ports = publishedOnAllInterfaces(s);
  if (ports.length === 0) return [];
  return [
    {
      rule: R.internalPublished,
      message: `Service ${what} publishes ${ports.join(', ')} on all interfaces`,
      keyPath: ['ports'],
    },
  ];
}

/** C010 */
function checkDatabaseNetworks({ name, service: s, config }: ServiceContext): Hit[] {
  if (!isDatabase(name, s)) return [];
  const hits: Hit[] = [];
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
  return hits;
}

const CHECKS = [
  checkUser,
  checkHealthcheck,
  checkRestart,
  checkLimits,
  checkNoNewPrivileges,
  checkReadOnly,
  checkEnvironment,
  checkPublished,
  checkDatabaseNetworks,
];

function checkService(
  name: string,
  service: ComposeService,
  config: ComposeConfig,
  facts: AuditOptions['images'],
): Hit[] {
  const image = service.image ? facts?.[service.image] : undefined;
  const imageName = service.image ? `image ${service.image}` : 'its image (no image: set)';
  const context: ServiceContext = { name, service, config, image, imageName };
  return CHECKS.flatMap((check) => check(context));
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
