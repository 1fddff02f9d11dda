// What the project's compose model references on the runner's disk, found by compose itself
// (`docker compose config`, run over working-directory with the release's `.env`, so that
// interpolation means what it will mean on the host), plus the include/extends files it flattens.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { composeConfig, type ComposeConfig, type ComposeVolume } from '../../../../lib/tools/compose.js';
import { scanReferences, type ReferenceScan } from './references.js';

export interface BindMount {
  service: string;
  /** absolute, as compose resolved it */
  source: string;
  /** as the compose file spells it (for the error messages) */
  written: string;
  readOnly: boolean;
  /** compose's long form of the mount */
  volume: ComposeVolume;
}

/** A file the model names by path: a config or secret file, an env_file, an include or extends file. */
export interface FileReference {
  /** what names it, e.g. `configs.site`, `service api env_file` */
  what: string;
  /** absolute */
  path: string;
  /** an env_file with `required: false` */
  optional?: boolean;
  /** for secrets: the secret's key */
  secret?: string;
  /** for configs: the services that use it */
  services?: string[];
}

export interface ProjectModel {
  binds: BindMount[];
  files: FileReference[];
  /** include/extends paths written with a variable */
  interpolated: ReferenceScan['interpolated'];
  /** the listed compose files and those they include or extend, absolute, with their text */
  composeTexts: Record<string, string>;
  /** compose's resolved services (for the checks of other inputs, e.g. zero-downtime) */
  services: ComposeConfig['services'];
}

/** The pure part: the model's references from compose's two views of the project. */
export function modelReferences(
  resolved: ComposeConfig,
  written: ComposeConfig,
  workingDirectory: string,
): Pick<ProjectModel, 'binds' | 'files'> {
  const binds: BindMount[] = [];
  const files: FileReference[] = [];
  for (const [service, spec] of Object.entries(resolved.services)) {
    const asWritten = written.services[service];
    (spec.volumes ?? []).forEach((volume, i) => {
      if (volume.type !== 'bind' || typeof volume.source !== 'string') return;
      const source = asWritten?.volumes?.[i]?.source;
      binds.push({
        service,
        source: volume.source,
        written: typeof source === 'string' ? source : volume.source,
        readOnly: volume.read_only === true,
        volume,
      });
    });
    for (const env of asWritten?.env_file ?? []) {
      files.push({
        what: `service ${service} env_file`,
        path: resolve(workingDirectory, env.path),
        optional: env.required === false,
      });
    }
  }
  for (const kind of ['configs', 'secrets'] as const) {
    for (const [key, object] of Object.entries(resolved[kind] ?? {})) {
      if (!object.file || object.external) continue;
      const path = isAbsolute(object.file) ? object.file : resolve(workingDirectory, object.file);
      const services = Object.keys(resolved.services).filter((s) =>
        resolved.services[s]!.configs?.some((c) => c.source === key),
      );
      files.push({ what: `${kind}.${key}`, path, ...(kind === 'secrets' ? { secret: key } : { services }) });
    }
  }
  return { binds, files };
}

export interface DiscoverOptions {
  workingDirectory: string;
  project: string;
  /** relative to workingDirectory */
  composeFiles: string[];
  /** the release's staged `.env` */
  envFile: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs compose over the project (twice: resolved, and as written) and reads include/extends. */
export async function discoverModel(opts: DiscoverOptions): Promise<ProjectModel> {
  const base = {
    projectDirectory: opts.workingDirectory,
    project: opts.project,
    files: opts.composeFiles,
    envFile: opts.envFile,
  };
  const [resolved, written] = await Promise.all([
    composeConfig(base),
    composeConfig({ ...base, asWritten: true }),
  ]);
  const listed = opts.composeFiles.map((f) => join(opts.workingDirectory, f));
  const scan = scanReferences(listed, readText);
  const composeTexts: Record<string, string> = {};
  for (const path of [...listed, ...scan.references.map((r) => r.path)]) {
    const text = readText(path);
    if (text !== undefined) composeTexts[path] = text;
  }
  const { binds, files } = modelReferences(resolved, written, opts.workingDirectory);
  for (const ref of scan.references) files.push({ what: ref.via, path: ref.path });
  return { binds, files, interpolated: scan.interpolated, composeTexts, services: resolved.services };
}
