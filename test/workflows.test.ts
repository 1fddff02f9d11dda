// Static checks of the workflows and the actions' metadata: actionlint and zizmor (pinned, from
// scripts/tools.sh) with no findings, Berth's own workflow policy, each action.yml against the
// GitHub Actions metadata schema, the workflows' `with:` against the actions' inputs, and each
// action's README tables against its action.yml. Every check is also run on a broken sample under
// test/fixtures/workflows to show that it fails. Two checks run workflow code without the lab: the
// reusable workflows' berth-ref step (its script, with bash) and ci.yml's runner choice (act's plan).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actWorkDir, runAct, tools } from './act.js';
import { repoRoot } from '../scripts/lab/lab.js';
import { tableNames, tableRows } from './markdown.js';

const exec = promisify(execFile);
const workflowsDir = join(repoRoot, '.github/workflows');
const fixtures = join(repoRoot, 'test/fixtures/workflows');
const workflowFiles = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));
const actions = readdirSync(join(repoRoot, 'actions')).filter((a) =>
  existsSync(join(repoRoot, 'actions', a, 'action.yml')),
);

let tool: Record<string, string>;
beforeAll(() => {
  tool = tools();
}, 1_800_000);

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    // No GitHub token in the environment: zizmor runs its offline audits only.
    const env = { ...process.env };
    for (const k of ['GH_TOKEN', 'GITHUB_TOKEN', 'ZIZMOR_GITHUB_TOKEN']) delete env[k];
    const { stdout, stderr } = await exec(cmd, args, { cwd: repoRoot, env });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

const actionlint = (files: string[]) => run(tool.ACTIONLINT!, ['-no-color', ...files]);
const zizmor = (paths: string[]) =>
  run(tool.ZIZMOR!, [
    '--offline',
    '--no-progress',
    '--config',
    join(repoRoot, '.github/zizmor.yml'),
    ...paths,
  ]);

