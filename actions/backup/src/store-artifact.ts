// Backups as workflow artifacts, through the runner's artifact service (@actions/artifact).
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BACKUP_ID } from './inputs.js';
import { MANIFEST, type Listing } from './manifest.js';
import { writeLocalFile, type BackupStore } from './store.js';

type ArtifactModule = typeof import('@actions/artifact');
let artifactModule: Promise<ArtifactModule> | undefined;
/** @actions/artifact (and its Azure SDK) loads only when an artifact destination is used. */
const loadArtifact = (): Promise<ArtifactModule> => (artifactModule ??= import('@actions/artifact'));

/** The artifact name of a backup. */
export const artifactName = (project: string, id: string): string => `berth-backup-${project}-${id}`;

/**
 * One artifact per backup, uploaded when its manifest is written (an artifact only exists once
 * finalized, so an interrupted backup leaves none), kept for `artifact-retention-days`. Reading lists
 * and downloads the artifacts of the current workflow run (any of its jobs), so a later job can verify
 * or restore them. The files are staged on the runner, since the service takes whole files.
 */
export class ArtifactStore implements BackupStore {
  readonly label = 'artifact';
  readonly pruned = false;
  private readonly staging: string;
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(
    readonly project: string,
    tempRoot: string,
    readonly retentionDays: number | undefined,
  ) {
    this.staging = mkdtempSync(join(tempRoot, 'berth-artifact-'));
  }

  where(id: string, name?: string): string {
    return `artifact ${artifactName(this.project, id)}${name ? `/${name}` : ''}`;
  }

  async write(id: string, name: string, data: Readable | string): Promise<void> {
    // Both end up in a path on the runner: nothing may lead out of the staging directory.
    if (!BACKUP_ID.test(id) || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
      throw new Error(`refusing to stage ${JSON.stringify(`${id}/${name}`)} for an artifact`);
    const dir = join(this.staging, 'up', id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, name);
    await writeLocalFile(`${file}.part`, data);
    renameSync(`${file}.part`, file);
    if (name !== MANIFEST) return;
    const { DefaultArtifactClient } = await loadArtifact();
    const files = readdirSync(dir).map((f) => join(dir, f));
    await new DefaultArtifactClient().uploadArtifact(artifactName(this.project, id), files, dir, {
      retentionDays: this.retentionDays,
      // The archives are compressed and encrypted already.
      compressionLevel: 0,
    });
    rmSync(dir, { recursive: true, force: true });
  }

  /** The artifact's files, downloaded once into the staging directory. */
  private download(id: string): Promise<string> {
    let dir = this.downloads.get(id);
    if (!dir) {
      dir = (async () => {
        const { DefaultArtifactClient } = await loadArtifact();
        const client = new DefaultArtifactClient();
        const name = artifactName(this.project, id);
        const { artifact } = await client.getArtifact(name);
        const path = join(this.staging, 'down', id);
        await client.downloadArtifact(artifact.id, { path });
        return path;
      })();
      this.downloads.set(id, dir);
    }
    return dir;
  }

  /** The downloaded file `<id>/<name>`, which must be in the artifact. */
  private async downloaded(id: string, name: string): Promise<string> {
    const file = join(await this.download(id), name);
    if (!existsSync(file)) throw new Error(`${this.where(id, name)} is missing from the artifact`);
    return file;
  }

  async read(id: string, name: string, sink: Writable): Promise<void> {
    await pipeline(createReadStream(await this.downloaded(id, name)), sink);
  }

  async readText(id: string, name: string): Promise<string> {
    return readFileSync(await this.downloaded(id, name), 'utf8');
  }

  async list(): Promise<Listing> {
    const { DefaultArtifactClient } = await loadArtifact();
    const { artifacts } = await new DefaultArtifactClient().listArtifacts({ latest: true });
    const prefix = artifactName(this.project, '');
    const complete = artifacts
      .map((a) => a.name.slice(prefix.length))
      .filter((x, i) => artifacts[i]!.name.startsWith(prefix) && BACKUP_ID.test(x))
      .sort();
    return { complete, partial: [] };
  }

  /** Artifacts expire by artifact-retention-days; Berth deletes none. */
  async remove(): Promise<void> {}

  close(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}
