// After the checks pass: the tags, added in the registry to the digest BuildKit pushed (no layer is
// pushed again), each then read back to name that same digest. An index is tagged with `buildx
// imagetools create` (which copies it as it is, with the docker config's logins and helpers); a single
// manifest (no attestations) is stored under each tag by the registry client, because imagetools
// would wrap it in a new index of another digest.
import { run } from '../../../lib/action/exec.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { imagetoolsInspect } from '../../../lib/tools/docker.js';
import { tagManifest, type Credentials } from '../../../lib/tools/registry.js';

export function tagArgs(builder: string | undefined, source: string, refs: string[]): string[] {
  return [
    'buildx',
    'imagetools',
    'create',
    ...(builder ? ['--builder', builder] : []),
    ...refs.flatMap((r) => ['--tag', r]),
    '--',
    source,
  ];
}

/** The digest a tag names, from `imagetools inspect --format '{{json .Manifest}}'`. */
export function manifestDigest(json: string): string | undefined {
  const digest = (JSON.parse(json) as { digest?: unknown }).digest;
  return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
}

export interface TagTarget {
  image: string;
  digest: string;
  /** whether the digest names an index (else a single manifest) */
  index: boolean;
  /** the registry login for a single manifest's tags: the inputs', else the docker config's */
  credentials?: Credentials;
}

export async function tagPushed(
  builder: string | undefined,
  target: TagTarget,
  refs: string[],
): Promise<void> {
  const { image, digest } = target;
  if (target.index) {
    const created = await run('docker', tagArgs(builder, `${image}@${digest}`, refs), {
      ignoreReturnCode: true,
    });
    if (created.exitCode !== 0) {
      const why = created.stderr.trim().split('\n').pop() ?? `exit ${created.exitCode}`;
      throw new Error(`tagging ${image}@${digest} failed: ${oneLine(why)}`);
    }
  } else {
    const tags = refs.map((ref) => ref.slice(image.length + 1));
    await tagManifest(image, digest, tags, { credentials: target.credentials }).catch((error: Error) => {
      throw new Error(`tagging ${image}@${digest} failed: ${error.message}`);
    });
  }
  const named = await Promise.all(
    refs.map(async (ref) => {
      const r = await imagetoolsInspect(ref, '{{json .Manifest}}');
      return [ref, r.exitCode === 0 ? manifestDigest(r.stdout) : undefined] as const;
    }),
  );
  const wrong = named.filter(([, d]) => d !== digest);
  if (wrong.length > 0)
    throw new Error(
      `the registry does not name ${digest} under ${wrong.map(([ref, d]) => `${ref} (${d ?? 'nothing'})`).join(', ')}`,
    );
}

/** `load` with `push`: the pushed image pulled back by digest and tagged in the engine, byte for byte. */
export async function loadPushed(image: string, digest: string, refs: string[]): Promise<void> {
  const source = `${image}@${digest}`;
  await run('docker', ['pull', '--quiet', '--', source], { silent: true });
  for (const ref of refs) await run('docker', ['tag', source, ref], { silent: true });
}
