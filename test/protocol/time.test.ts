// The one writer of Kubernetes timestamps: whole seconds, UTC, `Z`.
import test from 'ava';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

test('times are written with whole seconds, the fraction dropped rather than rounded', (t) => {
  t.is(rfc3339Seconds(Date.parse('2026-03-04T05:06:07.999Z')), '2026-03-04T05:06:07Z');
  t.is(rfc3339Seconds(new Date('2026-03-04T05:06:07Z')), '2026-03-04T05:06:07Z');
  t.is(rfc3339Seconds(0), '1970-01-01T00:00:00Z');
});

test('without an argument it is now', (t) => {
  const before = Math.floor(Date.now() / 1000) * 1000;
  const at = Date.parse(rfc3339Seconds());
  t.true(at >= before && at <= Date.now());
  t.regex(rfc3339Seconds(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});
