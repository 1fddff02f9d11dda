// The synthetic advisories in the lab's Trivy DB (scripts/lab/trivy-db/advisories.json, which lab:up
// builds into .lab/trivy/db and publishes as LAB_TRIVY_DB_REPOSITORY). They name real source
// packages of the lab's Debian bookworm base image, all in its essential set, so a scan of any image
// built on it reports them; test/trivy-lab.test.ts checks these constants against the JSON and a
// real scan.

export type LabSeverity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface LabAdvisory {
  id: string;
  /** Debian source package (and, for these, the binary package Trivy reports) */
  package: string;
  severity: LabSeverity;
  /** empty: no fix (Trivy's status `affected`), dropped by --ignore-unfixed */
  fixedVersion: string;
  title: string;
}

const title = (pkg: string, id: string): string =>
  `${pkg}: Berth lab advisory ${id} (synthetic, not a real vulnerability)`;
const advisory = (id: string, pkg: string, severity: LabSeverity, fixedVersion: string): LabAdvisory => ({
  id,
  package: pkg,
  severity,
  fixedVersion,
  title: title(pkg, id),
});

export const LabAdvisories = {
  /** CRITICAL with a fix: kept by --ignore-unfixed */
  CriticalFixed: advisory('BERTH-LAB-2026-0001', 'tar', 'CRITICAL', '1.34+dfsg-1.2+deb12u99'),
  HighFixed: advisory('BERTH-LAB-2026-0002', 'gzip', 'HIGH', '1.12-1+deb12u99'),
  MediumFixed: advisory('BERTH-LAB-2026-0003', 'sed', 'MEDIUM', '4.9-1+deb12u99'),
  LowFixed: advisory('BERTH-LAB-2026-0004', 'grep', 'LOW', '3.8-5+deb12u99'),
  /** CRITICAL without a fix: dropped by --ignore-unfixed */
  CriticalUnfixed: advisory('BERTH-LAB-2026-0005', 'bash', 'CRITICAL', ''),
  /** fixed in a version older than bookworm's: never reported */
  NotAffected: advisory('BERTH-LAB-2026-0006', 'coreutils', 'HIGH', '8.32-4'),
} as const;

/** Every advisory in the DB, in ID order. */
export const LAB_ADVISORIES: readonly LabAdvisory[] = Object.values(LabAdvisories);

/** What a scan of an image built on the lab's base image reports. */
export const LAB_REPORTED_ADVISORIES: readonly LabAdvisory[] = LAB_ADVISORIES.filter(
  (a) => a !== LabAdvisories.NotAffected,
);

/** The same with --ignore-unfixed. */
export const LAB_REPORTED_FIXED_ADVISORIES: readonly LabAdvisory[] = LAB_REPORTED_ADVISORIES.filter(
  (a) => a.fixedVersion !== '',
);

/** Findings per severity of such a scan: `{ CRITICAL: 2, HIGH: 1, MEDIUM: 1, LOW: 1 }`. */
export function severityCounts(advisories: readonly LabAdvisory[]): Record<LabSeverity, number> {
  const counts: Record<LabSeverity, number> = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0 };
  for (const a of advisories) counts[a.severity] += 1;
  return counts;
}
