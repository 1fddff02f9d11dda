// The two ways berth/backup's helper containers stream a volume's tar on the lab host: a FIFO
// bind-mounted into the container (what PIPE_CHECK picks where the daemon sees the user's temp dir)
// and docker's attach (the fallback). Both must carry the same bytes both ways, and a helper that
// fails before it opens the FIFO must fail the script at once instead of leaving it waiting.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHIVE_VOLUME,
  DROP_TEMP,
  PIPE_CHECK,
  UNPACK_TO_TEMP,
  VOLUME_DIGEST,
} from '../actions/backup/src/script/volumes.js';
import { runHostScript } from '../lib/ssh/host-script.js';
import { SshSession } from '../lib/ssh/session.js';
import { readLab } from '../scripts/lab/lab.js';

const lab = readLab();
const id = randomBytes(4).toString('hex');
const source = `berth-tr-${id}-src`;
const temps: string[] = [];
let session: SshSession;

/** Volume names made by a test, removed at the end. */
const temp = (): string => {
  const name = `berth-tr-${id}-${temps.length}`;
  temps.push(name);
  return name;
};

/** The berth-pipe-* directories in the deploy user's temp dir. */
const pipeDirs = async (): Promise<string> =>
  (await session.exec('ls -d /tmp/berth-pipe-* 2>/dev/null || true', { silent: true })).stdout.trim();

const digest = async (volume: string, tool = ''): Promise<string> =>
  (
    await runHostScript(
      session,
      VOLUME_DIGEST,
      { IMAGE: lab.baseImage, VOLUME: volume, HASH_TOOL: tool },
      { silent: true },
    )
  ).stdout;

const archive = async (transport: string, compression = 'none'): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await runHostScript(
    session,
    ARCHIVE_VOLUME,
    { IMAGE: lab.baseImage, VOLUME: source, COMPRESSION: compression, TRANSPORT: transport },
    { stdout: sink, silent: true },
  );
  return Buffer.concat(chunks);
};

/** UNPACK_TO_TEMP's values: a zstd archive of project berth-tr's volume src into `volume`. */
const unpackValues = (image: string, volume: string, transport: string) => ({
  IMAGE: image,
  PROJECT: 'berth-tr',
  COMPOSE_VOLUME: 'src',
  TEMP_VOLUME: volume,
  COMPRESSION: 'zstd',
  TRANSPORT: transport,
});

beforeAll(async () => {
  session = await SshSession.open({
    host: lab.sshHost,
    port: lab.sshPort,
    user: lab.sshUser,
    privateKey: readFileSync(lab.sshKey, 'utf8'),
    knownHosts: readFileSync(lab.knownHosts, 'utf8'),
    connectTimeoutSeconds: 10,
  });
  // A few MiB of random data, an empty file, a hostile name, a symlink, a nested directory and
  // ownership/permissions that tar must keep.
  await session.script(
    String.raw`set -eu
docker volume create "$2" >/dev/null
docker run --rm --network none --user 0:0 -v "$2:/v" --entrypoint sh "$1" -c '
  set -eu
  head -c 3000000 /dev/urandom >/v/blob
  : >/v/empty
  mkdir -p "/v/a dir/deeper"
  printf "x" >"/v/a dir/deeper/\$(touch x) \"q\" *"
  ln -s blob /v/link
  chown 1234:5678 /v/blob
  chmod 0640 /v/blob'
`,
    { args: [lab.baseImage, source], silent: true },
  );
}, 120_000);

afterAll(async () => {
  await session.exec(`docker volume rm -f ${[source, ...temps].join(' ')} >/dev/null`, { silent: true });
  await session.close();
});

