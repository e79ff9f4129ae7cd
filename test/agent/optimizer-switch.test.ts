// The optimiser switch counts ingress requests per window; only a window that reaches the
// threshold turns the optimiser on, once. (Its effect on V8 is in test/architecture/v8-flags.test.ts.)
import test from 'ava';
import { OptimizerSwitch } from '../../agent/optimizer-switch.js';

function harness() {
  let now = 0;
  const enabled: number[] = [];
  const logged: object[] = [];
  const sw = new OptimizerSwitch({
    threshold: 5, windowMs: 1000, now: () => now, enable: () => enabled.push(now), log: { info: (o) => logged.push(o) },
  });
  return { sw, enabled, logged, at: (t: number) => { now = t; } };
}

test('requests spread over windows never reach the threshold', (t) => {
  const h = harness();
  for (let i = 0; i < 40; i++) {
    h.at(i * 250); // four a second, the threshold is five a second
    h.sw.hit();
  }
  t.deepEqual(h.enabled, []);
  t.false(h.sw.enabled);
});

test('the request that reaches the threshold within a window turns the optimiser on once, and it stays on', (t) => {
  const h = harness();
  h.at(100);
  for (let i = 0; i < 4; i++) h.sw.hit();
  t.deepEqual(h.enabled, []);
  h.at(900);
  h.sw.hit();
  t.deepEqual(h.enabled, [900]);
  t.true(h.sw.enabled);
  h.at(5000);
  for (let i = 0; i < 20; i++) h.sw.hit();
  t.deepEqual(h.enabled, [900], 'turned on only once');
  t.is(h.logged.length, 1);
});

test('a new window starts the count again', (t) => {
  const h = harness();
  h.at(0);
  for (let i = 0; i < 4; i++) h.sw.hit();
  h.at(1000);
  for (let i = 0; i < 4; i++) h.sw.hit();
  t.deepEqual(h.enabled, []);
  h.sw.hit();
  t.deepEqual(h.enabled, [1000]);
});
