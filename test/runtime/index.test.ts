import test from 'ava';
import { createRuntime, detectRuntime } from '../../agent/runtime/index.js';
import { NerdctlRuntime } from '../../agent/runtime/nerdctl.js';
import { ensureBusyboxImage } from '../helpers/podman-image.js';

test('createRuntime builds each driver and rejects unknown names', (t) => {
  const n = createRuntime('nerdctl', { namespace: 'lab' });
  t.true(n instanceof NerdctlRuntime);
  t.is((n as NerdctlRuntime).namespace, 'lab');
  t.is(createRuntime('podman').name, 'podman');
  t.is(createRuntime('docker').name, 'docker');
  t.is(createRuntime('simulated', { podCidr: '10.1.0.0/24' }).name, 'simulated');
  t.throws(() => createRuntime('rkt' as never), { message: /unknown container runtime "rkt"/ });
});

test('detectRuntime finds podman here and skips CLIs that are absent', async (t) => {
  await ensureBusyboxImage(); // installs podman when missing
  t.is(await detectRuntime(['podman']), 'podman');
  t.is(await detectRuntime([]), undefined);
  t.truthy(await detectRuntime());
});
