// Names of berth/build's inputs, outputs and saved state, in one place so action.yml, the code
// and the tests agree (a test checks action.yml against these).

export const Inputs = {
  Context: 'context',
  File: 'file',
  Target: 'target',
  BuildArgs: 'build-args',
  Platforms: 'platforms',
  Secrets: 'secrets',
  Image: 'image',
  Tags: 'tags',
  Labels: 'labels',
  Push: 'push',
  Load: 'load',
  RegistryUsername: 'registry-username',
  RegistryPassword: 'registry-password',
  Cache: 'cache',
  CacheRef: 'cache-ref',
  CacheDir: 'cache-dir',
  CacheMode: 'cache-mode',
  CacheScope: 'cache-scope',
  MaxSize: 'max-size',
  RequireNonRoot: 'require-non-root',
  FromDigest: 'from-digest',
  Builder: 'builder',
  DriverOpts: 'driver-opts',
  BuildkitdConfig: 'buildkitd-config',
  Provenance: 'provenance',
  Sbom: 'sbom',
  SbomGenerator: 'sbom-generator',
  CosignKey: 'cosign-key',
  CosignPassword: 'cosign-password',
  Keyless: 'keyless',
  TransparencyLog: 'transparency-log',
  CosignVersion: 'cosign-version',
  CosignDownloadUrl: 'cosign-download-url',
} as const;

export const Outputs = {
  Image: 'image',
  Tags: 'tags',
  Digest: 'digest',
  ImageId: 'image-id',
  Ref: 'ref',
  Size: 'size',
  CacheHitRatio: 'cache-hit-ratio',
  Metadata: 'metadata',
  Platforms: 'platforms',
  Attestations: 'attestations',
} as const;

export const State = {
  /** the registry the main step logged in to, for the post step's logout */
  LoggedInRegistry: 'logged-in-registry',
  /** the docker-container builder the main step created, for the post step to remove */
  CreatedBuilder: 'created-builder',
} as const;

export const CACHE_BACKENDS = ['gha', 'registry', 'local', 'inline', 'none'] as const;
export type CacheBackend = (typeof CACHE_BACKENDS)[number];
export const CACHE_MODES = ['max', 'min'] as const;
/** `true`: push by digest, check, tag (and sign); `digest`: the same without tags; `false`: load only. */
export const PUSH_MODES = ['true', 'false', 'digest'] as const;
export type PushMode = (typeof PUSH_MODES)[number];
/** BuildKit provenance: `min`, `max` or none. */
export const PROVENANCE_MODES = ['min', 'max', 'false'] as const;
export type ProvenanceMode = (typeof PROVENANCE_MODES)[number];
export const NON_ROOT_POLICIES = ['error', 'warn', 'off'] as const;
/** The GitHub cache service v2 is only spoken by buildx 0.21 and later. */
export const GHA_CACHE_MIN_BUILDX = '0.21.0';
/** ... and by BuildKit 0.20 and later (buildx hands it the service's URL as `url_v2`). */
export const GHA_CACHE_MIN_BUILDKIT = '0.20.0';
