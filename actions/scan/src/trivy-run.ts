// The scan itself: what Trivy reads (an image from the engine or its registry, an archive, files),
// and the Trivy processes that read it, each with the registry credentials only when every registry
// it talks to is theirs (planTrivyRuns).
import * as core from '@actions/core';
import { run } from '../../../lib/action/exec.js';
import { inspectLocalImage, parseImageRef } from '../../../lib/tools/docker.js';
import { trivyCommands, trivyEnv, type TrivyTarget } from './command.js';
import type { Inputs } from './inputs.js';
import { trivyFailure, usedEmbeddedChecks } from './trivy-failure.js';
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
  const commands = trivyCommands({
    target,
    scanners: inputs.scanners,
    cacheDir: o.cacheDir,
    output: o.output,
    timeoutMs: inputs.timeout,
    dbRepositories: inputs['db-repository'],
    javaDb: inputs['java-db'],
    updateDb: o.updateDb,
    credentials: credentials !== undefined,
    image: inputs.image,
  });
  const context = { image: inputs.image, dbRepositories: inputs['db-repository'], timeoutMs: inputs.timeout };
  let stderr = '';
  for (const command of commands) {
    // An empty working directory: a trivy.yaml or .trivyignore of the workspace changes nothing.
    const env = trivyEnv(process.env, command.credentials ? credentials : undefined);
    const result = await run(trivy.path, command.args, { cwd: o.work, env, ignoreReturnCode: true });
    if (result.exitCode !== 0) throw trivyFailure(result.exitCode, result.stderr, context);
    stderr = result.stderr;
  }
  // The scan runs last; its log says whether it fell back to the checks built into Trivy.
  const embedded = usedEmbeddedChecks(stderr);
  if (embedded) {
    core.info(
      'The ERROR above is not a failure: Trivy could not fetch its checks bundle and used the checks built into it',
    );
  }
  return embedded;
}
