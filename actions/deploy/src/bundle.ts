// The release bundle: what goes to the host for one release, staged in a local directory and sent
// as one tar stream. Secrets travel inside it as files, never on a command line.
import * as core from '@actions/core';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runUrl, type GitHubContext } from '../../../lib/action/github.js';
import { composeConfig } from '../../../lib/tools/compose.js';
import { inputError } from '../../../lib/action/inputs.js';
import { Inputs as I } from './constants.js';
import type { Inputs } from './inputs.js';
import { PROBES_DIR, probeCurlConfig } from './probes.js';
import { stageProject, type ProjectFacts } from './project/project.js';
import { STACK_FILE, toSwarmStack } from './stack.js';

export { releaseId } from './release-id.js';

/** The override that pins service images by digest, added after the user's compose files. */
export const IMAGES_OVERRIDE = 'docker-compose.berth-images.yml';
export const CA_FILE = '.berth/ca.pem';

/**
 * A compose `.env` line whose value compose reads literally: double-quoted, with backslash,
 * quote and line breaks escaped, and `$` doubled so that nothing is interpolated.
 */
export function dotenvLine(key: string, value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$/g, '$$$$');
  return `${key}="${escaped}"`;
}

export function imagesOverride(images: Record<string, string>): string {
  const lines = ['# Written by berth/deploy: each service runs the image pinned by digest.', 'services:'];
  for (const [service, ref] of Object.entries(images))
    lines.push(`  ${JSON.stringify(service)}:`, `    image: ${JSON.stringify(ref)}`);
  return lines.join('\n') + '\n';
}

export interface ReleaseRecord {
  release: string;
  project: string;
  environment?: string;
  commit: string;
  ref: string;
  repository: string;
  actor: string;
  run: string;
  workflow: string;
  created: string;
  images: Record<string, string>;
  compose_files: string[];
}

/** What release.json says about the release: where it came from, who ran it, what it pins. */
export function releaseRecord(inputs: Inputs, ctx: GitHubContext, release: string): ReleaseRecord {
  return {
    release,
    project: inputs.project,
    environment: inputs.environment,
    commit: ctx.headSha ?? ctx.sha,
    ref: ctx.ref,
    repository: ctx.repository,
    actor: ctx.actor,
    run: runUrl(ctx),
    workflow: ctx.workflow,
    created: new Date().toISOString(),
    images: inputs.images,
    compose_files: inputs['compose-files'],
  };
}

export interface StagedBundle {
  dir: string;
  /** compose files as the host will use them, relative to the release directory */
  composeFiles: string[];
  caFile?: string;
  /** the project's files and data directories, once staged */
  project?: ProjectFacts;
}

/** What staging directories are called, so the post step deletes nothing else. */
const STAGING_PREFIX = 'berth-release-';

/**
 * A new private directory for the bundle. It holds `.env`, the secrets and the registry password:
 * the caller records it (saveState) before anything is written, and removes it on every path.
 */
export function makeStagingDir(tempRoot: string): string {
  const dir = mkdtempSync(join(tempRoot, STAGING_PREFIX));
  chmodSync(dir, 0o700);
  return dir;
}

/** Deletes a staging directory (a path the post step read back from state must look like one). */
export function removeStagingDir(dir: string): boolean {
  if (!dir || !basename(dir).startsWith(STAGING_PREFIX) || !existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/**
 * What a run brings along and does not keep (the host deletes them when the script ends): the probes'
 * curl configs and the registry password; and the CA file the probes trust, at `caFile`. Returns
 * that path when there is one. `dir/.berth` exists.
 */
export function stageRunFiles(inputs: Inputs, dir: string, caFile: string): string | undefined {
  if (inputs['health-urls'].length > 0) {
    mkdirSync(join(dir, PROBES_DIR), { mode: 0o700 });
    inputs['health-urls'].forEach((probe, i) => {
      const config = probeCurlConfig(probe, inputs['health-headers']);
      writeFileSync(join(dir, PROBES_DIR, `${i}.curl`), config, { mode: 0o600 });
    });
  }
  if (inputs['registry-password']) {
    writeFileSync(join(dir, '.berth/registry-password'), inputs['registry-password'], { mode: 0o600 });
  }
  if (!inputs['ca-file']) return undefined;
  mkdirSync(dirname(join(dir, caFile)), { recursive: true, mode: 0o700 });
  copyFileSync(join(inputs['working-directory'], inputs['ca-file']), join(dir, caFile));
  return caFile;
}

/** Stages the bundle in `dir`, an empty directory from makeStagingDir. */
export function stageBundle(inputs: Inputs, record: ReleaseRecord, dir: string): StagedBundle {
  const composeFiles = [...inputs['compose-files']];
  for (const file of composeFiles) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(inputs['working-directory'], file), join(dir, file));
  }
  if (Object.keys(inputs.images).length > 0) {
    writeFileSync(join(dir, IMAGES_OVERRIDE), imagesOverride(inputs.images));
    composeFiles.push(IMAGES_OVERRIDE);
  }
  const env = Object.entries(inputs.env).map(([k, v]) => dotenvLine(k, v));
  writeFileSync(join(dir, '.env'), env.length ? env.join('\n') + '\n' : '', { mode: 0o600 });
  mkdirSync(join(dir, '.berth'), { mode: 0o700 });
  if (Object.keys(inputs.secrets).length > 0) {
    // Compose (without swarm) bind-mounts secret files with their host owner and mode, and the
    // services run as their own non-root users: the files must be readable by them, so the
    // directory (0700, the deploy user's) is what keeps them from other users of the host.
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    for (const [name, value] of Object.entries(inputs.secrets)) {
      writeFileSync(join(secrets, name), value, { mode: 0o444 });
    }
  }
  const caFile = stageRunFiles(inputs, dir, CA_FILE);
  writeReleaseJson(dir, record, composeFiles);
  return { dir, composeFiles, caFile };
}