describe('actionlint', () => {
  it('finds nothing in .github/workflows', async () => {
    const r = await actionlint(workflowFiles.map((f) => join(workflowsDir, f)));
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('reports the broken sample', async () => {
    const r = await actionlint([join(fixtures, 'bad.yml')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/"github.event.pull_request.title" is potentially untrusted/);
    expect(r.out).toMatch(/undefined-job/);
  });
});

describe('zizmor', () => {
  it('finds nothing in .github/workflows (offline)', async () => {
    const r = await zizmor([workflowsDir]);
    expect(r.out).toContain('No findings to report');
    expect(r.code).toBe(0);
  });

  it('reports the broken sample', async () => {
    const r = await zizmor([join(fixtures, 'bad.yml')]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('template-injection');
    expect(r.out).toContain('unpinned-uses');
    expect(r.out).toContain('artipacked');
  });
});

// ---- Berth's workflow policy ------------------------------------------------------------------

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Job = { permissions?: unknown; steps?: Step[]; uses?: string; with?: Record<string, unknown> };
type Workflow = { on?: unknown; permissions?: unknown; jobs: Record<string, Job> };

const PINNED = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/;

/** Policy violations of one workflow file's text (empty when it complies). */
export function policyProblems(text: string): string[] {
  const wf = parse(text) as Workflow;
  const problems: string[] = [];
  if (JSON.stringify(wf.permissions) !== '{}') problems.push('top-level permissions must be {}');
  const lines = text.split('\n');
  for (const [id, job] of Object.entries(wf.jobs)) {
    if (job.permissions === undefined) problems.push(`job ${id}: no permissions`);
    for (const [index, step] of (job.steps ?? []).entries()) {
      const where = `job ${id} step ${index + 1}`;
      if (step.run?.includes('${{')) problems.push(`${where}: \${{ }} inside run: (use env:)`);
      const uses = step.uses;
      if (uses === undefined || uses.startsWith('./') || uses.startsWith('docker://')) continue;
      if (!PINNED.test(uses)) problems.push(`${where}: ${uses} is not pinned to a full commit SHA`);
      else if (!lines.some((l) => l.includes(`uses: ${uses} # v`)))
        problems.push(`${where}: ${uses} has no # vX version comment`);
      if (uses.startsWith('actions/checkout@') && step.with?.['persist-credentials'] !== false)
        problems.push(`${where}: actions/checkout without persist-credentials: false`);
    }
  }
  return problems;
}

describe("Berth's workflow policy", () => {
  it.each(workflowFiles)('%s complies', (file) => {
    expect(policyProblems(readFileSync(join(workflowsDir, file), 'utf8'))).toEqual([]);
  });

  it('flags the broken sample', () => {
    const problems = policyProblems(readFileSync(join(fixtures, 'bad.yml'), 'utf8'));
    expect(problems).toEqual(
      expect.arrayContaining([
        'top-level permissions must be {}',
        'job build: no permissions',
        'job build step 1: actions/checkout@v4 is not pinned to a full commit SHA',
        'job build step 1: actions/checkout without persist-credentials: false',
        'job build step 2: ${{ }} inside run: (use env:)',
      ]),
    );
  });

  it('every third-party action is one of the two the suite needs (act maps them to stand-ins)', () => {
    const used = new Set<string>();
    for (const file of workflowFiles) {
      const wf = parse(readFileSync(join(workflowsDir, file), 'utf8')) as Workflow;
      for (const job of Object.values(wf.jobs))
        for (const step of job.steps ?? [])
          if (step.uses && !step.uses.startsWith('./'))
            used.add(step.uses.split('@')[0]!.split('/').slice(0, 2).join('/'));
    }
    expect([...used].sort()).toEqual(['actions/checkout', 'github/codeql-action']);
  });
});

// ---- the workflows' `with:` against the actions' inputs --------------------------------------

type Input = { description?: string; required?: boolean; default?: string | number | boolean };
type ActionYml = {
  name?: string;
  inputs?: Record<string, Input>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main?: string; post?: string };
};

const actionYml = (a: string) =>
  parse(readFileSync(join(repoRoot, 'actions', a, 'action.yml'), 'utf8')) as ActionYml;

/** Problems of steps that use Berth's actions through the `.berth` checkout: unknown or missing inputs. */
export function withProblems(text: string): string[] {
  const wf = parse(text) as Workflow;
  const problems: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs))
    for (const step of job.steps ?? []) {
      const m = /^\.\/\.berth\/actions\/([\w-]+)$/.exec(step.uses ?? '');
      if (!m) continue;
      if (!actions.includes(m[1]!)) {
        problems.push(`job ${id}: no action ${m[1]}`);
        continue;
      }
      const inputs = actionYml(m[1]!).inputs ?? {};
      for (const key of Object.keys(step.with ?? {}))
        if (!(key in inputs)) problems.push(`job ${id}: ${m[1]} has no input ${key}`);
      for (const [name, input] of Object.entries(inputs))
        if (input.required && !(name in (step.with ?? {}))) problems.push(`job ${id}: ${m[1]} needs ${name}`);
    }
  return problems;
}

describe("the workflows' inputs to Berth's actions", () => {
  it.each(workflowFiles)('%s passes only inputs the actions have, and every required one', (file) => {
    expect(withProblems(readFileSync(join(workflowsDir, file), 'utf8'))).toEqual([]);
  });

  it('flags an unknown and a missing input', () => {
    expect(withProblems(readFileSync(join(fixtures, 'bad.yml'), 'utf8'))).toEqual([
      'job build: build has no input no-such-input',
      'job build: build needs image',
    ]);
  });
});

// ---- action.yml against the metadata schema ---------------------------------------------------

/** The runtimes GitHub's runner accepts in `runs.using` today (runner 2.327.1 added node24). */
const RUNS_USING = ['node20', 'node24', 'composite', 'docker'];

/**
 * Schema errors of an action.yml. The schema is SchemaStore's github-action.json as bundled in
 * @action-validator/core 0.6.0, whose `runs.using` list predates node24: `using` is checked here
 * against the runner's list, and the rest of the file against the schema.
 */
export function actionSchemaErrors(text: string): string[] {
  const using = /^ {2}using:\s*['"]?([\w-]+)['"]?\s*$/m.exec(text)?.[1];
  const errors: string[] = [];
  if (!using || !RUNS_USING.includes(using))
    errors.push(`/runs/using: ${using ?? '(none)'} is not one of ${RUNS_USING.join(', ')}`);
  const forSchema =
    using === 'node24' ? text.replace(/^( {2}using:\s*)['"]?node24['"]?\s*$/m, '$1node20') : text;
  for (const e of validateAction(forSchema).errors)
    errors.push(`${'path' in e ? e.path : ''}: ${e.title}${e.detail ? ` (${e.detail})` : ''}`);
  return errors;
}

describe('action.yml files against the GitHub Actions metadata schema', () => {
  it.each(actions)('actions/%s/action.yml is valid, and its entry points exist', (a) => {
    const text = readFileSync(join(repoRoot, 'actions', a, 'action.yml'), 'utf8');
    expect(actionSchemaErrors(text)).toEqual([]);
    const { runs } = actionYml(a);
    for (const file of [runs.main, runs.post].filter(Boolean))
      expect(existsSync(join(repoRoot, 'actions', a, file!)), file).toBe(true);
  });

  it('rejects a broken action.yml', () => {
    const errors = actionSchemaErrors(readFileSync(join(fixtures, 'bad-action.yml'), 'utf8'));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/inputs\/image: .*descriptin/),
        expect.stringMatching(/^\/runs\/using: node99 is not one of/),
      ]),
    );
  });

  it.each(workflowFiles)('%s is valid against the workflow schema', (file) => {
    expect(validateWorkflow(readFileSync(join(workflowsDir, file), 'utf8')).errors).toEqual([]);
  });
});

