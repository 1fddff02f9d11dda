// berth/scan main step: orchestration only; each decision lives in a small module.
import * as core from '@actions/core';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { errorMessage } from '../../../lib/action/wrapper.js';
import { composeConfig } from '../../../lib/tools/compose.js';
import { imageFacts, inspectLocalImage, parseImageRef, type ImageFacts } from '../../../lib/tools/docker.js';
import { run } from '../../../lib/action/exec.js';
import { inputError } from '../../../lib/action/inputs.js';
import { installTrivy, type TrivyInstall } from './trivy-install.js';
import { auditCompose } from './audit.js';
import { parseComposeConfig } from './compose-service.js';
import { reportBaseName, scanCategory } from './category.js';
import {
  credentialHost,
  needsVulnerabilityDb,
  planTrivyRuns,
  registryHost,
  trivyDbDownloadArgs,
  trivyEnv,
  trivyFailure,
  trivyScanArgs,
  usedEmbeddedChecks,
  type TrivyTarget,
} from './command.js';
import { readComposeSources } from './compose-source.js';
import { Inputs as I, Outputs } from './constants.js';
import { restoreDb, saveDb, type RestoreResult } from './db-cache.js';
import { dbAgeHours, dbCacheKey, dbDir, isDbFresh, readDbMetadata, shouldSaveDb } from './db.js';
import { dbCacheState, detailsMarkdown, withRepoPaths } from './details.js';
import { evaluate } from './evaluate.js';
import type { Finding } from './finding.js';
import { annotations, decideGate, gateOutputs, type Annotation, type GateResult } from './gate.js';
import type { IgnoreEntry } from './ignore.js';
import { getInputs, loadIgnores, type Inputs } from './inputs.js';
import { readTrivyReport } from './report.js';
import { berthAuditTool, sarifLog, trivySarifRun, type SarifRunInput } from './sarif.js';
import { composeProjectName, imagesNeedingFacts } from './stack.js';
import { summaryMarkdown } from './summary.js';
import {
  categoryTarget,
  describeSource,
  describeTarget,
  docsUrl,
  inRepository,
  repoPrefix,
} from './target.js';

/** Annotations per level beyond which the log would only repeat the summary. */
const MAX_ANNOTATIONS = 50;

