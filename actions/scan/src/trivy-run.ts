// The scan itself: what Trivy reads (an image from the engine or its registry, an archive, files),
// and the Trivy processes that read it, each with the registry credentials only when every registry
// it talks to is theirs (planTrivyRuns).
import * as core from '@actions/core';
import { run } from '../../../lib/action/exec.js';
import { inspectLocalImage, parseImageRef } from '../../../lib/tools/docker.js';
import {
  credentialHost,
  planTrivyRuns,
  registryHost,
  trivyDbDownloadArgs,
  trivyEnv,
  trivyFailure,
  trivyScanArgs,
  usedEmbeddedChecks,
  type TrivyTarget,
} from './command.js';
import type { Inputs } from './inputs.js';
import type { TrivyInstall } from './trivy-install.js';

/** An image reference is read from the registry when it names a digest or the engine lacks it. */
export async function scanTarget(
  inputs: Pick<Inputs, 'scan-type' | 'scan-ref' | 'image' | 'input'>,
): Promise<TrivyTarget> {
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

export interface TrivyRunOptions {
  cacheDir: string;
  /** the scan needs the vulnerability DB, and the one in the cache dir is not fresh */
  updateDb: boolean;
  /** where Trivy writes the JSON report */
  output: string;
  /** an empty directory to run Trivy in */
  work: string;
}

/**
 * Runs Trivy (after a DB download of its own when the credentials call for one, see planTrivyRuns);
 * true when Trivy used its embedded checks.
 */
export async function runTrivy(
  trivy: TrivyInstall,
  target: TrivyTarget,
  inputs: Inputs,
  o: TrivyRunOptions,
): Promise<boolean> {
  const username = inputs['registry-username'];
  const password = inputs['registry-password'];
  const credentials = username && password ? { username, password } : undefined;
  const plan = planTrivyRuns({
    credentials: credentials !== undefined,
    credentialHost: credentialHost(inputs.image, inputs['db-repository']),
    imageHost: target.kind === 'image' && target.source === 'remote' ? registryHost(target.ref) : undefined,
    dbHosts: o.updateDb ? inputs['db-repository'].map((r) => registryHost(r) ?? r) : [],
  });
  const context = { image: inputs.image, dbRepositories: inputs['db-repository'], timeoutMs: inputs.timeout };
  const trivyRun = async (args: string[], withCredentials: boolean) => {
    // An empty working directory: a trivy.yaml or .trivyignore of the workspace changes nothing.
    const env = trivyEnv(process.env, withCredentials ? credentials : undefined);
    const result = await run(trivy.path, args, { cwd: o.work, env, ignoreReturnCode: true });
    if (result.exitCode !== 0) throw trivyFailure(result.exitCode, result.stderr, context);
    return result;
  };
  const common = { cacheDir: o.cacheDir, timeoutMs: inputs.timeout, dbRepositories: inputs['db-repository'] };
  if (o.updateDb && plan.separateDbDownload) {
    await trivyRun(trivyDbDownloadArgs(common), plan.downloadCredentials);
  }
  const args = trivyScanArgs({
    ...common,
    target,
    scanners: inputs.scanners,
    output: o.output,
    skipDbUpdate: !o.updateDb || plan.separateDbDownload,
    javaDb: inputs['java-db'],
    skipCheckUpdate: plan.skipCheckUpdate,
  });
  const result = await trivyRun(args, plan.scanCredentials);
  const embedded = usedEmbeddedChecks(result.stderr);
  if (embedded) {
    core.info(
      'The ERROR above is not a failure: Trivy could not fetch its checks bundle and used the checks built into it',
    );
  }
  return embedded;
}
