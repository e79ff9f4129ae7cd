// The publishers' shared core: coalescing, sending only changed content per topic,
// clearing a topic once, the least interval per topic, and retrying a failed send.
import test from 'ava';
import { RetainedTopics, type Retained } from '../../controller/bridge/retained-topics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(content: Map<string, string | undefined>, opts: { minIntervalMs?: number; failFirst?: number } = {}) {
  const sent: { key: string; payload: string }[] = [];
  const warnings: object[] = [];
  let fail = opts.failFirst ?? 0;
  let renders = 0;
  const topics = new RetainedTopics<string>({
    render: (keys) => {
      renders++;
      return new Map(keys.map((k): [string, Retained<string> | undefined] => {
        const v = content.get(k);
        return [k, v === undefined ? undefined : { identity: v, payload: () => `gen:${v}` }];
      }));
    },
    publish: async (key, payload) => {
      if (fail > 0) { fail--; throw new Error('broker away'); }
      sent.push({ key, payload });
    },
    debounceMs: 5, retryMs: 50, log: { warn: (o) => warnings.push(o) },
    failure: { message: 'not published', keyField: 'node' },
    ...(opts.minIntervalMs ? { minIntervalMs: opts.minIntervalMs } : {}),
  });
  topics.start();
  return { topics, sent, warnings, renders: () => renders };
}

test('a burst is one render; only topics whose content changed are sent; an unwanted topic is cleared once', async (t) => {
  const content = new Map<string, string | undefined>([['a', 'x'], ['b', 'y'], ['c', undefined]]);
  const { topics, sent, renders } = setup(content);
  for (let i = 0; i < 20; i++) for (const k of ['a', 'b', 'c']) topics.changed(k);
  await topics.flushed();
  t.is(renders(), 1);
  t.deepEqual(sent, [{ key: 'a', payload: 'gen:x' }, { key: 'b', payload: 'gen:y' }, { key: 'c', payload: '' }]);
  content.set('b', 'y2');
  for (const k of ['a', 'b', 'c']) topics.changed(k);
  await topics.flushed();
  t.deepEqual(sent.slice(3), [{ key: 'b', payload: 'gen:y2' }], 'a and c unchanged, c not cleared again');
  topics.resend(['a']);
  await topics.flushed();
  t.deepEqual(sent.slice(4), [{ key: 'a', payload: 'gen:x' }], 'resend forgets what was sent');
  topics.clear('b');
  await sleep(5);
  t.deepEqual(sent.slice(5), [{ key: 'b', payload: '' }]);
  t.is(topics.published, 6);
  topics.stop();
});

test('a topic is sent at most once per least interval; a failed send is logged and retried', async (t) => {
  const content = new Map<string, string | undefined>([['a', 'v0']]);
  const { topics, sent, warnings } = setup(content, { minIntervalMs: 100, failFirst: 1 });
  const times: number[] = [];
  topics.changed('a');
  await sleep(30);
  t.deepEqual(sent, [], 'the first send failed');
  t.like(warnings[0], { node: 'a', err: 'Error: broker away' });
  while (sent.length === 0) await sleep(5);
  t.deepEqual(sent, [{ key: 'a', payload: 'gen:v0' }], 'retried');
  times.push(Date.now());
  // Changes right after a send wait out the interval, and go out together.
  for (let i = 1; i <= 5; i++) { content.set('a', `v${i}`); topics.changed('a'); }
  while (sent.length === 1) await sleep(5);
  times.push(Date.now());
  await topics.flushed();
  t.deepEqual(sent.slice(1), [{ key: 'a', payload: 'gen:v5' }], 'the changes within the interval went out as one');
  t.true(times[1]! - times[0]! >= 90, `${times[1]! - times[0]!} ms between two sends`);
  topics.stop();
});