// ---- README tables against action.yml --------------------------------------------------------

const codeTokens = (s: string): string[] => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.trim());

/** Tokens one side has and the other lacks, as drift messages. */
function tokenDrift(what: string, yml: string, row: string, ymlAll = yml): string[] {
  const drift: string[] = [];
  for (const t of codeTokens(yml)) if (!row.includes(t)) drift.push(`${what}: README lacks \`${t}\``);
  for (const t of codeTokens(row))
    if (!ymlAll.includes(t)) drift.push(`${what}: README has \`${t}\`, action.yml does not`);
  return drift;
}
const REQUIRED_CELLS = ['(required)', '**required**'];

/**
 * Where an action's README Inputs/Outputs tables disagree with its action.yml: the same names in the
 * same order; `(required)` exactly for required inputs; the default in backticks where action.yml
 * has one (each line of a multi-line default); and descriptions that agree. READMEs may word a
 * description more briefly than action.yml, so "agree" means the same code: every `backticked`
 * token of the action.yml description appears in the README row, and every token of the README row
 * appears in the action.yml description or default (so a renamed value, option, path or default on
 * either side is drift). A default cell where action.yml has none may only repeat what the
 * description says (a computed default such as `~/.cache/...`).
 */
/** The README's names against action.yml's, in order. */
function namesDrift(what: string, names: string[], declared: [string, unknown][]): string[] {
  const yml = declared.map(([n]) => n);
  return names.join(',') === yml.join(',')
    ? []
    : [`${what}: README lists ${names.join(', ')}; action.yml ${yml.join(', ')}`];
}

export function readmeDrift(action: ActionYml, readme: string): string[] {
  const drift: string[] = [];
  const inputs = Object.entries(action.inputs ?? {});
  const rows = tableRows(readme, 'Inputs');
  drift.push(...namesDrift('inputs', tableNames(rows), inputs));
  for (const [name, input] of inputs) {
    const row = rows.find((r) => r[0] === `\`${name}\``);
    if (!row) continue;
    const [, cell = '', description = ''] = row;
    // A default may be said in action.yml's default or in its description, and in either README cell.
    const ymlText = `${input.description ?? ''} ${input.default === undefined ? '' : String(input.default)}`;
    drift.push(...tokenDrift(`input ${name}`, input.description ?? '', `${cell} ${description}`, ymlText));
    if (input.required) {
      if (!REQUIRED_CELLS.includes(cell))
        drift.push(`input ${name}: required in action.yml, README default says "${cell}"`);
    } else if (input.default !== undefined) {
      for (const part of String(input.default).split('\n'))
        if (part.trim() !== '' && !cell.includes(`\`${part.trim()}\``))
          drift.push(`input ${name}: default ${part.trim()} missing from README "${cell}"`);
    } else if (REQUIRED_CELLS.includes(cell)) {
      drift.push(`input ${name}: README says required, action.yml does not`);
    }
  }
  const outputs = Object.entries(action.outputs ?? {});
  const outRows = tableRows(readme, 'Outputs');
  drift.push(...namesDrift('outputs', tableNames(outRows), outputs));
  for (const [name, output] of outputs) {
    const row = outRows.find((r) => r[0] === `\`${name}\``);
    if (row) drift.push(...tokenDrift(`output ${name}`, output.description ?? '', row[1] ?? ''));
  }
  return drift;
}

