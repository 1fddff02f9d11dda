// Retention: which backups to keep, as a pure function over backup ids and their times. Each rule
// keeps the newest backup of each of its N most recent periods that have a backup (days, ISO weeks,
// months, in UTC); a backup is kept when any rule keeps it. Deleting is the caller's job.
import { inputError } from '../../../lib/action/inputs.js';

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface DatedBackup {
  id: string;
  created: Date;
}

const RULES = ['daily', 'weekly', 'monthly'] as const;

/** `daily=7,weekly=4,monthly=12` (any subset, any order); `none` or empty keeps everything (null). */
export function parseRetention(name: string, value: string): RetentionPolicy | null {
  const text = value.trim();
  if (text === '' || text.toLowerCase() === 'none') return null;
  const policy: RetentionPolicy = { daily: 0, weekly: 0, monthly: 0 };
  const seen = new Set<string>();
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const match = /^(daily|weekly|monthly)=(\d{1,4})$/.exec(part);
    if (!match || seen.has(match[1]!)) {
      throw inputError(
        name,
        `${JSON.stringify(part)} is not a rule (daily=N, weekly=N, monthly=N, each at most once, e.g. daily=7,weekly=4,monthly=12; or none)`,
      );
    }
    seen.add(match[1]!);
    policy[match[1] as (typeof RULES)[number]] = Number(match[2]);
  }
  return policy;
}

function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day); // the Thursday of this week decides its year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const PERIOD: Record<(typeof RULES)[number], (d: Date) => string> = {
  daily: (d) => d.toISOString().slice(0, 10),
  weekly: isoWeek,
  monthly: (d) => d.toISOString().slice(0, 7),
};

/** The ids to keep; every id not in the set is to be pruned. */
export function keptBackups(backups: readonly DatedBackup[], policy: RetentionPolicy): Set<string> {
  const newestFirst = [...backups].sort(
    (a, b) => b.created.getTime() - a.created.getTime() || b.id.localeCompare(a.id),
  );
  const kept = new Set<string>();
  for (const rule of RULES) {
    let left = policy[rule];
    let last: string | undefined;
    for (const backup of newestFirst) {
      if (left <= 0) break;
      const period = PERIOD[rule](backup.created);
      if (period === last) continue;
      last = period;
      kept.add(backup.id);
      left -= 1;
    }
  }
  return kept;
}