function writeReleaseJson(dir: string, record: ReleaseRecord, composeFiles: string[]): void {
  writeFileSync(
    join(dir, 'release.json'),
    JSON.stringify({ ...record, compose_files: composeFiles }, null, 2) + '\n',
  );
}

/** The project's files and data directories (project/), then the data override among the compose files. */
async function stageProjectFiles(
  inputs: Inputs,
  record: ReleaseRecord,
  staged: StagedBundle,
): Promise<StagedBundle & { project: ProjectFacts }> {
  const project = await stageProject(inputs, staged.dir);
  if (!project.override) return { ...staged, project };
  // After the user's files (it replaces their data mounts), before the images override.
  const composeFiles = [...staged.composeFiles];
  composeFiles.splice(inputs['compose-files'].length, 0, project.override);
  writeReleaseJson(staged.dir, record, composeFiles);
  return { ...staged, composeFiles, project };
}

/**
 * mode: swarm. Compose (on the runner) merges and interpolates the release's files exactly as it
 * would on the host; the result, rewritten for swarm, is the one stack file the host deploys.
 * Also staged: the images to pull and the versioned secret/config names this release uses.
 */
export async function stageSwarmStack(
  staged: StagedBundle,
  project: string,
  /** the release directory on the host, where bind sources in the bundle will be */
  releaseDir: string,
  /** services swarm updates start-first (input zero-downtime) */
  zeroDowntime: string[] = [],
): Promise<{ staged: StagedBundle; warnings: string[] }> {
  const config = await composeConfig({
    projectDirectory: staged.dir,
    project,
    files: staged.composeFiles,
  }).catch((err: unknown) => {
    throw inputError(I.ComposeFiles, err instanceof Error ? err.message : String(err));
  });
  const swarm = toSwarmStack(config, {
    project,
    bundleDir: staged.dir,
    releaseDir,
    readFile: (p) => readFileSync(p),
    zeroDowntime,
  });
  // It holds the .env values compose interpolated: as private as .env itself.
  writeFileSync(join(staged.dir, STACK_FILE), JSON.stringify(swarm.stack, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(join(staged.dir, '.berth/images'), swarm.images.map((i) => `${i}\n`).join(''));
  writeFileSync(join(staged.dir, '.berth/swarm-objects'), swarm.objects.map((o) => `${o}\n`).join(''));
  return { staged: { ...staged, composeFiles: [STACK_FILE] }, warnings: swarm.warnings };
}

/** The bundle staged for the upload (mode swarm: with its stack file), said in the log. */
export async function stageRelease(
  inputs: Inputs,
  record: ReleaseRecord,
  dir: string,
): Promise<StagedBundle> {
  let staged: StagedBundle = await stageProjectFiles(inputs, record, stageBundle(inputs, record, dir));
  const project = staged.project!;
  core.info(`Compose files: ${staged.composeFiles.join(', ')}`);
  core.info(
    `Project files: ${project.files.length}${project.files.length ? `: ${project.files.join(', ')}` : ''}`,
  );
  core.info(`Data directories (${inputs['remote-dir']}/shared/): ${project.dataDirs.join(', ') || 'none'}`);
  if (inputs.mode === 'swarm') {
    const releaseDir = `${inputs['remote-dir']}/releases/${record.release}`;
    const swarm = await stageSwarmStack(staged, inputs.project, releaseDir, inputs['zero-downtime']);
    for (const warning of swarm.warnings) core.warning(`mode swarm: ${warning}`);
    staged = swarm.staged;
    core.info(`Stack file: ${staged.composeFiles.join(', ')} (docker stack deploy)`);
  }
  core.info(
    `Secrets: ${Object.keys(inputs.secrets).join(', ') || 'none'}; env: ${Object.keys(inputs.env).join(', ') || 'none'}`,
  );
  return staged;
}
