// berth/backup with a real MariaDB (built from Debian's packages on the lab's base image, see
// test/fixtures/mariadb): a consistent mariadb-dump through `docker compose exec -T` with the root
// password read inside the container from MARIADB_ROOT_PASSWORD_FILE, never on a command line;
// verify into a scratch MariaDB of the same image with row counts per table; restore after the
// data is damaged. The service is labelled berth.backup.stop=true, so it is stopped while its
// volume is archived, without being listed in stop-services.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { backupSigning, labSsh, readLab, repoRoot, sshInputs } from '../scripts/lab/lab.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-bkmy-${id}`;
const backups = `/home/deploy/berth-bkmy-${id}-backups`;
const marker = `/tmp/pwned-bkmy-${id}`;
// Quotes, a backslash, a command substitution, a '#' and a trailing space: all of it must survive
// the defaults file and none of it may run.
const rootPassword = `pw-${id}'"\\$(touch ${marker}) #x `;
const fixture = join(repoRoot, 'test/fixtures/mariadb');

const sh = async (command: string): Promise<string> =>
  (await exec('bash', ['-c', command], { maxBuffer: 64 << 20 })).stdout;

let workdir: string;
let image: string;
let identity: string;
let recipient: string;

/** SQL run inside the container as root (MYSQL_PWD set in the container's own shell, from the secret). */
const sql = (statements: string) =>
  sh(
    `echo ${Buffer.from(statements).toString('base64')} | base64 -d | docker compose -p ${project} exec -T db ` +
      `sh -c 'MYSQL_PWD=$(cat /run/secrets/db_root_password) exec mariadb -uroot -N -B shop'`,
  );
const digest = () =>
  sql(
    "SELECT COUNT(*), MD5(GROUP_CONCAT(id, ':', name, ':', HEX(payload) ORDER BY id)) FROM items; SELECT COUNT(*) FROM audit; SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'shop'; SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop'; SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop';",
  );

function backup(extra: Record<string, string | undefined> = {}): Promise<ActionResult> {
  return runAction('backup', {
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': `/home/deploy/${project}`,
      destinations: `host:${backups}`,
      databases: 'db:mariadb:shop',
      'helper-image': image,
      'encryption-recipients': recipient,
      'signing-key': backupSigning(lab).key,
      ...extra,
    },
  });
}

/** Every command line on this machine (the lab host) that mentions one of `needles`, sampled until `done`. */
async function watchCommandLines(needles: string[], done: Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        if (needles.some((n) => cmd.includes(n))) seen.add(cmd);
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return [...seen];
}

beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  // Built from the fixture on the lab's base image; docker's cache makes it seconds after the first time.
  const tag = createHash('sha256')
    .update(readFileSync(join(fixture, 'Dockerfile')))
    .update(readFileSync(join(fixture, 'docker-entrypoint.sh')))
    .update(lab.baseImage)
    .digest('hex')
    .slice(0, 12);
  image = `berth-test-mariadb:${tag}`;
  await sh(`docker build -q -t ${image} --build-arg BASE_IMAGE=${lab.baseImage} ${fixture} >/dev/null`);
  workdir = mkdtempSync(join(tmpdir(), 'berth-bkmy-'));
  cpSync(join(fixture, 'compose.yaml'), join(workdir, 'compose.yaml'));
  writeFileSync(join(workdir, 'db_root_password'), rootPassword, { mode: 0o644 });
  await sh(
    `cd ${workdir} && MARIADB_IMAGE=${image} docker compose -p ${project} up -d --wait --quiet-pull 2>&1 | tail -n 5`,
  );
  await sql(`
    CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(100), payload BLOB);
    CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, item INT);
    CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW INSERT INTO audit (item) VALUES (NEW.id);
    CREATE PROCEDURE count_items() SELECT COUNT(*) FROM items;
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0;
    INSERT INTO items
      SELECT seq, CONCAT('item ', seq, ' ''quoted'' "double" \\\\ back'), UNHEX(SHA2(seq, 256)) FROM seq_1_to_3000;
  `);
}, 600_000);

afterAll(async () => {
  await sh(
    `cd ${workdir} && MARIADB_IMAGE=${image} docker compose -p ${project} down -v >/dev/null 2>&1`,
  ).catch(() => undefined);
  rmSync(workdir, { recursive: true, force: true });
  await labSsh(lab, `rm -rf ${backups} /home/deploy/${project}`).catch(() => undefined);
});

describe('MariaDB', () => {
  let backupRun: ActionResult;
  let before: string;

  it('dumps with mariadb-dump inside the container, the password never on a command line', async () => {
    before = await digest();
    expect(before).toMatch(/^3000\t[0-9a-f]{32}\n3000\ncount_items\nitems_audit\nnightly\n$/);
    const running = backup();
    const needle = rootPassword.slice(0, 12);
    const lines = await watchCommandLines([needle, 'berth-my dump'], running);
    backupRun = await running;
    expect(backupRun.exitCode, backupRun.log).toBe(0);
    // The sampling saw the dump running (docker compose exec on the host), never the password.
    expect(lines.some((l) => l.includes('berth-my dump shop'))).toBe(true);
    expect(lines.filter((l) => l.includes(needle))).toEqual([]);
    expect(backupRun.log).not.toContain(rootPassword.trim());
    const manifest = JSON.parse(backupRun.outputs.manifest!) as {
      files: { name: string; source: string; compression: string; rows?: Record<string, number> }[];
    };
    const dump = manifest.files.find((f) => f.source === 'mariadb:db/shop');
    expect(dump).toMatchObject({
      name: 'mariadb-db-shop.sql.zst.age',
      compression: 'zstd',
      rows: { audit: 3000, items: 3000 },
    });
    expect(manifest.files.map((f) => f.source)).toContain('volume:data');
    // The labelled service was stopped for its volume and is running again.
    expect(backupRun.log).toMatch(/Stopped 1 container\(s\)/);
    expect(await sh(`docker inspect -f '{{.State.Running}}' $(docker compose -p ${project} ps -aq db)`)).toBe(
      'true\n',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('verifies into a scratch MariaDB of the service image: row counts per table', async () => {
    const r = await backup({ mode: 'verify', 'decryption-key': identity });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.verified).toBe('true');
    expect(r.log).toMatch(
      /mariadb-db-shop\.sql\.zst\.age: restored into a scratch MariaDB, 2 tables, row counts identical/,
    );
  });

  it('restores the dump after the data is damaged: rows, routines, triggers and events back', async () => {
    await sql(
      'DELETE FROM items WHERE id > 10; DROP PROCEDURE count_items; DROP EVENT nightly; TRUNCATE audit;',
    );
    expect(await digest()).not.toBe(before);
    // The data volume is swapped back first (the service stopped meanwhile), then the dump restored.
    const r = await backup({ mode: 'restore', 'decryption-key': identity });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toMatch(/Database shop of db \(mariadb\) restored/);
    expect(await digest()).toBe(before);
    expect(existsSync(marker)).toBe(false);
  });
});
