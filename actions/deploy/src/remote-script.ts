// The script that runs on the host, in the one SSH connection of a deploy: the shared host-script
// protocol (lib/ssh/host-script.ts: prelude, values as quoted assignments, `::berth::` report lines)
// around a static body, composed here from the snippets in ./script in the order they run. Nothing
// from the inputs is ever parsed as shell: every value is one of the assignments below.
import { renderHostScript, type HostValues } from '../../../lib/ssh/host-script.js';
import { HOOK_FUNCTIONS, POST_DEPLOY, PRE_DEPLOY } from './script/hooks.js';
import { DONE, FAILURE, LOCK, START } from './script/release.js';
import { FILES } from './script/files.js';
import { RETENTION } from './script/retention.js';
import { SERVICES } from './script/services.js';
import { ROLLOUT } from './script/rollout.js';
import { SHARED } from './script/shared.js';
import { CONFIG, PROBE, PULL, UP } from './script/stages.js';
import { SWARM } from './script/swarm.js';
import { SWITCH } from './script/switch.js';
import { AFTER_SWITCH, BRING_BACK, GUARD } from './script/modes.js';
import { AM_FUNCTIONS, BAKE } from './script/gate.js';
import { gateValues, type GateInputs } from './gate.js';
import { redactUrl, type Probe } from './probes.js';
import { hookValues } from './hooks.js';
import type { DeployMode } from './modes/mode.js';

export interface DeployScriptParams {
  /** the orchestrator (mode rollback: replaced on the host by the one its target was deployed with) */
  mode: DeployMode;
  /** deploy: RELEASE is the upload, moved into place; rollback: RELEASE names the upload of this
   * run's probes and login, and the kept release `target` is brought up */
  operation: 'deploy' | 'rollback';
  /** mode rollback: a release id or `previous` */
  target?: string;
  remoteDir: string;
  project: string;
  release: string;
  /** compose files (swarm: the stack file), relative to the release directory, base first */
  composeFiles: string[];
  waitTimeoutSeconds: number;
  lockTimeoutSeconds: number;
  rollback: boolean;
  keepReleases: number;
  prune: boolean;
  /** what the lock file says while this deploy holds it */
  holder: string;
  /** the audit line's fields known before the deploy, as a JSON object text without its closing brace */
  auditPrefix: string;
  probes: Probe[];
  /** relative to the release directory */
  caFile?: string;
  /** an https probe fails below this many days left on the served certificate */
  certMinDays?: number;
  registry?: string;
  registryUser?: string;
  /** the hooks as host values (hooks.ts hookValues) and what the pre-deploy ones depend on */
  hooks?: HostValues;
  /** data directories, relative to <remote-dir>/shared/ */
  dataDirs?: string[];
  /** project files stored at <remote-dir>/files/<id>/ (project/content.ts) */
  storedFiles?: { id: string; path: string }[];
  /** the Alertmanager gate (no alertmanager-url: no bake) */
  gate?: GateInputs;
}

/** The body in the order it runs: start and lock, the functions, then config, pull, up, probe, bake, switch, retention. */
export const DEPLOY_BODY = [
  START,
  BRING_BACK,
  LOCK,
  SERVICES,
  ROLLOUT,
  SWARM,
  FAILURE,
  HOOK_FUNCTIONS,
  AM_FUNCTIONS,
  GUARD,
  SHARED,
  FILES,
  CONFIG,
  PULL,
  PRE_DEPLOY,
  UP,
  PROBE,
  BAKE,
  SWITCH,
  AFTER_SWITCH,
  POST_DEPLOY,
  RETENTION,
  DONE,
].join('\n');

/** The script's variables, each handed over as one quoted assignment. */
export function deployScriptValues(p: DeployScriptParams): HostValues {
  return {
    MODE: p.mode,
    OPERATION: p.operation,
    TARGET: p.target ?? '',
    REMOTE_DIR: p.remoteDir,
    PROJECT: p.project,
    RELEASE: p.release,
    COMPOSE_FILES: p.composeFiles,
    WAIT_TIMEOUT: p.waitTimeoutSeconds,
    LOCK_TIMEOUT: p.lockTimeoutSeconds,
    ROLLBACK: p.rollback,
    KEEP: p.keepReleases,
    PRUNE: p.prune,
    HOLDER: p.holder,
    AUDIT_PREFIX: p.auditPrefix,
    // Each probe's URL itself reaches curl in its config file (probes.ts); these only label it.
    PROBE_URLS: p.probes.map((x) => redactUrl(x.url)),
    PROBE_STATUS: p.probes.map((x) => String(x.status)),
    PROBE_MAX: p.probes.map((x) => String(x.maxLatencyMs ?? '')),
    CA_FILE: p.caFile ?? '',
    CERT_MIN_DAYS: p.certMinDays ?? 14,
    REGISTRY: p.registry ?? '',
    REGISTRY_USER: p.registryUser ?? '',
    ...(p.hooks ?? { ...hookValues('PRE', []), ...hookValues('POST', []), PRE_DEPS: [] }),
    DATA_DIRS: p.dataDirs ?? [],
    FILE_IDS: (p.storedFiles ?? []).map((f) => f.id),
    FILE_PATHS: (p.storedFiles ?? []).map((f) => f.path),
    ...gateValues(p.gate ?? { 'alert-filter': [], 'bake-seconds': 0 }),
  };
}

export function renderDeployScript(p: DeployScriptParams): string {
  return renderHostScript(DEPLOY_BODY, deployScriptValues(p));
}