describe('volume transports (real engine over SSH)', () => {
  it('PIPE_CHECK finds the FIFO usable on the lab host, and leaves nothing behind', async () => {
    const r = await runHostScript(session, PIPE_CHECK, { IMAGE: lab.baseImage }, { silent: true });
    expect(r.stdout).toBe('::berth::transport=pipe\n');
    const broken = await runHostScript(
      session,
      PIPE_CHECK,
      { IMAGE: 'berth-no-such-image:0' },
      { silent: true },
    );
    expect(broken.stdout).toBe('::berth::transport=attach\n');
    expect(await pipeDirs()).toBe('');
  });

  it('archives the same tar stream through the FIFO as through attach', async () => {
    const [viaPipe, viaAttach] = [await archive('pipe'), await archive('attach')];
    expect(viaPipe.length).toBeGreaterThan(3_000_000);
    // tar of an unchanged volume is byte-for-byte repeatable (same order, same metadata)
    expect(viaPipe.equals(viaAttach)).toBe(true);
    expect(await pipeDirs()).toBe('');
  });

  it.each(['pipe', 'attach'])(
    'unpacks through %s into a volume identical to the source',
    async (transport) => {
      const packed = await archive('pipe', 'zstd');
      const volume = temp();
      await runHostScript(session, UNPACK_TO_TEMP, unpackValues(lab.baseImage, volume, transport), {
        input: packed,
        silent: true,
      });
      expect(await digest(volume)).toBe(await digest(source));
      expect(await digest(volume)).toMatch(/^::berth::content=3 [0-9a-f]{64} b2sum \d+\n$/);
      const meta = await session.exec(
        `docker run --rm --network none -v ${volume}:/v --entrypoint stat ${lab.baseImage} -c '%u:%g %a %F' /v/blob /v/link`,
        { silent: true },
      );
      expect(meta.stdout).toBe('1234:5678 640 regular file\n0:0 777 symbolic link\n');
      expect(await pipeDirs()).toBe('');
    },
  );

  it('digests with b2sum where the image has it, with sha256sum when asked (older manifests), and refuses others', async () => {
    const b2 = await digest(source);
    const sha = await digest(source, 'sha256sum');
    expect(b2).toMatch(/^::berth::content=3 [0-9a-f]{64} b2sum \d+\n$/);
    expect(sha).toMatch(/^::berth::content=3 [0-9a-f]{64} sha256sum \d+\n$/);
    expect(b2.split(' ')[1]).not.toBe(sha.split(' ')[1]);
    expect(await digest(source, 'b2sum')).toBe(b2);
    await expect(digest(source, 'md5sum')).rejects.toThrow(/unknown hash tool md5sum/);
    // An image without b2sum (busybox-based ones): sha256sum, and a clear error when b2sum is asked for.
    const plain = `berth-tr-nob2:${id}`;
    await session.exec(
      `printf 'FROM %s\\nRUN rm -f /usr/bin/b2sum\\n' ${lab.baseImage} | docker build -q -t ${plain} - >/dev/null`,
      { silent: true },
    );
    try {
      const run = (tool: string) =>
        runHostScript(
          session,
          VOLUME_DIGEST,
          { IMAGE: plain, VOLUME: source, HASH_TOOL: tool },
          { silent: true, ignoreReturnCode: true },
        );
      expect((await run('')).stdout).toBe(sha);
      const missing = await run('b2sum');
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toMatch(/the helper image has no b2sum \(set helper-image\)/);
    } finally {
      await session.exec(`docker image rm -f ${plain} >/dev/null`, { silent: true });
    }
  }, 120_000);

  it.each(['pipe', 'attach'])(
    'through %s, a helper that cannot start fails the script at once (no wait for the FIFO)',
    async (transport) => {
      // A script left waiting for the FIFO would hang until the test's timeout fails it.
      const out = await runHostScript(
        session,
        ARCHIVE_VOLUME,
        { IMAGE: 'berth-no-such-image:0', VOLUME: source, COMPRESSION: 'zstd', TRANSPORT: transport },
        { silent: true, ignoreReturnCode: true },
      );
      expect(out.exitCode).not.toBe(0);
      expect(out.stderr).toMatch(/berth-no-such-image/);
      const volume = temp();
      const back = await runHostScript(
        session,
        UNPACK_TO_TEMP,
        unpackValues('berth-no-such-image:0', volume, transport),
        {
          input: await archive('pipe', 'zstd'),
          silent: true,
          ignoreReturnCode: true,
        },
      );
      expect(back.exitCode).not.toBe(0);
      expect(back.stderr).toMatch(/berth-no-such-image/);
      await runHostScript(session, DROP_TEMP, { TEMP_VOLUME: volume }, { silent: true });
      expect(await pipeDirs()).toBe('');
    },
    90_000,
  );

  it.each(['pipe', 'attach'])('through %s, a corrupt stream fails the unpack', async (transport) => {
    const packed = await archive('pipe', 'zstd');
    const cut = packed.subarray(0, packed.length >> 1);
    const volume = temp();
    const r = await runHostScript(session, UNPACK_TO_TEMP, unpackValues(lab.baseImage, volume, transport), {
      input: cut,
      silent: true,
      ignoreReturnCode: true,
    });
    expect(r.exitCode).not.toBe(0);
    expect(await pipeDirs()).toBe('');
  });
});
