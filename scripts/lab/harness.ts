// Runs an action the way the GitHub runner does: `node <action>/dist/index.js` on Node 24 with
// INPUT_* variables (defaults from action.yml filled in), the runner's file commands
// (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE, GITHUB_STEP_SUMMARY, GITHUB_PATH), RUNNER_TEMP,
// RUNNER_TOOL_CACHE and the github context variables; then, where action.yml has one, the post
// step with the main step's state as STATE_*. Integration tests of every action go through it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from './lab.js';
import { readStepOutput, type StepOutput } from './step-output.js';

interface ActionInputSpec {
  description?: string;
  required?: boolean;
  default?: string | number | boolean;
}

export interface ActionMetadata {
  name: string;
  inputs?: Record<string, ActionInputSpec>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string; pre?: string; post?: string; 'post-if'?: string; 'pre-if'?: string };
}

export interface RunOptions {
  /** input values by their action.yml names; unset inputs get action.yml defaults */
  inputs?: Record<string, string | number | boolean | undefined>;
  /** extra environment for the step (the runner's `env:`) */
  env?: Record<string, string>;
  eventName?: string;
  /** the event payload written to GITHUB_EVENT_PATH */
  event?: unknown;
  sha?: string;
  ref?: string;
  repository?: string;
  actor?: string;
  workspace?: string;
  /** shared across runs to test the tool cache (a fresh one per run otherwise) */
  toolCache?: string;
  /** where RUNNER_TEMP and the file-command files live (a fresh directory otherwise) */
  runnerDir?: string;
  /** run the post step (default: when action.yml declares one) */
  post?: boolean;
  timeoutMs?: number;
}

export interface StepResult extends StepOutput {
  exitCode: number;
}

export interface ActionResult extends StepResult {
  outputs: Record<string, string>;
  state: Record<string, string>;
  /** variables exported through GITHUB_ENV */
  exportedEnv: Record<string, string>;
  addedPath: string[];
  summary: string;
  post?: StepResult;
  runnerDir: string;
}

export function actionDir(name: string): string {
  return name.includes('/') ? name : join(repoRoot, 'actions', name);
}

export function readActionMetadata(dir: string): ActionMetadata {
  const file = ['action.yml', 'action.yaml'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`no action.yml in ${dir}`);
  return parseYaml(readFileSync(file, 'utf8')) as ActionMetadata;
}

/** The runner's INPUT_ variable name: spaces to underscores, upper-cased, hyphens kept. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Parses a GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE file: `k=v` lines and `k<<DELIM` heredocs. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq === -1 || heredoc[1]!.length < eq)) {
      const [, key, delim] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`file command ${key}: heredoc delimiter ${delim} never closed`);
      out[key!] = body.join('\n');
    } else if (eq > 0) {
      out[line.slice(0, eq)] = line.slice(eq + 1);
    } else {
      throw new Error(`malformed file command line: ${line}`);
    }
  }
  return out;
}

/** Evaluates the few `${{ }}` expressions that action.yml defaults use. */
function expandDefault(value: string, ctx: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, expr: string) => {
    if (!(expr in ctx)) throw new Error(`harness: unsupported expression in an action.yml default: ${expr}`);
    return ctx[expr]!;
  });
}

function evalCondition(cond: string | undefined, mainSucceeded: boolean): boolean {
  const c = (cond ?? 'always()').replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  if (c === 'always()' || c === '!cancelled()') return true;
  if (c === 'success()') return mainSucceeded;
  if (c === 'failure()') return !mainSucceeded;
  throw new Error(`harness: unsupported post-if: ${cond}`);
}

function spawnStep(
  script: string,
  env: Record<string, string>,
  cwd: string,
  timeoutMs: number,
): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const { log, masks, errors, warnings } = readStepOutput(Buffer.concat(chunks).toString('utf8'));
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        log: log + (signal ? `\n[harness: killed by ${signal} after ${timeoutMs} ms]` : ''),
        masks,
        errors,
        warnings,
      });
    });
  });
}

const readIf = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');

