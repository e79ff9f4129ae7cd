import test from 'ava';
import { QuantityError, cpuToMillis, formatCpu, formatMemory, isValidQuantity, memoryToBytes, parseQuantity } from '../../protocol/kube/quantity.js';

test('parses the forms Kubernetes accepts', (t) => {
  const cases: [string | number, number][] = [
    ['100m', 0.1], ['0.5', 0.5], ['1', 1], ['64Mi', 64 * 1024 ** 2], ['1G', 1e9], ['1e3', 1000],
    ['1.5Gi', 1.5 * 1024 ** 3], ['500k', 500_000], ['1E3', 1000], ['1E', 1e18], ['2Ki', 2048], ['.5', 0.5],
    ['5.', 5], ['+3', 3], ['-2', -2], ['250u', 0.00025], ['3n', 3e-9], ['1e-3', 0.001], ['0.3', 0.3],
    [2, 2], [0.25, 0.25], ['1Ti', 1024 ** 4], ['1Ei', 1024 ** 6], ['1P', 1e15],
  ];
  for (const [input, expected] of cases) t.is(parseQuantity(input), expected, String(input));
});

test('rejects bad syntax with a readable QuantityError', (t) => {
  for (const bad of ['', ' 1', '1 ', 'abc', '1Gx', '1.2.3', 'Mi', '1e', '1KI', '1mi', '.', '1e3.5', '--1', '1 Gi']) {
    const err = t.throws(() => parseQuantity(bad), { instanceOf: QuantityError }, bad);
    t.regex(err!.message, /quantity ".*" is invalid: /);
    t.false(isValidQuantity(bad), bad);
  }
  t.throws(() => parseQuantity(Number.NaN), { instanceOf: QuantityError });
  t.false(isValidQuantity({}));
  t.true(isValidQuantity('128Mi'));
  t.true(isValidQuantity(3));
});

test('cpuToMillis is exact and rounds up like upstream', (t) => {
  t.is(cpuToMillis('100m'), 100);
  t.is(cpuToMillis('0.3'), 300);
  t.is(cpuToMillis('0.1'), 100);
  t.is(cpuToMillis(2), 2000);
  t.is(cpuToMillis('1.5'), 1500);
  t.is(cpuToMillis('0.0001'), 1);
  t.is(cpuToMillis('1e-3'), 1);
  t.is(cpuToMillis('250000u'), 250);
});

test('memoryToBytes is exact', (t) => {
  t.is(memoryToBytes('64Mi'), 67108864);
  t.is(memoryToBytes('1G'), 1e9);
  t.is(memoryToBytes('1.5Gi'), 1610612736);
  t.is(memoryToBytes('8039692Ki'), 8232644608);
  t.is(memoryToBytes('100m'), 1);
  t.is(memoryToBytes(1024), 1024);
});

test('formatCpu', (t) => {
  t.is(formatCpu(2), '2');
  t.is(formatCpu(0.25), '250m');
  t.is(formatCpu(1.5), '1500m');
  t.is(formatCpu(0), '0');
  t.is(formatCpu(4), '4');
  t.is(cpuToMillis(formatCpu(0.75)), 750);
});

test('formatMemory keeps the exact value with the largest dividing binary suffix', (t) => {
  t.is(formatMemory(8232644608), '8039692Ki');
  t.is(formatMemory(1024 ** 3), '1Gi');
  t.is(formatMemory(3 * 1024 ** 2), '3Mi');
  t.is(formatMemory(1000), '1000');
  t.is(formatMemory(0), '0');
  t.is(memoryToBytes(formatMemory(123456789 * 1024)), 123456789 * 1024);
});
