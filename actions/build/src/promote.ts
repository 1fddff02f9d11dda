// After the checks pass: the tags, added in the registry to the digest BuildKit pushed (`buildx
// imagetools create`: no layer is pushed again), each then read back to name that same digest.
import { run } from '../../../lib/action/exec.js';

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

export async function tagPushed(
  builder: string | undefined,
  image: string,
  digest: string,
  refs: string[],
): Promise<void> {
  const created = await run('docker', tagArgs(builder, `${image}@${digest}`, refs), {
    ignoreReturnCode: true,
  });
  if (created.exitCode !== 0) {
    const why = created.stderr.trim().split('\n').pop() ?? `exit ${created.exitCode}`;
    throw new Error(`tagging ${image}@${digest} failed: ${why}`);
  }
  const named = await Promise.all(
    refs.map(async (ref) => {
      const r = await run(
        'docker',
        ['buildx', 'imagetools', 'inspect', '--format', '{{json .Manifest}}', '--', ref],
        {
          silent: true,
          ignoreReturnCode: true,
        },
      );
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
