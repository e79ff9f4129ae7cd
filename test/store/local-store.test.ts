// The store conformance suite on the embedded store (lowdb snapshot + write-ahead log).
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../controller/store/local-store.js';
import type { StoreBackend } from '../../controller/store/backend.js';
import { removeDir } from '../helpers/processes.js';
import { storeConformance, type StoreHarness } from './conformance.js';

const WINDOW = 64;

storeConformance(test, 'lowdb', (): StoreHarness => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-store-'));
  const make = async () => { const s = new LocalStore({ dir, watchWindow: WINDOW }); await s.open(); return s; };
  return {
    open: make,
    async reopen(s: StoreBackend) { await s.close(); return make(); },
    // The embedded store keeps a window of recent events: push the old ones out of it.
    async expire(s: StoreBackend) {
      for (let i = 0; i <= WINDOW; i++) await s.create('events', 'expire', `e${i}`, { apiVersion: 'v1', kind: 'Event', metadata: { name: `e${i}`, namespace: 'expire' } });
    },
    async cleanup() { removeDir(dir); },
  };
});
