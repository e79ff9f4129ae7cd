// The agent answers a request it cannot parse (when it names a transaction) instead of
// dropping it, so the API server's HTTP request ends with the reason.
import test from 'ava';
import { refusalFor } from '../../agent/pods/request-refusal.js';

test('a malformed logs request with a transaction gets an error reply', (t) => {
  const r = refusalFor(Buffer.from(JSON.stringify({ op: 'logs', transaction: 'tx1', tailLines: -5 })), new Error('request.tailLines: must be >= 0'));
  t.deepEqual(r, { op: 'logs', chunk: { transaction: 'tx1', seq: 0, done: true, error: 'the node refused the request: request.tailLines: must be >= 0' } });
  t.is(refusalFor(Buffer.from(JSON.stringify({ op: 'exec', transaction: 'tx2' })), 'bad')?.op, 'exec');
});

test('requests that say nowhere to reply are only logged', (t) => {
  t.is(refusalFor(Buffer.from('not json'), 'x'), undefined);
  t.is(refusalFor(Buffer.from(JSON.stringify({ op: 'logs' })), 'x'), undefined);
  t.is(refusalFor(Buffer.from(JSON.stringify({ op: 'cancel', transaction: 't' })), 'x'), undefined);
  t.is(refusalFor(Buffer.from('[1]'), 'x'), undefined);
});
