import test from 'ava';
import { humanDuration } from '../../controller/apiserver/tables/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

// Expected strings are those of upstream's duration.HumanDuration for the same inputs.
const cases: [number, string][] = [
  [-2 * S, '<invalid>'],
  [-1500, '0s'],
  [-500, '0s'],
  [0, '0s'],
  [999, '0s'],
  [5 * S, '5s'],
  [119 * S, '119s'],
  [2 * M, '2m'],
  [2 * M + 30 * S, '2m30s'],
  [9 * M + 59 * S, '9m59s'],
  [10 * M, '10m'],
  [10 * M + 30 * S, '10m'],
  [179 * M, '179m'],
  [3 * H, '3h'],
  [3 * H + 5 * M, '3h5m'],
  [7 * H + 59 * M, '7h59m'],
  [8 * H, '8h'],
  [8 * H + 30 * M, '8h'],
  [47 * H, '47h'],
  [2 * D, '2d'],
  [2 * D + 3 * H, '2d3h'],
  [7 * D + 23 * H, '7d23h'],
  [8 * D, '8d'],
  [45 * D, '45d'],
  [2 * Y - D, '729d'],
  [2 * Y, '2y'],
  [3 * Y + 20 * D, '3y20d'],
  [8 * Y, '8y'],
  [10 * Y + 100 * D, '10y'],
];

for (const [ms, expected] of cases) {
  test(`humanDuration(${ms}ms) is ${expected}`, (t) => {
    t.is(humanDuration(ms), expected);
  });
}
