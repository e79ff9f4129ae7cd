import test from 'ava';
import { classifyMessage, errorMessage } from '../../agent/runtime/container-cli-errors.js';
import { parseJsonRecords, parseSize, timeOrUndefined } from '../../agent/runtime/container-cli-output.js';
import { parseLimits } from '../../agent/runtime/host-limits.js';
import { ulimitsFor } from '../../agent/runtime/podman.js';
import { stateOf } from '../../agent/runtime/container-cli-runtime.js';

test('errorMessage unescapes logrus fatal lines, after info lines', (t) => {
  const stderr = 'time="t" level=info msg="pulling"\ntime="t" level=fatal msg="name-store error\\nname \\"web\\" is already used by ID \\"abc\\""\n';
  t.is(errorMessage(stderr), 'name-store error\nname "web" is already used by ID "abc"');
  t.is(errorMessage('Error: localhost/nope:1: image not known\n'), 'localhost/nope:1: image not known');
  t.is(errorMessage('docker: Error response from daemon: No such image: x:1.\nSee \'docker run --help\'.\n'), 'No such image: x:1.');
});

test('classification table', (t) => {
  t.is(classifyMessage('creating container storage: the container name "x" is already in use by e0fd'), 'NameConflict');
  t.is(classifyMessage('no container with name or ID "nosuch" found: no such container'), 'NotFound');
  t.is(classifyMessage('initializing source docker://nonexist:1: pinging container registry r: Get "https://r/v2/": dial tcp: lookup r: no such host'), 'Transient');
  t.is(classifyMessage('failed to resolve image: docker.io/library/x:latest: not found'), 'ImageNotFound');
  t.is(classifyMessage('unsupported restart policy "on-failure", supported policies are: ["always"]'), 'CreateFailed');
  t.is(classifyMessage('something else'), 'Unknown');
});

test('json framings, sizes, zero times, states, limits', (t) => {
  t.deepEqual(parseJsonRecords('{"a":1}\n\n{"a":2}\n'), [{ a: 1 }, { a: 2 }]);
  t.deepEqual(parseJsonRecords('[{"a":1}]'), [{ a: 1 }]);
  t.deepEqual(parseJsonRecords('{\n "a": 1\n}\n'), [{ a: 1 }]);
  t.deepEqual(parseJsonRecords(''), []);
  t.is(parseSize('471kB'), 471_000);
  t.is(parseSize('2.023MB'), 2_023_000);
  t.is(parseSize('1GiB'), 1024 ** 3);
  t.is(parseSize('--'), undefined);
  t.is(timeOrUndefined(''), undefined);
  t.is(timeOrUndefined('0001-01-01T00:00:00Z'), undefined);
  t.is(timeOrUndefined(-62135596800), undefined);
  t.is(timeOrUndefined(1748769153), '2025-06-01T09:12:33.000Z');
  t.is(stateOf({ Status: '' }), 'created');
  t.is(stateOf({ Status: 'restarting' }), 'exited');
  t.is(stateOf({ Status: 'weird' }), 'unknown');
  const limits = parseLimits('Limit  Soft Limit  Hard Limit  Units\nMax processes             96365                96365                processes \nMax open files            1024                 20000                files     \nMax core file size        0                    unlimited            bytes\n');
  t.deepEqual(limits, { nproc: { soft: 96365, hard: 96365 }, nofile: { soft: 1024, hard: 20000 } });
  t.deepEqual(ulimitsFor(limits), ['nofile=1024:20000', 'nproc=32768:32768']);
});