describe("each action's README tables match its action.yml", () => {
  it.each(actions)('actions/%s', (a) => {
    expect(
      readmeDrift(actionYml(a), readFileSync(join(repoRoot, 'actions', a, 'README.md'), 'utf8')),
    ).toEqual([]);
  });

  it('finds every kind of drift in a drifted sample', () => {
    const action = parse(readFileSync(join(fixtures, 'drift-action.yml'), 'utf8')) as ActionYml;
    expect(readmeDrift(action, readFileSync(join(fixtures, 'drift-README.md'), 'utf8'))).toEqual([
      'inputs: README lists image, push, tags, gone; action.yml image, push, tags, cache-dir',
      'input image: required in action.yml, README default says ""',
      'input push: README has `true`, action.yml does not',
      'input push: default false missing from README "`true`"',
      'input tags: README lacks `sha-<7>`',
      'input tags: README has `latest`, action.yml does not',
      'outputs: README lists digest; action.yml digest, ref',
      'output digest: README has `sha256:...`, action.yml does not',
    ]);
  });

  it('accepts the same sample without drift', () => {
    const action = parse(readFileSync(join(fixtures, 'drift-action.yml'), 'utf8')) as ActionYml;
    expect(readmeDrift(action, readFileSync(join(fixtures, 'matching-README.md'), 'utf8'))).toEqual([]);
  });
});

// ---- the reusable workflows' docs ------------------------------------------------------------

describe('each reusable workflow has a .md beside it naming every input, secret and output', () => {
  const reusable = workflowFiles.filter((f) =>
    /workflow_call/.test(readFileSync(join(workflowsDir, f), 'utf8')),
  );
  it.each(reusable)('%s', (file) => {
    const md = readFileSync(join(workflowsDir, file.replace(/\.ya?ml$/, '.md')), 'utf8');
    const call = (
      parse(readFileSync(join(workflowsDir, file), 'utf8')) as {
        on: { workflow_call: Record<string, Record<string, unknown> | undefined> };
      }
    ).on.workflow_call;
    const names = ['inputs', 'secrets', 'outputs'].flatMap((k) => Object.keys(call[k] ?? {}));
    expect(names.filter((n) => !md.includes(`\`${n}\``))).toEqual([]);
    expect(md).toContain(`uses: your-org/berth/.github/workflows/${file}@`);
  });
});

// ---- berth-ref against the workflow's own commit ---------------------------------------------

const CHECKOUT_STEP = "Check out Berth's actions at the pinned commit";

/** The step of a reusable workflow that checks berth-ref and checks Berth out, with its job's name. */
function berthCheckoutSteps(file: string): { job: string; env: Record<string, string>; run: string }[] {
  const wf = parse(readFileSync(join(workflowsDir, file), 'utf8')) as {
    jobs: Record<string, { steps?: { name?: string; env?: Record<string, string>; run?: string }[] }>;
  };
  return Object.entries(wf.jobs).flatMap(([job, j]) =>
    (j.steps ?? [])
      .filter((s) => s.name === CHECKOUT_STEP)
      .map((s) => ({ job, env: s.env ?? {}, run: s.run ?? '' })),
  );
}

