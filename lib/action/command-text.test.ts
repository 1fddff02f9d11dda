import { describe, expect, it } from 'vitest';
import { commandFailedMessage, describeCommand, formatCommandLine, tailLines } from './command-text.js';

describe('formatting', () => {
  it('describeCommand shows the basename and first three arguments, shortened and redacted', () => {
    expect(describeCommand('/usr/bin/docker', ['compose', 'up', '--wait', '--detach'])).toBe(
      'docker compose up --wait …',
    );
    expect(describeCommand('docker', ['login', '-p', 'hunter2', 'ghcr.io'], [2])).toBe(
      'docker login -p *** …',
    );
    expect(describeCommand('sh', ['-c', 'x'.repeat(100)])).toBe(`sh -c '${'x'.repeat(60)}…'`);
  });

  it('formatCommandLine quotes words with shell metacharacters and masks redacted ones', () => {
    expect(formatCommandLine('ssh', ['-p', '22', 'deploy@host', "echo 'hi' && ls"], [1])).toBe(
      `ssh -p *** deploy@host 'echo '\\''hi'\\'' && ls'`,
    );
  });

  it('tailLines keeps the last lines and drops trailing blank space', () => {
    expect(tailLines('a\nb\nc\n\n', 2)).toBe('b\nc');
    expect(tailLines('', 5)).toBe('');
  });

  it('commandFailedMessage', () => {
    expect(commandFailedMessage('docker push', 1, 'denied: unauthorized\n')).toBe(
      '`docker push` failed with exit code 1; last lines of stderr:\ndenied: unauthorized',
    );
  });
});
