// Names of berth/deploy's inputs, outputs and saved state, in one place so action.yml, the code
// and the tests agree (test/actions.test.ts checks action.yml against these).

export const Inputs = {
  Host: 'host',
  Port: 'port',
  User: 'user',
  SshKey: 'ssh-key',
  KnownHosts: 'known-hosts',
  JumpHost: 'jump-host',
  ConnectTimeout: 'connect-timeout',
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
  CaFile: 'ca-file',
  Rollback: 'rollback',
  KeepReleases: 'keep-releases',
  Prune: 'prune',
  LockTimeout: 'lock-timeout',
  Mode: 'mode',
} as const;

export const Outputs = {
  Release: 'release',
  PreviousRelease: 'previous-release',
  Status: 'status',
  DurationSeconds: 'duration-seconds',
} as const;

export const State = {} as const;

export type DeployStatus = 'deployed' | 'rolled-back' | 'failed';
