// berth/scan main step: orchestration only; each step lives in a small module.
import * as core from '@actions/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneLine } from '../../../lib/action/untrusted.js';
import { auditStack, type AuditedStack } from './audit-stack.js';
import { Inputs as I, Outputs } from './constants.js';
import { VulnerabilityDb } from './db-step.js';
import { evaluate } from './evaluate.js';
import type { GateResult } from './gate.js';
import type { IgnoreEntry } from './ignore.js';
import { getInputs, loadIgnores, type Inputs } from './inputs.js';
import { annotate, setGateOutputs, writeJobSummary, writeReportFiles } from './publish.js';
import { readTrivyReport } from './report.js';
import { checkMonitoring } from './monitoring.js';
import { describeSource, describeTarget, docsUrl, targetRepoPrefix } from './target.js';
import { installTrivy } from './trivy-install.js';
import { runTrivy, scanTarget } from './trivy-run.js';

export async function main(): Promise<void> {
  const inputs = getInputs();
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const ignores = loadIgnores(inputs, workspace);
  const work = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'berth-scan-'));
  try {
    const gate = await scan({ inputs, workspace, ignores, now: new Date(), work });
    if (gate.failed) throw new Error(gate.sentence);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Run {
  inputs: Inputs;
  workspace: string;
  ignores: IgnoreEntry[];
  now: Date;
  /** an empty directory, removed after the step */
  work: string;
}

async function scan({ inputs, workspace, ignores, now, work }: Run): Promise<GateResult> {
  const files = inputs['compose-files'];
  const stack: AuditedStack | undefined =
    files.length > 0 && inputs.gate.audit !== 'off'
      ? await core.group(`Compose audit: ${files.join(', ')}`, () => auditStack(inputs, workspace))
      : undefined;
  // Gated like the audit, so off with it too (and then nothing is installed).
  if (inputs.gate.audit === 'off' && inputs['monitoring-configs'].length > 0) {
    core.warning(`${I.MonitoringConfigs} is not checked: audit is off`);
  }
  const monitoring =
    inputs.gate.audit === 'off'
      ? undefined
      : await core.group('Monitoring configs (promtool, amtool)', () =>
          checkMonitoring({ inputs, config: stack?.config, workspace, work, docsUrl: docsUrl(process.env) }),
        );
  const audited =
    stack || monitoring ? [...(stack?.findings ?? []), ...(monitoring?.findings ?? [])] : undefined;

  const target = await scanTarget(inputs);
  const db = new VulnerabilityDb(inputs, target, now);
  // Trivy and the DB come from different places (a release download or the tool cache; the GitHub
  // cache): fetched side by side, so a fresh runner waits for the slower one only.
  const [trivy] = await core.group(db.needed ? 'Trivy and its vulnerability DB' : 'Trivy', () =>
    both(
      installTrivy({
        version: inputs['trivy-version'],
        downloadUrl: inputs['trivy-download-url'],
        sha256: inputs['trivy-sha256'],
        token: inputs['github-token'],
      }),
      db.restore(),
    ),
  );
  core.info(oneLine(`Trivy ${trivy.version}: ${trivy.path}`));
  core.setOutput(Outputs.TrivyVersion, trivy.version);
  const updateDb = db.beforeScan();

  const rawReport = join(work, 'trivy.json');
  let embeddedChecks = false;
  try {
    embeddedChecks = await core.group(`Scan ${describeTarget(target, workspace)}`, () =>
      runTrivy(trivy, target, inputs, { cacheDir: inputs['cache-dir'], updateDb, output: rawReport, work }),
    );
  } finally {
    // Before any failure is reported, the gate's included: the day's later runs start from it.
    await db.save();
  }
  const dbDetails = db.details();
  core.setOutput(Outputs.DbAgeHours, dbDetails?.ageHours === undefined ? '' : dbDetails.ageHours.toFixed(1));

  return core.group('Report', async () => {
    const report = readTrivyReport(rawReport);
    const evaluation = evaluate({
      reports: [report],
      audit: audited,
      ignores,
      settings: inputs.gate,
      now,
      repoPrefix: targetRepoPrefix(target, workspace),
    });
    const files = writeReportFiles(
      inputs['output-dir'],
      { target, workspace, report, stack, monitoring, configs: inputs['monitoring-configs'] },
      evaluation,
    );
    setGateOutputs(evaluation, files);
    annotate(evaluation, target);
    await writeJobSummary(
      { inputs, target, workspace, audited: stack !== undefined, monitoring },
      evaluation,
      {
        trivy: { version: trivy.version, source: trivy.source },
        scanned: describeSource(target, inputs.scanners),
        db: dbDetails,
        embeddedChecks,
        monitoring: monitoring && { tools: monitoring.tools, files: monitoring.files.length },
        ...files,
      },
    );
    core.info(oneLine(evaluation.gate.sentence));
    return evaluation.gate;
  });
}

/** Both results; when either fails, its error, once the other has settled too. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}
