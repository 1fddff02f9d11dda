// Asks the lab registry directly (its HTTP API with basic auth) what it holds, to check what the
// actions report against the registry's own answer.
import type { Lab } from '../scripts/lab/lab.js';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function authHeader(lab: Lab): string {
  return 'Basic ' + Buffer.from(`${lab.registryUser}:${lab.registryPassword}`).toString('base64');
}

/** The registry's Docker-Content-Digest for repository:tag, or undefined when it has no such tag. */
export async function registryDigest(lab: Lab, repository: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://${lab.registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Authorization: authHeader(lab), Accept: MANIFEST_TYPES },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`registry HEAD ${repository}:${tag}: HTTP ${res.status}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}
