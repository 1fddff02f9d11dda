// Names of berth/backup's inputs, outputs and saved state, in one place so action.yml, the code
// and the tests agree (test/actions.test.ts checks action.yml against these).

export const Inputs = {
  Mode: 'mode',
  Host: 'host',
  Port: 'port',
  User: 'user',
  SshKey: 'ssh-key',
  KnownHosts: 'known-hosts',
  JumpHost: 'jump-host',
  ConnectTimeout: 'connect-timeout',
  Project: 'project',
  Volumes: 'volumes',
  Databases: 'databases',
  StopServices: 'stop-services',
  HelperImage: 'helper-image',
  Destination: 'destination',
  DestinationSshKey: 'destination-ssh-key',
  EncryptionRecipients: 'encryption-recipients',
  DecryptionKey: 'decryption-key',
  BackupId: 'backup-id',
  Retention: 'retention',
  Verify: 'verify',
} as const;

export const Outputs = {
  BackupId: 'backup-id',
  Manifest: 'manifest',
  Bytes: 'bytes',
  Pruned: 'pruned',
  Verified: 'verified',
} as const;

export const State = {} as const;

export const MODES = ['backup', 'restore', 'verify'] as const;
export type Mode = (typeof MODES)[number];
