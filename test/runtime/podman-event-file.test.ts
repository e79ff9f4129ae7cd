// The podman driver reads podman's events file itself where podman's logger is `file`:
// the path from podman's own debug log, and a follower of a real file that appends,
// splits lines and characters across writes, survives truncation and ends on replacement.
// Real podman for the driver: an exit arrives from the file with no `podman events` running.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventFileFromDebugLog, followFile } from '../../agent/runtime/podman-event-file.js';
import { PodmanRuntime } from '../../agent/runtime/podman.js';
import type { RuntimeEvent } from '../../agent/runtime/container-runtime.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/podman-image.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pikube-event-file-'));
const RUN = randomBytes(4).toString('hex');

test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  const ids = (await execa('podman', ['ps', '-aq', '--filter', `label=pikube.test/run=${RUN}`], { reject: false })).stdout.split('\n').filter(Boolean);
  if (ids.length) await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
});

test('the events file is the one podman names for its file logger, and none for journald', (t) => {
  const file = [
    'time="2026-12-05T20:59:22Z" level=debug msg="Using tmp dir /run/libpod"',
    'time="2026-12-05T20:59:22Z" level=debug msg="Initializing event backend file"',
    'time="2026-12-05T20:59:22Z" level=debug msg="Reading events from file \\"/run/libpod/events/events.log\\""',
  ].join('\n');
  t.is(eventFileFromDebugLog(file), '/run/libpod/events/events.log');
  const journald = 'time="x" level=debug msg="Initializing event backend journald"\ntime="x" level=debug msg="Reading events from journal"';
  t.is(eventFileFromDebugLog(journald), undefined);
  t.is(eventFileFromDebugLog(''), undefined);
});

test('a followed file gives whole new lines, across split writes and characters, and again from the start after a truncation', async (t) => {
  const path = join(dir, 'events.log');
  writeFileSync(path, '{"old":1}\n');
  const lines: string[] = [];
  const w = followFile(path, (l) => lines.push(l));
  try {
    await new Promise((r) => setTimeout(r, 200)); // open and watch
    appendFileSync(path, '{"a":1}\n{"b":');
    await waitFor('the first line', () => lines.length === 1, 5_000, 10);
    const snowman = Buffer.from('"☃"}\n');
    appendFileSync(path, snowman.subarray(0, 2)); // a character split across two writes
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(path, snowman.subarray(2));
    await waitFor('the second line', () => lines.length === 2, 5_000, 10);
    t.deepEqual(lines, ['{"a":1}', '{"b":"☃"}'], 'nothing from before the follow began');
    truncateSync(path, 0);
    appendFileSync(path, '{"c":1}\n');
    await waitFor('the line after the truncation', () => lines.length === 3, 5_000, 10);
    t.is(lines[2], '{"c":1}');
  } finally {
    w.stop();
  }
  t.is(await w.done, 0);
});

test('a followed file that is replaced ends the follow, after its last lines; a missing file ends it at once', async (t) => {
  const path = join(dir, 'rotated.log');
  writeFileSync(path, '');
  const lines: string[] = [];
  const w = followFile(path, (l) => lines.push(l));
  await new Promise((r) => setTimeout(r, 200));
  appendFileSync(path, '{"last":1}\n');
  renameSync(path, `${path}.1`);
  t.is(await w.done, 0);
  t.deepEqual(lines, ['{"last":1}']);
  t.is(await followFile(join(dir, 'absent.log'), () => undefined).done, 127);
});

test('podman: with the file logger an exit comes from the events file, and no `podman events` runs', async (t) => {
  const logger = (await execa('podman', ['info', '--format', '{{.Host.EventLogger}}'])).stdout.trim();
  await ensureBusyboxImage();
  const rt = new PodmanRuntime();
  const seen: RuntimeEvent[] = [];
  const watch = rt.watchEvents((e) => seen.push(e));
  try {
    await new Promise((r) => setTimeout(r, 1500)); // the probe has run and the follow begun
    const children = (await execa('ps', ['--ppid', String(process.pid), '-o', 'args='], { reject: false })).stdout;
    if (logger === 'file') t.notRegex(children, /podman events/, 'the file is read directly');
    else t.regex(children, /podman events/, `the ${logger} logger keeps the CLI`);
    const id = await rt.run({ name: `pkt-${RUN}-exit`, image: BUSYBOX_IMAGE, pullPolicy: 'Never', env: {}, labels: { 'pikube.test/run': RUN }, mounts: [], command: ['sh', '-c', 'exit 3'] });
    const exit = await waitFor('the exit event', () => seen.find((e) => e.type === 'container' && e.action === 'exited' && e.id === id), 20_000, 50);
    t.is(exit.type === 'container' ? exit.labels?.['pikube.test/run'] : undefined, RUN);
    await rt.remove(id);
    await waitFor('the removal event', () => seen.some((e) => e.type === 'container' && e.action === 'removed' && e.id === id), 20_000, 50);
  } finally {
    watch.stop();
  }
});
