// Names of berth/deploy's inputs, outputs and saved state, in one place so action.yml, the code
// and the tests agree (test/actions.test.ts checks action.yml against these).
import { SshInputNames } from '../../../lib/ssh/inputs.js';

export const Inputs = {
  ...SshInputNames,
  Project: 'project',
  ComposeFiles: 'compose-files',
  Environment: 'environment',
  WorkingDirectory: 'working-directory',
  Env: 'env',
  Secrets: 'secrets',
  Images: 'images',
  Registry: 'registry',
  RegistryUsername: 'registry-username',
  RegistryPassword: 'registry-password',
  RemoteDir: 'remote-dir',
  WaitTimeout: 'wait-timeout',
  HealthUrls: 'health-urls',
  HealthHeaders: 'health-headers',
  CaFile: 'ca-file',
  CertMinDays: 'cert-min-days',
  Files: 'files',
  HostPaths: 'host-paths',
  MaxBundleSize: 'max-bundle-size',
  Rollback: 'rollback',
  KeepReleases: 'keep-releases',
  Prune: 'prune',
  LockTimeout: 'lock-timeout',
  Mode: 'mode',
  PreDeploy: 'pre-deploy',
  PostDeploy: 'post-deploy',
  Release: 'release',
  ZeroDowntime: 'zero-downtime',
  Proxy: 'proxy',
  ProxyReload: 'proxy-reload',
  DrainSeconds: 'drain-seconds',
  MetricsDir: 'metrics-dir',
  AlertmanagerUrl: 'alertmanager-url',
  AlertFilter: 'alert-filter',
  BakeSeconds: 'bake-seconds',
  BootstrapProfile: 'bootstrap-profile',
  DeployUser: 'deploy-user',
  DeployPublicKeys: 'deploy-public-keys',
  DockerSource: 'docker-source',
  VerifyKey: 'verify-key',
  VerifyIdentity: 'verify-identity',
  VerifyIssuer: 'verify-issuer',
  TransparencyLog: 'transparency-log',
  AllowedRegistries: 'allowed-registries',
  CosignVersion: 'cosign-version',
  CosignDownloadUrl: 'cosign-download-url',
} as const;

export const Outputs = {
  Release: 'release',
  PreviousRelease: 'previous-release',
  Status: 'status',
  DurationSeconds: 'duration-seconds',
  Releases: 'releases',
} as const;

export const State = {
  /** the local directory the release bundle was staged in, for the post step to remove */
  StagingDir: 'staging-dir',
} as const;

export type DeployStatus = 'deployed' | 'rolled-back' | 'failed';
