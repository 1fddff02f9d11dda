// Small network helpers for integration tests: a free port, an HTTPS GET trusting the lab CA, and
// the number of connections an sshd has logged.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function httpsGet(
  caFile: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: 'localhost', port, path, ca: readFileSync(caFile), timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Connections accepted so far, from an sshd log at LogLevel VERBOSE. */
export function sshdConnections(log: string): number {
  return (
    readFileSync(log, 'utf8').match(/Connection from 127\.0\.0\.1 port \d+ on 127\.0\.0\.1 port/g) ?? []
  ).length;
}