describe("each reusable workflow refuses a berth-ref that is not its own commit (the step's script, run)", () => {
  const reusable = workflowFiles.filter((f) => f.startsWith('berth-'));
  let berth: string;
  let sha: string;
  beforeAll(() => {
    // A one-commit repository stands for Berth at the SHA in `uses:` (fetched through BERTH_GIT_URL).
    berth = mkdtempSync(join(tmpdir(), 'berth-ref-'));
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: berth, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@t.invalid', 'commit', '-q', '--allow-empty', '-m', 'berth');
    sha = git('rev-parse', 'HEAD');
  });
  afterAll(() => rmSync(berth, { recursive: true, force: true }));

  /** Runs the step as the runner would (bash -e), with job.workflow_* as given; the step's stdout and exit code. */
  function runStep(
    file: string,
    o: { own?: { sha: string; repository: string }; verify: boolean; ref?: string },
  ) {
    const steps = berthCheckoutSteps(file);
    expect(steps.length, `${file}: no "${CHECKOUT_STEP}" step`).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'berth-ref-job-'));
    try {
      return steps.map(({ job, env, run }) => {
        // The step reads the job context and the opt-out through these, and only these.
        expect(env.JOB_CONTEXT, `${file} ${job}`).toBe('${{ toJSON(job) }}');
        expect(env.VERIFY_BERTH_REF, `${file} ${job}`).toBe('${{ inputs.verify-berth-ref }}');
        const jobContext = {
          status: 'success',
          ...(o.own && { workflow_sha: o.own.sha, workflow_repository: o.own.repository }),
        };
        const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run], {
          cwd: dir,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            BERTH_REPOSITORY: 'berth-org/berth',
            BERTH_REF: o.ref ?? sha,
            BERTH_GIT_URL: `file://${berth}`,
            SERVER_URL: 'https://github.invalid',
            VERIFY_BERTH_REF: String(o.verify),
            JOB_CONTEXT: JSON.stringify(jobContext),
            MODE: 'backup',
            BACKUP_ID: '',
            RUNNER_TEMP: dir,
            GITHUB_ENV: join(dir, 'github-env'),
          },
        });
        const fetched = existsSync(join(dir, '.berth/.git'));
        rmSync(join(dir, '.berth'), { recursive: true, force: true });
        return { job, code: r.status, out: r.stdout + r.stderr, fetched };
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.each(reusable)(
    '%s: the SHA of uses: passes; another SHA or repository fails before Berth is fetched',
    (file) => {
      for (const r of runStep(file, { own: { sha, repository: 'Berth-Org/berth' }, verify: true }))
        expect([r.code, r.fetched], `${r.job}: ${r.out}`).toEqual([0, true]);
      const other = 'f'.repeat(40);
      for (const r of runStep(file, { own: { sha: other, repository: 'berth-org/berth' }, verify: false })) {
        expect(r.code, r.job).toBe(1);
        expect(r.out).toContain(
          `::error::berth-ref ${sha} is not the commit this workflow runs from (${other}`,
        );
        expect(r.fetched).toBe(false);
      }
      for (const r of runStep(file, { own: { sha, repository: 'someone/berth' }, verify: true })) {
        expect(r.code, r.job).toBe(1);
        expect(r.out).toContain(
          '::error::berth-repository berth-org/berth is not the repository this workflow runs from',
        );
        expect(r.fetched).toBe(false);
      }
    },
  );

  it.each(reusable)(
    '%s: without job.workflow_sha it fails closed, unless verify-berth-ref is false',
    (file) => {
      for (const r of runStep(file, { verify: true })) {
        expect(r.code, r.job).toBe(1);
        expect(r.out).toContain('::error::berth-ref cannot be checked');
        expect(r.fetched).toBe(false);
      }
      for (const r of runStep(file, { verify: false })) {
        expect([r.code, r.fetched], `${r.job}: ${r.out}`).toEqual([0, true]);
        expect(r.out).toContain(`::warning::berth-ref ${sha} is not checked`);
      }
    },
  );
});

// ---- ci.yml's test job and the self-hosted runner --------------------------------------------

describe("ci.yml's test job never runs a fork's pull request on BERTH_TEST_RUNNER", () => {
  let work: string;
  let repo: string;
  beforeAll(() => {
    // A repository holding the workflows, named berth-e2e/berth by its origin (act reads it from there).
    work = actWorkDir();
    repo = join(work, 'repo');
    mkdirSync(repo);
    cpSync(join(repoRoot, '.github'), join(repo, '.github'), { recursive: true });
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '-A'],
      ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', 'commit', '-q', '-m', 'workflows'],
      ['remote', 'add', 'origin', 'https://github.com/berth-e2e/berth.git'],
    ])
      execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** The runner label act picks for the test job: with no platform mapped, act names it and runs nothing. */
  async function testJobRunner(event: string, payload: object): Promise<string> {
    const run = await runAct({
      act: tool.ACT!,
      repo,
      work,
      actionCache: join(work, 'cache'),
      sarifStub: join(work, 'no-stub'),
      event,
      workflow: 'ci.yml',
      payload,
      secrets: {},
      vars: { BERTH_TEST_RUNNER: 'berth-self-hosted' },
      platforms: ['ubuntu-latest='],
      args: ['--dryrun', '--job', 'test'],
    });
    const labels = [
      ...run.output.matchAll(/Skipping unsupported platform -- Try running with `-P ([\w.-]+)=\.\.\.`/g),
    ];
    expect(labels.length, run.output).toBe(1);
    return labels[0]![1]!;
  }

  const repository = { full_name: 'berth-e2e/berth', default_branch: 'main' };
  const pullRequest = (head: string | null) => ({
    pull_request: {
      head: { sha: '0'.repeat(40), repo: head === null ? null : { full_name: head } },
      base: { repo: repository },
    },
    repository,
  });

  it("a fork's pull request (or one whose fork is deleted) runs on GitHub's runner", async () => {
    expect(await testJobRunner('pull_request', pullRequest('mallory/berth'))).toBe('ubuntu-latest');
    expect(await testJobRunner('pull_request', pullRequest(null))).toBe('ubuntu-latest');
  });

  it("pushes and the repository's own pull requests run on BERTH_TEST_RUNNER", async () => {
    expect(await testJobRunner('pull_request', pullRequest('berth-e2e/berth'))).toBe('berth-self-hosted');
    expect(await testJobRunner('push', { ref: 'refs/heads/main', repository })).toBe('berth-self-hosted');
  });
});
