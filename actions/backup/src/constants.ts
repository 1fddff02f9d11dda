// Names of berth/backup's inputs, outputs and saved state, in one place so action.yml, the code
// and the tests agree (test/actions.test.ts checks action.yml against these).
import { SshInputNames } from '../../../lib/ssh/inputs.js';

export const Inputs = {
  Mode: 'mode',
  ...SshInputNames,
  Project: 'project',
  Volumes: 'volumes',
  Databases: 'databases',
  StopServices: 'stop-services',
  HelperImage: 'helper-image',
  Destinations: 'destinations',
  DestinationSshKey: 'destination-ssh-key',
  ArtifactRetentionDays: 'artifact-retention-days',
  Compression: 'compression',
  EncryptionRecipients: 'encryption-recipients',
  DecryptionKey: 'decryption-key',
  BackupId: 'backup-id',
  Retention: 'retention',
  Verify: 'verify',
  SigningKey: 'signing-key',
  SigningPublicKey: 'signing-public-key',
  AllowUnsigned: 'allow-unsigned',
  AllowUnencrypted: 'allow-unencrypted',
  RemoteDir: 'remote-dir',
  LockTimeout: 'lock-timeout',
  MetricsDir: 'metrics-dir',
  HeartbeatUrl: 'heartbeat-url',
} as const;

export const Outputs = {
  BackupId: 'backup-id',
  Manifest: 'manifest',
  Bytes: 'bytes',
  Pruned: 'pruned',
  PrunedIds: 'pruned-ids',
  Verified: 'verified',
} as const;

export const State = {} as const;

export const MODES = ['backup', 'restore', 'verify'] as const;
export type Mode = (typeof MODES)[number];

/** How volume archives and SQL dumps are compressed on the host (pg_dump's custom format compresses itself). */
export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const ENGINES = ['postgres', 'mysql', 'mariadb'] as const;
export type Engine = (typeof ENGINES)[number];

/** Services whose containers carry this label are stopped while volumes are archived, like `stop-services`. */
export const STOP_LABEL = 'berth.backup.stop=true';

/** The `format` of a manifest; a directory whose manifest has another is not a (complete) backup. */
export const MANIFEST_FORMAT = 'berth-backup/1';
/** A backup id, `<UTC yyyymmddThhmmssZ>-<4 hex>`, as an ERE (bash `=~`) and JavaScript pattern. */
export const BACKUP_ID_PATTERN = '[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}';
