// Runs this repository's workflows with nektos/act in host mode (`-P ubuntu-latest=-self-hosted`)
// against the lab: the steps run on this machine, with the lab's registry, SSH hosts and Trivy.
// act comes from scripts/tools.sh (pinned; it writes .lab/tools/env).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { labDir, parseEnvFile, repoRoot } from '../scripts/lab/lab.js';

/** The paths and pinned versions scripts/tools.sh installed. */
export function tools(): Record<string, string> {
  execFileSync('bash', [join(repoRoot, 'scripts/tools.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return parseEnvFile(readFileSync(join(labDir, 'tools/env'), 'utf8'));
}

/** The only third-party action the workflows use besides actions/checkout (which act replaces by a copy of the workdir). */
export const UPLOAD_SARIF = {
  repo: 'github/codeql-action',
  sha: '5d4e8d1aca955e8d8589aabd499c5cae939e33c7',
};

/**
 * A git repository holding the working tree as it is now (tracked and untracked files that are not
 * ignored, committed or not; a tracked file missing from the working tree is taken from HEAD), on branch `main`, with an `origin` on GitHub that is never contacted
 * (act names the repository after it). It is both the workspace act runs in and, through the
 * BERTH_GIT_URL variable, the Berth the reusable workflows check out.
 */
export function snapshotRepo(
  parent: string,
  repository: string,
  extraFiles: Record<string, string> = {},
): string {
  const dir = join(parent, 'repo');
  mkdirSync(dir);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '');
  for (const file of files) {
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    if (existsSync(join(repoRoot, file))) cpSync(join(repoRoot, file), to);
    // A tracked file missing from the working tree (e.g. a dist/ being rebuilt): the committed one.
    else
      writeFileSync(to, execFileSync('git', ['show', `HEAD:${file}`], { cwd: repoRoot, maxBuffer: 1 << 30 }));
  }
  for (const [file, text] of Object.entries(extraFiles)) writeFileSync(join(dir, file), text);
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=berth-e2e', '-c', 'user.email=e2e@berth.invalid', 'commit', '-q', '-m', 'snapshot');
  git('remote', 'add', 'origin', `https://github.com/${repository}.git`);
  // What actions/checkout with fetch-depth: 0 leaves on GitHub: origin's default branch as a
  // remote-tracking ref (berth-deploy.yml checks a `commit` against it). After a new commit on
  // `main`, run this again: it stands for the push.
  git('update-ref', 'refs/remotes/origin/main', 'HEAD');
  return dir;
}

/**
 * A stand-in for github/codeql-action/upload-sarif at the pinned SHA (mapped with
 * --local-repository): copies the SARIF file it is given to `outDir`, so tests see what would
 * have been uploaded.
 */
export function uploadSarifStub(parent: string, outDir: string): string {
  const dir = join(parent, 'codeql-action');
  mkdirSync(join(dir, 'upload-sarif'), { recursive: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(dir, 'upload-sarif/action.yml'),
    [
      'name: upload-sarif stand-in',
      'description: Copies the SARIF file for the test instead of uploading it.',
      'inputs:',
      '  sarif_file: { description: SARIF file, required: true }',
      '  category: { description: category, required: false }',
      'runs:',
      '  using: composite',
      '  steps:',
      '    - shell: bash',
      '      env: { SARIF: "${{ inputs.sarif_file }}" }',
      `      run: cp "$SARIF" ${JSON.stringify(outDir)}/`,
      '',
    ].join('\n'),
  );
  return dir;
}

/** A dotenv file as act reads it (godotenv): single-quoted values are literal and may span lines. */
export function writeDotenv(file: string, values: Record<string, string>): void {
  const lines = Object.entries(values).map(([key, value]) => {
    if (value.includes("'")) throw new Error(`${key}: a value with ' cannot be written literally`);
    return `${key}='${value}'`;
  });
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export interface ActRun {
  code: number;
  output: string;
}

export interface ActOptions {
  act: string;
  repo: string;
  event: string;
  workflow: string;
  payload: object;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  /** folder for act's cache server, event and secret files */
  work: string;
  /** act's action cache, where it also makes each job's RUNNER_TEMP: see shortDir() */
  actionCache: string;
  sarifStub: string;
  inputs?: Record<string, string>;
  log?: string;
  /** act's `-P label=image` mappings; default every `ubuntu-latest` job on this host */
  platforms?: string[];
  /** more act arguments (e.g. `-j job`) */
  args?: string[];
}

/** Runs one workflow of `repo` with act in host mode; never throws on a failed run. */
export function runAct(o: ActOptions): Promise<ActRun> {
  const eventFile = join(o.work, `${o.event}.json`);
  const secretFile = join(o.work, 'secrets.env');
  const varFile = join(o.work, 'vars.env');
  writeFileSync(eventFile, JSON.stringify(o.payload));
  writeDotenv(secretFile, o.secrets);
  writeDotenv(varFile, o.vars);
  const args = [
    o.event,
    '--workflows',
    join('.github/workflows', o.workflow),
    '--eventpath',
    eventFile,
    '--secret-file',
    secretFile,
    '--var-file',
    varFile,
    '--local-repository',
    `${UPLOAD_SARIF.repo}@${UPLOAD_SARIF.sha}=${o.sarifStub}`,
    '--action-cache-path',
    o.actionCache,
    '--cache-server-addr',
    '127.0.0.1',
    '--cache-server-port',
    '0',
    '--cache-server-path',
    join(o.work, 'act-cache-server'),
    '--env-file',
    join(o.work, 'no.env'),
    '--input-file',
    join(o.work, 'no.input'),
  ];
  for (const p of o.platforms ?? ['ubuntu-latest=-self-hosted']) args.push('-P', p);
  for (const [k, v] of Object.entries(o.inputs ?? {})) args.push('--input', `${k}=${v}`);
  args.push(...(o.args ?? []));
  // Node 24 (the `node` dev dependency) first: act runs `node24` actions with the host's `node`.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
    ACT_DISABLE_VERSION_CHECK: '1',
  };
  // The runner's cache service is act's own (v1 API); nothing of a test's v2 settings may leak in.
  for (const k of [
    'ACTIONS_CACHE_SERVICE_V2',
    'ACTIONS_RESULTS_URL',
    'ACTIONS_CACHE_URL',
    'ACTIONS_RUNTIME_TOKEN',
  ])
    delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(o.act, args, { cwd: o.repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (o.log) writeFileSync(o.log, output);
      resolve({ code: code ?? -1, output });
    });
  });
}

/**
 * A new directory with a path of 7 characters (`/tmp/bX`). act puts each job's RUNNER_TEMP at
 * `<action cache>/<16 hex>/tmp`, and Berth's SSH sessions put their ControlMaster socket at
 * `$RUNNER_TEMP/berth-ssh-XXXXXX/cm-<40 hex>.<16 random>`, 99 characters after the cache path:
 * a Unix socket path has at most 107, so the cache path may have at most 8.
 */
export function shortDir(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (const c of chars) {
    const dir = `/tmp/b${c}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error('no free /tmp/b? directory for act (remove stale ones)');
}

export function actWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'berth-act-'));
}
