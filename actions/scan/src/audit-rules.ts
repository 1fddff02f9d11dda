// The compose audit's rules: id, severity, what a production-ready stack does and how to get there.
// The checks that apply them are audit.ts; the README documents each under its id.
import type { Severity } from './finding.js';

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

/** The checks of monitoring configuration (promtool, amtool), reported and gated like the audit's. */
export const MONITORING_RULES = {
  prometheusConfig: rule(
    'BERTH-M001',
    'CRITICAL',
    'Prometheus configs pass promtool check config',
    'Fix the config where promtool points: Prometheus refuses to start with it, or keeps the old config on a reload, so nothing new is scraped or alerted on',
  ),
  rules: rule(
    'BERTH-M002',
    'CRITICAL',
    'Prometheus rule files pass promtool check rules',
    'Fix the rule where promtool points: Prometheus refuses the whole rule file, so none of its alerts fire',
  ),
  alertmanagerConfig: rule(
    'BERTH-M003',
    'CRITICAL',
    'Alertmanager configs pass amtool check-config',
    'Fix the config where amtool points: Alertmanager refuses to start with it, so no alert reaches anyone',
  ),
  ruleFileUnchecked: rule(
    'BERTH-M004',
    'MEDIUM',
    'Rule files a Prometheus config loads are checked',
    'Mount the rule files from the repository into the Prometheus service (or list them in monitoring-configs) so they are checked before they are deployed',
  ),
  ruleFileMissing: rule(
    'BERTH-M005',
    'HIGH',
    'Every rule_files path names a file',
    'Correct the path or the mount: Prometheus silently loads nothing from a path that names no file, so its alerts never fire (a glob may match nothing: a drop-in directory kept empty)',
  ),
} as const satisfies Record<string, AuditRule>;
