// The puller asks the runtime whether an image is present at most once a minute per image
// (a podman CLI call costs ~80 ms of every pod start), and asks again at once when a run
// found it gone or image GC removed images. The runtime here only counts the questions.
import test from 'ava';
import { Backoff } from '../../agent/pods/backoff.js';
import { ImagePuller } from '../../agent/pods/image-puller.js';
import type { ContainerRuntime } from '../../agent/runtime/container-runtime.js';

function setup() {
  let now = 1_000_000;
  const asked: string[] = [];
  const runtime = { imageExists: async (ref: string) => { asked.push(ref); return true; } } as unknown as ContainerRuntime;
  const clock = { now: () => now };
  const puller = new ImagePuller(runtime, new Backoff({ baseMs: 10_000, maxMs: 300_000 }, clock), clock);
  const events: string[] = [];
  const ensure = (image: string) => puller.ensure({ name: 'c', image, imagePullPolicy: 'IfNotPresent' }, `uid/${image}`, (_t, reason) => events.push(reason));
  return { puller, asked, events, ensure, advance: (ms: number) => { now += ms; } };
}

test('a present image is asked about once a minute, and its Pulled event still comes every time', async (t) => {
  const s = setup();
  t.deepEqual(await s.ensure('app:1'), { ok: true });
  t.deepEqual(await s.ensure('app:1'), { ok: true });
  s.advance(59_000);
  await s.ensure('app:1');
  t.deepEqual(s.asked, ['app:1']);
  s.advance(2_000);
  await s.ensure('app:1');
  t.deepEqual(s.asked, ['app:1', 'app:1']);
  t.deepEqual(s.events, ['Pulled', 'Pulled', 'Pulled', 'Pulled']);
});

test('an image a run did not find, or any image GC removal, is asked about again', async (t) => {
  const s = setup();
  await s.ensure('app:1');
  await s.ensure('db:2');
  s.puller.forgetImage('app:1');
  await s.ensure('app:1');
  await s.ensure('db:2');
  t.deepEqual(s.asked, ['app:1', 'db:2', 'app:1']);
  s.puller.forgetImages();
  await s.ensure('db:2');
  t.deepEqual(s.asked, ['app:1', 'db:2', 'app:1', 'db:2']);
});
