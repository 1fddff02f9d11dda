// promtool's and amtool's releases as upstream publishes them, and the inputs that pick them.
import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../lib/action/testing.js';
import {
  DEFAULT_MONITORING_DOWNLOAD_URL,
  MONITORING_RELEASES,
  monitoringAssets,
  monitoringAssetUrl,
  parseMonitoringDownloadUrl,
  parseMonitoringVersion,
} from './monitoring-install.js';

describe('the releases promtool and amtool come from', () => {
  it("upstream's asset names, the binary in the archive's directory, and its URL layout", () => {
    expect(monitoringAssets('promtool', '3.5.0', 'x64', 'linux')).toEqual({
      archive: 'prometheus-3.5.0.linux-amd64.tar.gz',
      checksums: 'sha256sums.txt',
      binary: 'prometheus-3.5.0.linux-amd64/promtool',
    });
    expect(monitoringAssets('amtool', '0.28.1', 'arm64', 'linux').binary).toBe(
      'alertmanager-0.28.1.linux-arm64/amtool',
    );
    expect(monitoringAssetUrl(DEFAULT_MONITORING_DOWNLOAD_URL, 'amtool', '0.28.1', 'sha256sums.txt')).toBe(
      'https://github.com/prometheus/alertmanager/releases/download/v0.28.1/sha256sums.txt',
    );
    expect(() => monitoringAssets('promtool', '3.5.0', 'x64', 'darwin')).toThrow(
      /Linux x64 and arm64 runners only/,
    );
  });

  it('pins a SHA-256 for both architectures of each default release', () => {
    for (const release of Object.values(MONITORING_RELEASES)) {
      expect(Object.keys(release.sha256).sort()).toEqual(['arm64', 'x64']);
      for (const hash of Object.values(release.sha256)) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('versions are exact; the download URL is https, or plain http to this machine only', () => {
    expect(parseMonitoringVersion('promtool', '')).toBe(MONITORING_RELEASES.promtool.version);
    expect(parseMonitoringVersion('amtool', 'v0.25.0')).toBe('0.25.0');
    expect(inputErrorOf(() => parseMonitoringVersion('promtool', '3.x')).message).toBe(
      'Input "prometheus-version": "3.x" is a version range: pin an exact release such as 3.5.0',
    );
    expect(inputErrorOf(() => parseMonitoringVersion('amtool', 'main')).message).toBe(
      'Input "alertmanager-version": "main" is not an Alertmanager release version (x.y.z, e.g. 0.28.1)',
    );
    expect(parseMonitoringDownloadUrl('')).toBe(DEFAULT_MONITORING_DOWNLOAD_URL);
    expect(parseMonitoringDownloadUrl('http://127.0.0.1:8089/prometheus/')).toBe(
      'http://127.0.0.1:8089/prometheus',
    );
    expect(inputErrorOf(() => parseMonitoringDownloadUrl('http://mirror.example.com/p')).message).toBe(
      'Input "monitoring-download-url": "http://mirror.example.com/p" is plain http, which anyone on the way can ' +
        'alter together with its checksums file: use https (plain http is accepted only to this machine)',
    );
  });
});
