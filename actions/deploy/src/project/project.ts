// The release carries the whole project: compose's model of it on the runner says which files the
// services read (copied into the release) and which writable bind mounts hold data (kept in
// `<remote-dir>/shared/`); the `files` input adds what compose cannot see. Everything is checked
// here, before any connection to the host.
import { lstatSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes, inputError } from '../../../../lib/action/inputs.js';
import type { ComposeConfig } from '../../../../lib/tools/compose.js';
import { Inputs as I } from '../constants.js';
import type { Inputs } from '../inputs.js';
import { classifyProject, type Copy, type PathFacts } from './classify.js';
import { contentPlan, type StoredEntry } from './content.js';
import { listTree, matchFiles } from './files.js';
import { discoverModel } from './model.js';
import { copyProjectFiles, SHARED_OVERRIDE, sharedOverride, tarSize } from './stage.js';

export interface ProjectFacts {
  /** the files copied into the release, relative to working-directory */
  files: string[];
  /** data directories, relative to `<remote-dir>/shared/` */
  dataDirs: string[];
  /** the override that points the data mounts there and the read-only files at files/, if any */
  override?: string;
  /** what the host stores in `<remote-dir>/files/<id>/` (content.ts) */
  stored: StoredEntry[];
  /** the bundle's tar size */
  bundleBytes: number;
  /** compose's resolved services */
  services: ComposeConfig['services'];
}

export type ProjectInputs = Pick<
  Inputs,
  | 'working-directory'
  | 'project'
  | 'compose-files'
  | 'secrets'
  | 'files'
  | 'host-paths'
  | 'remote-dir'
  | 'max-bundle-size'
  | 'mode'
>;

function pathFacts(path: string): PathFacts {
  try {
    const st = lstatSync(path);
    const real = realpathSync(path);
    const target = st.isSymbolicLink() ? lstatSync(real) : st;
    const kind = target.isFile() ? 'file' : target.isDirectory() ? 'dir' : 'special';
    return { kind, real };
  } catch {
    return { kind: 'missing', real: path };
  }
}

const FILES_ORIGIN = `Input "${I.Files}"`;

function failWith(errors: string[]): never {
  const fromFiles = errors.filter((e) => e.startsWith(FILES_ORIGIN));
  if (fromFiles.length === errors.length)
    throw inputError(I.Files, fromFiles.map((e) => e.slice(FILES_ORIGIN.length + 2)).join('; '));
  throw inputError(I.ComposeFiles, errors.join('; '));
}

/** Stages the project's files into `stagedDir` (whose `.env` is written already); throws naming what is refused. */
export async function stageProject(inputs: ProjectInputs, stagedDir: string): Promise<ProjectFacts> {
  const wd = inputs['working-directory'];
  const model = await discoverModel({
    workingDirectory: wd,
    project: inputs.project,
    composeFiles: inputs['compose-files'],
    envFile: join(stagedDir, '.env'),
  }).catch((err: unknown) => {
    throw inputError(I.ComposeFiles, err instanceof Error ? err.message : String(err));
  });
  const plan = classifyProject(model, {
    workingDirectory: wd,
    realWorkingDirectory: realpathSync(wd),
    secrets: Object.keys(inputs.secrets),
    hostPaths: inputs['host-paths'],
    filesGiven: inputs.files.length > 0,
    info: pathFacts,
  });
  const errors = [...plan.errors];
  const copies: Copy[] = [...plan.copies];
  if (inputs.files.length > 0) {
    const matched = matchFiles(inputs.files, listTree(wd));
    errors.push(...matched.errors.map((e) => `${FILES_ORIGIN}: ${e}`));
    copies.push(
      ...matched.paths.map(({ path, glob }) => ({ path, origin: `${FILES_ORIGIN}: entry ${glob}` })),
    );
  }
  if (errors.length) failWith(errors);
  const copied = copyProjectFiles(wd, stagedDir, copies);
  if (copied.errors.length) failWith(copied.errors);

  const dataDirs = [...new Set(plan.data.map((d) => d.path))].sort();
  const content = contentPlan(model, wd, stagedDir);
  let override: string | undefined;
  if (plan.data.length || content.entries.length) {
    const text = sharedOverride(plan.data, inputs['remote-dir'], content, inputs.mode !== 'swarm');
    writeFileSync(join(stagedDir, SHARED_OVERRIDE), text);
    override = SHARED_OVERRIDE;
  }
  const size = tarSize(stagedDir);
  if (size.bytes > inputs['max-bundle-size']) {
    throw inputError(
      I.MaxBundleSize,
      `the release bundle is ${formatBytes(size.bytes)}, over the limit of ${formatBytes(inputs['max-bundle-size'])}; ` +
        `largest files: ${size.largest.map(([p, b]) => `${p} (${formatBytes(b)})`).join(', ')}`,
    );
  }
  return {
    files: [...new Set(copied.files)].sort(),
    dataDirs,
    override,
    stored: content.entries,
    bundleBytes: size.bytes,
    services: model.services,
  };
}