export async function runAction(name: string, opts: RunOptions = {}): Promise<ActionResult> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24)
    throw new Error(`harness: actions run on node24; tests are running on Node ${process.version}`);
  const dir = actionDir(name);
  const meta = readActionMetadata(dir);
  if (meta.runs.using !== 'node24') throw new Error(`${dir}/action.yml: runs.using is ${meta.runs.using}`);

  const runnerDir = opts.runnerDir ?? mkdtempSync(join(tmpdir(), 'berth-runner-'));
  const temp = join(runnerDir, 'temp');
  const toolCache = opts.toolCache ?? join(runnerDir, 'tool-cache');
  const workspace = opts.workspace ?? repoRoot;
  for (const d of [temp, toolCache]) mkdirSync(d, { recursive: true });
  const files = {
    GITHUB_OUTPUT: join(runnerDir, 'output'),
    GITHUB_ENV: join(runnerDir, 'env'),
    GITHUB_STATE: join(runnerDir, 'state'),
    GITHUB_STEP_SUMMARY: join(runnerDir, 'summary.md'),
    GITHUB_PATH: join(runnerDir, 'path'),
    GITHUB_EVENT_PATH: join(runnerDir, 'event.json'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(opts.event ?? {}));

  const github = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: opts.sha ?? '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: opts.ref ?? 'refs/heads/main',
    GITHUB_REPOSITORY: opts.repository ?? 'berth-lab/example',
    GITHUB_REPOSITORY_OWNER: (opts.repository ?? 'berth-lab/example').split('/')[0]!,
    GITHUB_ACTOR: opts.actor ?? 'lab-tester',
    GITHUB_EVENT_NAME: opts.eventName ?? 'push',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'lab',
    GITHUB_JOB: 'lab',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'berth-lab',
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: toolCache,
  };
  const ctx: Record<string, string> = {
    'github.token': opts.env?.GITHUB_TOKEN ?? '',
    'github.workspace': workspace,
    'github.sha': github.GITHUB_SHA,
    'github.ref': github.GITHUB_REF,
    'github.repository': github.GITHUB_REPOSITORY,
    'github.actor': github.GITHUB_ACTOR,
    'runner.temp': temp,
    'runner.os': 'Linux',
  };

  const inputs: Record<string, string> = {};
  for (const [key, spec] of Object.entries(meta.inputs ?? {})) {
    if (spec.default !== undefined) inputs[inputEnvName(key)] = expandDefault(String(spec.default), ctx);
  }
  for (const [key, value] of Object.entries(opts.inputs ?? {})) {
    if (!(meta.inputs && key in meta.inputs)) throw new Error(`harness: ${name} has no input "${key}"`);
    if (value !== undefined) inputs[inputEnvName(key)] = String(value);
  }

  // A clean environment, as on a runner: nothing of this test process's INPUT_/GITHUB_/STATE_ leaks in.
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'DOCKER_CONFIG', 'DOCKER_HOST', 'RUNNER_DEBUG']) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  const env = { ...base, ...github, ...files, ...opts.env, ...inputs };
  const timeoutMs = opts.timeoutMs ?? 15 * 60_000;

  const main = await spawnStep(join(dir, meta.runs.main), env, workspace, timeoutMs);
  const state = parseFileCommands(readIf(files.GITHUB_STATE));
  const result: ActionResult = {
    ...main,
    outputs: parseFileCommands(readIf(files.GITHUB_OUTPUT)),
    state,
    exportedEnv: parseFileCommands(readIf(files.GITHUB_ENV)),
    addedPath: readIf(files.GITHUB_PATH).split('\n').filter(Boolean),
    summary: '',
    runnerDir,
  };

  if (meta.runs.post && (opts.post ?? true) && evalCondition(meta.runs['post-if'], main.exitCode === 0)) {
    const stateEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(state)) stateEnv[`STATE_${k}`] = v;
    writeFileSync(files.GITHUB_STATE, '');
    result.post = await spawnStep(join(dir, meta.runs.post), { ...env, ...stateEnv }, workspace, timeoutMs);
  }
  result.summary = readIf(files.GITHUB_STEP_SUMMARY);
  return result;
}
