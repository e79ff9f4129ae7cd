// The same contract with spare sandboxes kept ready: a driver that hands out spares must
// be indistinguishable to the agent from one that makes every sandbox anew.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { PodmanRuntime, SPARE_OWNER_LABEL } from '../../agent/runtime/podman.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/podman-image.js';
import { runtimeConformance } from './conformance.js';

runtimeConformance('podman with spare sandboxes', async () => {
  await ensureBusyboxImage();
  const dir = await mkdtemp(join(tmpdir(), 'pikube-spares-'));
  const owner = `conf-${randomBytes(3).toString('hex')}`;
  const runtime = new PodmanRuntime({ sandboxPool: { size: 1, owner, dir } });
  await runtime.keepSandboxesReady(undefined);
  return {
    runtime, image: BUSYBOX_IMAGE,
    cleanup: async () => {
      await runtime.releaseSpareSandboxes();
      const left = (await execa('podman', ['pod', 'ps', '-q', '--filter', `label=${SPARE_OWNER_LABEL}=${owner}`], { reject: false })).stdout.split('\n').filter(Boolean);
      if (left.length) await execa('podman', ['pod', 'rm', '-f', '-t', '0', ...left], { reject: false });
      await rm(dir, { recursive: true, force: true });
    },
  };
}, { exitCodes: true, streams: true });
