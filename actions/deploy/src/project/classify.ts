// Sorting the model's references into what the release carries (configs, copied), what lives in
// `<remote-dir>/shared/` (writable relative bind mounts: data), the host paths a service may mount
// as they are, and what is refused. Pure: the file system is seen through `PathInfo`.
import { basename, isAbsolute, relative, sep } from 'node:path';
import type { BindMount, FileReference, ProjectModel } from './model.js';

/** What is at a path: `special` is a socket, fifo or device; `real` is the symlink-free path. */
export interface PathFacts {
  kind: 'file' | 'dir' | 'special' | 'missing';
  real: string;
}
export type PathInfo = (path: string) => PathFacts;

export interface DataDir {
  service: string;
  /** relative to working-directory */
  path: string;
  mount: BindMount;
}

/** A path copied into the release at the same place, and what named it (for errors). */
export interface Copy {
  /** relative to working-directory */
  path: string;
  origin: string;
}

export interface ProjectPlan {
  copies: Copy[];
  data: DataDir[];
  errors: string[];
}

export interface ClassifyOptions {
  workingDirectory: string;
  /** the working directory without symlinks */
  realWorkingDirectory: string;
  /** names the `secrets` input provides, written as secrets/NAME */
  secrets: string[];
  /** absolute host paths a service may bind-mount as they are */
  hostPaths: string[];
  /** the `files` input is set: it may name what a path with a variable refers to */
  filesGiven: boolean;
  info: PathInfo;
}

/** `path` relative to `dir`, or undefined when it is not strictly inside. */
export function inside(dir: string, path: string): string | undefined {
  const rel = relative(dir, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : rel.split(sep).join('/');
}

const underHostPath = (hostPaths: string[], path: string) =>
  hostPaths.some((h) => path === h || inside(h, path) !== undefined);

/** The compose files whose text holds what was written (all of them when none does), for errors. */
export function composeFileNames(
  model: Pick<ProjectModel, 'composeTexts'>,
  written: string,
  wd: string,
): string {
  const all = Object.keys(model.composeTexts);
  const holding = all.filter((f) => model.composeTexts[f]!.includes(written));
  return (holding.length ? holding : all).map((f) => inside(wd, f) ?? f).join(', ');
}

/** Why a path inside the working directory cannot go into the release, if it cannot. */
function refusal(facts: PathFacts, opts: ClassifyOptions): string | undefined {
  if (facts.kind === 'special') return 'is a socket, fifo or device';
  if (facts.kind !== 'missing' && inside(opts.realWorkingDirectory, facts.real) === undefined) {
    return `is a symlink to ${facts.real}, outside working-directory`;
  }
  return undefined;
}

function classifyBind(mount: BindMount, model: ProjectModel, opts: ClassifyOptions, plan: ProjectPlan): void {
  const where = `${composeFileNames(model, mount.written, opts.workingDirectory)}: service ${mount.service}`;
  const rel = inside(opts.workingDirectory, mount.source);
  if (mount.source === opts.workingDirectory) {
    plan.errors.push(
      `${where} bind-mounts ${mount.written}, the whole working-directory; mount a subdirectory`,
    );
    return;
  }
  if (rel === undefined) {
    if (underHostPath(opts.hostPaths, mount.source)) return;
    plan.errors.push(
      `${where} bind-mounts ${mount.written} (${mount.source}), outside working-directory; ` +
        `only paths listed in "host-paths" may be mounted from the host`,
    );
    return;
  }
  const facts = opts.info(mount.source);
  const why = refusal(facts, opts);
  if (why) {
    plan.errors.push(`${where} bind-mounts ${mount.written}, which ${why}`);
  } else if (!mount.readOnly) {
    plan.data.push({ service: mount.service, path: rel, mount });
    if (facts.kind !== 'missing') plan.copies.push({ path: rel, origin: where }); // its first content
  } else if (facts.kind === 'missing') {
    plan.errors.push(`${where} bind-mounts ${mount.written} read-only, and it does not exist`);
  } else {
    plan.copies.push({ path: rel, origin: where });
  }
}

function classifyFile(
  ref: FileReference,
  model: ProjectModel,
  opts: ClassifyOptions,
  plan: ProjectPlan,
): void {
  const rel = inside(opts.workingDirectory, ref.path);
  // secrets/NAME is written from the `secrets` input; the repository's copy, if any, is not sent.
  if (
    ref.secret !== undefined &&
    rel === `secrets/${basename(ref.path)}` &&
    opts.secrets.includes(basename(ref.path))
  )
    return;
  const where = `${composeFileNames(model, ref.secret ?? ref.path, opts.workingDirectory)}: ${ref.what}`;
  if (rel === undefined) {
    plan.errors.push(`${where} names ${ref.path}, outside working-directory`);
    return;
  }
  const facts = opts.info(ref.path);
  const why = refusal(facts, opts);
  if (why) plan.errors.push(`${where} names ${rel}, which ${why}`);
  else if (facts.kind === 'missing' && ref.secret !== undefined) {
    plan.errors.push(
      `${where}: ${rel} is neither in the repository nor given by the "secrets" input (add ${basename(ref.path)} to "secrets")`,
    );
  } else if (facts.kind === 'missing' && !ref.optional)
    plan.errors.push(`${where} names ${rel}, which does not exist`);
  else if (facts.kind !== 'missing') plan.copies.push({ path: rel, origin: where });
}

/** Drops duplicates (the first origin stays) and paths inside another copied directory. */
export function topmost(copies: Copy[]): Copy[] {
  const byPath = new Map<string, Copy>();
  for (const c of copies) if (!byPath.has(c.path)) byPath.set(c.path, c);
  const paths = [...byPath.keys()];
  return [...byPath.values()]
    .filter((c) => !paths.some((q) => c.path.startsWith(`${q}/`)))
    .sort((a, b) => a.path.localeCompare(b.path));
}

export function classifyProject(model: ProjectModel, opts: ClassifyOptions): ProjectPlan {
  const plan: ProjectPlan = { copies: [], data: [], errors: [] };
  for (const mount of model.binds) classifyBind(mount, model, opts, plan);
  for (const ref of model.files) classifyFile(ref, model, opts, plan);
  // With "files" set, the host's `compose config` (before anything changes) catches a file it lacks.
  for (const ref of opts.filesGiven ? [] : model.interpolated) {
    plan.errors.push(
      `${inside(opts.workingDirectory, ref.from) ?? ref.from}: ${ref.via} ${ref.written} has a variable in its path; ` +
        `list the file(s) it names in "files"`,
    );
  }
  plan.copies = topmost(plan.copies);
  return plan;
}