export async function main(): Promise<void> {
  const inputs = getInputs();
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const ignores = loadIgnores(inputs, workspace);
  const now = new Date();
  const work = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'berth-scan-'));
  try {
    const gate = await scan(inputs, workspace, ignores, now, work);
    if (gate.failed) throw new Error(gate.sentence);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function scan(
  inputs: Inputs,
  workspace: string,
  ignores: IgnoreEntry[],
  now: Date,
  work: string,
): Promise<GateResult> {
  const stack =
    inputs['compose-files'].length > 0 && inputs.audit !== 'off'
      ? await core.group(`Compose audit: ${inputs['compose-files'].join(', ')}`, () =>
          auditStack(inputs, workspace),
        )
      : undefined;

  const target = await trivyTarget(inputs);
  const cacheDir = inputs['cache-dir'];
  const needsDb = needsVulnerabilityDb(target, inputs.scanners);
  // A runner that kept a fresh DB in the cache dir (self-hosted) needs the GitHub cache neither way.
  const localFresh = needsDb && isDbFresh(readDbMetadata(cacheDir), now);
  const cacheDb = needsDb && inputs['cache-db'] && !localFresh;
  const { key, restoreKeys } = dbCacheKey(process.env.RUNNER_OS || process.platform, now);
  // Trivy and the DB come from different places (a release download or the tool cache; the GitHub
  // cache): fetched side by side, so a fresh runner waits for the slower one only.
  const [trivy, restored] = await core.group(needsDb ? 'Trivy and its vulnerability DB' : 'Trivy', () =>
    both(
      installTrivy({
        version: inputs['trivy-version'],
        downloadUrl: inputs['trivy-download-url'],
        sha256: inputs['trivy-sha256'],
        token: inputs['github-token'],
      }),
      cacheDb ? restoreDbStep(cacheDir, key, restoreKeys) : Promise.resolve(undefined),
    ),
  );
  core.info(`Trivy ${trivy.version}: ${trivy.path}`);
  core.setOutput(Outputs.TrivyVersion, trivy.version);
  const before = readDbMetadata(cacheDir);
  const fresh = needsDb && isDbFresh(before, now);
  if (needsDb) {
    core.info(
      fresh
        ? `The DB in ${cacheDir} is fresh: Trivy will not update it`
        : `Trivy will download the DB from ${inputs['db-repository'].join(', ')}`,
    );
  }

  const rawReport = join(work, 'trivy.json');
  let embeddedChecks = false;
  let saved: string | undefined;
  try {
    embeddedChecks = await core.group(`Scan ${describeTarget(target, workspace)}`, () =>
      runTrivy(trivy, target, inputs, { cacheDir, fresh, needsDb, output: rawReport, work }),
    );
  } finally {
    // Before any failure is reported, the gate's included: the day's later runs start from it.
    if (cacheDb && restored?.available && shouldSaveDb(restored.key, key, readDbMetadata(cacheDir))) {
      saved = await core.group('Save the vulnerability DB to the cache', async () => {
        if (!(await saveDb(dbDir(cacheDir), key))) return undefined;
        core.info(`Saved the DB as ${key}`);
        return key;
      });
    }
  }

  const after = needsDb ? readDbMetadata(cacheDir) : undefined;
  const ageHours = needsDb ? dbAgeHours(after, now) : undefined;
  core.setOutput(Outputs.DbAgeHours, ageHours === undefined ? '' : ageHours.toFixed(1));

  return core.group('Report', async () => {
    const report = readTrivyReport(rawReport);
    const settings = {
      severities: inputs.severity,
      failOn: inputs['fail-on'],
      ignoreUnfixed: inputs['ignore-unfixed'],
      audit: inputs.audit,
    };
    const evaluation = evaluate({ reports: [report], audit: stack?.findings, ignores, settings, now });
    const filtered = evaluation.reports[0]!;

    const category = categoryTarget(target, workspace, report.Metadata?.RepoTags);
    const base = reportBaseName(category);
    mkdirSync(inputs['output-dir'], { recursive: true });
    const reportFile = join(inputs['output-dir'], `${base}.json`);
    const sarifFile = join(inputs['output-dir'], `${base}.sarif`);
    writeFileSync(reportFile, `${JSON.stringify(filtered.report, null, 2)}\n`);

    // Trivy names files relative to the directory it scanned; code scanning wants repository paths.
    const prefix =
      target.kind === 'fs' || target.kind === 'config'
        ? repoPrefix(statSync(target.path).isDirectory() ? target.path : dirname(target.path), workspace)
        : '';
    const runs: SarifRunInput[] = [
      trivySarifRun(report, withRepoPaths(filtered.kept, prefix), scanCategory(category)),
    ];
    if (stack && evaluation.audit) {
      runs.push({
        category: scanCategory({ kind: 'compose', name: stack.project }),
        tool: berthAuditTool(process.env.GITHUB_ACTION_REF || undefined),
        findings: evaluation.audit,
      });
    }
    writeFileSync(sarifFile, `${JSON.stringify(sarifLog(runs), null, 2)}\n`);
    core.info(`Report ${reportFile}, SARIF ${sarifFile}`);

    for (const [name, value] of Object.entries(gateOutputs(evaluation.gate, { reportFile, sarifFile }))) {
      core.setOutput(name, value);
    }
    // The same verdict, told with repository paths: the sentence, the annotations, the summary.
    const gate =
      prefix === ''
        ? evaluation.gate
        : decideGate({
            findings: withRepoPaths(evaluation.findings, prefix),
            audit: evaluation.audit ?? [],
            expired: evaluation.expired,
            failOn: settings.failOn,
            auditMode: settings.audit,
            dropped: evaluation.dropped,
          });
    annotate(annotations(gate, evaluation.audit ?? [], inRepository(target)));
    await core.summary
      .addRaw(
        summaryMarkdown({
          title: describeTarget(target, workspace),
          gate,
          settings: { ...settings, ignoreFile: inputs['ignore-file'] },
          audit: stack ? (evaluation.audit ?? []) : undefined,
          dropped: evaluation.dropped,
        }),
      )
      .addRaw(
        detailsMarkdown({
          trivy: { version: trivy.version, source: trivy.source },
          scanned: describeSource(target, inputs.scanners),
          db: needsDb
            ? {
                ageHours,
                cache: dbCacheState(inputs['cache-db'], localFresh, restored),
                downloaded: after?.DownloadedAt !== undefined && after.DownloadedAt !== before?.DownloadedAt,
                saved,
              }
            : undefined,
          embeddedChecks,
          reportFile,
          sarifFile,
        }),
      )
      .write();
    core.info(gate.sentence);
    return gate;
  });
}

/** Both results; when either fails, its error, once the other has settled too. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

async function restoreDbStep(cacheDir: string, key: string, restoreKeys: string[]): Promise<RestoreResult> {
  const restored = await restoreDb(dbDir(cacheDir), key, restoreKeys);
  if (restored.key) core.info(`Restored the DB from the cache entry ${restored.key}`);
  else if (restored.available) core.info(`No DB in the cache under ${key} or ${restoreKeys[0]}*`);
  return restored;
}

/** An image reference is read from the registry when it names a digest or the engine lacks it. */
async function trivyTarget(inputs: Inputs): Promise<TrivyTarget> {
  switch (inputs['scan-type']) {
    case 'fs':
      return { kind: 'fs', path: inputs['scan-ref'] };
    case 'config':
      return { kind: 'config', path: inputs['scan-ref'] };
    case 'image': {
      if (inputs.input !== undefined) return { kind: 'archive', path: inputs.input };
      const ref = inputs.image!;
      if (parseImageRef(ref)?.digest) return { kind: 'image', ref, source: 'remote' };
      const local = await inspectLocalImage(ref).catch(() => undefined);
      return { kind: 'image', ref, source: local ? 'docker' : 'remote' };
    }
  }
}

interface TrivyRunOptions {
  cacheDir: string;
  fresh: boolean;
  needsDb: boolean;
  output: string;
  work: string;
}

/**
 * Runs Trivy (after a DB download of its own when the credentials call for one, see planTrivyRuns);
 * true when Trivy used its embedded checks.
 */
async function runTrivy(
  trivy: TrivyInstall,
  target: TrivyTarget,
  inputs: Inputs,
  o: TrivyRunOptions,
): Promise<boolean> {
  const username = inputs['registry-username'];
  const password = inputs['registry-password'];
  const credentials = username && password ? { username, password } : undefined;
  const updateDb = o.needsDb && !o.fresh;
  const plan = planTrivyRuns({
    credentials: credentials !== undefined,
    credentialHost: credentialHost(inputs.image, inputs['db-repository']),
    imageHost: target.kind === 'image' && target.source === 'remote' ? registryHost(target.ref) : undefined,
    dbHosts: updateDb ? inputs['db-repository'].map((r) => registryHost(r) ?? r) : [],
  });
  const context = { image: inputs.image, dbRepositories: inputs['db-repository'], timeoutMs: inputs.timeout };
  // An empty working directory: a trivy.yaml or .trivyignore of the workspace changes nothing.
  const options = (withCredentials: boolean) => ({
    cwd: o.work,
    env: trivyEnv(process.env, withCredentials ? credentials : undefined),
    ignoreReturnCode: true,
  });
  if (updateDb && plan.separateDbDownload) {
    const args = trivyDbDownloadArgs({
      cacheDir: o.cacheDir,
      timeoutMs: inputs.timeout,
      dbRepositories: inputs['db-repository'],
    });
    const result = await run(trivy.path, args, options(plan.downloadCredentials));
    if (result.exitCode !== 0) throw trivyFailure(result.exitCode, result.stderr, context);
  }
  const args = trivyScanArgs({
    target,
    scanners: inputs.scanners,
    cacheDir: o.cacheDir,
    output: o.output,
    timeoutMs: inputs.timeout,
    dbRepositories: inputs['db-repository'],
    skipDbUpdate: !updateDb || plan.separateDbDownload,
    javaDb: inputs['java-db'],
    skipCheckUpdate: plan.skipCheckUpdate,
  });
  const result = await run(trivy.path, args, options(plan.scanCredentials));
  if (result.exitCode !== 0) throw trivyFailure(result.exitCode, result.stderr, context);
  const embedded = usedEmbeddedChecks(result.stderr);
  if (embedded) {
    core.info(
      'The ERROR above is not a failure: Trivy could not fetch its checks bundle and used the checks built into it',
    );
  }
  return embedded;
}

interface AuditedStack {
  project: string;
  findings: Finding[];
}

async function auditStack(inputs: Inputs, workspace: string): Promise<AuditedStack> {
  const files = inputs['compose-files'];
  const sources = readComposeSources(files, workspace);
  const projectDirectory = dirname(resolve(workspace, files[0]!));
  const project = composeProjectName(sources, projectDirectory);
  let merged: unknown;
  try {
    merged = await composeConfig({
      projectDirectory,
      project,
      files: files.map((f) => resolve(workspace, f)),
    });
  } catch (error) {
    throw inputError(I.ComposeFiles, errorMessage(error));
  }
  const config = parseComposeConfig(merged, 'docker compose config');
  const facts: Record<string, ImageFacts> = {};
  await Promise.all(
    imagesNeedingFacts(config).map(async (image) => {
      const found = await imageFacts(image).catch(() => undefined);
      if (found) facts[image] = found;
      core.info(
        found
          ? `${image} (${found.source === 'local' ? 'local image' : 'from its registry'}): user ${JSON.stringify(found.user)}, ${found.healthcheck ? 'a' : 'no'} HEALTHCHECK`
          : `${image}: found neither locally nor in its registry, so its user and health check are not known`,
      );
    }),
  );
  const findings = auditCompose(config, { sources, images: facts, docsUrl: docsUrl(process.env) });
  core.info(
    `Project ${project}: ${Object.keys(config.services).length} services, ${findings.length} audit finding(s)`,
  );
  return { project, findings };
}

function annotate(list: readonly Annotation[]): void {
  const shown = { error: 0, warning: 0, notice: 0 };
  for (const a of list) {
    shown[a.level] += 1;
    if (shown[a.level] > MAX_ANNOTATIONS) continue;
    const properties = { title: a.title, file: a.file, startLine: a.startLine };
    if (a.level === 'error') core.error(a.message, properties);
    else if (a.level === 'warning') core.warning(a.message, properties);
    else core.notice(a.message, properties);
  }
  for (const [level, count] of Object.entries(shown)) {
    if (count > MAX_ANNOTATIONS) core.info(`${count - MAX_ANNOTATIONS} more ${level} annotations left out`);
  }
}
