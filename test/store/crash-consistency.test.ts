// Crash consistency at scale, with real processes: round after round, a controller is
// SIGKILLed at a random moment of a concurrent burst of creates, updates and deletes
// (some rounds on a full tmpfs), restarted, and compared with what its clients were told:
// every acknowledged change is there with its acknowledged content, nothing that got an
// error is, revisions only ever rise. Some rounds also flip one byte in a copy of the
// store: it then either opens or refuses with the corruption message, and repairs.
import test from 'ava';
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, startController, waitFor, type ControllerHandle } from '../helpers/processes.js';
import { mountTmpfs } from '../helpers/tmpfs.js';
import { ApiClient } from '../helpers/api-client.js';
import { LocalStore } from '../../controller/store/local-store.js';
import { repairStore } from '../../controller/store/repair.js';

const ROUNDS = Number(process.env.PIKUBE_CRASH_ROUNDS ?? 50);
const WORKERS = 12;
const KEYS_PER_WORKER = 4;
const CM = '/api/v1/namespaces/default/configmaps';

/** What a key holds: its content, or undefined for absent. */
type Content = string | undefined;

test(`${ROUNDS} rounds of SIGKILL during concurrent writes: nothing acknowledged lost, nothing failed present, revisions rise`, async (t) => {
  t.timeout(ROUNDS * 60_000);
  const fs = await mountTmpfs(48 * 1024 * 1024);
  const scratch = mkdtempSync(join(tmpdir(), 'pikube-crash-'));
  let ctrl: ControllerHandle | undefined;
  t.teardown(async () => { await ctrl?.kill(); await fs.unmount(); removeDir(scratch); });
  ctrl = await startController({ dir: join(fs.dir, 'ctrl'), args: ['--snapshot-interval', '0'] });

  const known = new Map<string, Content>(); // acknowledged state
  const maybe = new Map<string, Content[]>(); // states of writes that got no answer
  const ackedRevisions = new Set<number>();
  let highestSeen = 0;
  let acked = 0; let failed = 0; let unanswered = 0; let refused = 0; let fullRounds = 0;

  /** What survived the last crash, against what the clients were told; returns the list's revision. */
  const verify = async (api: ApiClient, round: number): Promise<number> => {
    const list = await api.get(`${CM}?labelSelector=crash%3D1`);
    t.is(list.status, 200);
    const listRv = Number(list.body.metadata.resourceVersion);
    t.true(listRv >= highestSeen, `round ${round}: the revision went back (${listRv} < ${highestSeen})`);
    const actual = new Map<string, Content>();
    for (const o of list.body.items) actual.set(o.metadata.name, o.data.v);
    for (const name of new Set([...known.keys(), ...maybe.keys(), ...actual.keys()])) {
      const allowed = [known.get(name), ...(maybe.get(name) ?? [])];
      if (!allowed.includes(actual.get(name))) {
        t.fail(`round ${round}: ${name} is ${JSON.stringify(actual.get(name))}, acknowledged ${JSON.stringify(known.get(name))}, unanswered ${JSON.stringify(maybe.get(name) ?? [])}`);
      }
    }
    known.clear();
    for (const [k, v] of actual) known.set(k, v);
    maybe.clear();
    return listRv;
  };

  for (let round = 1; round <= ROUNDS; round++) {
    const api = new ApiClient(ctrl.kubeconfig, { maxSockets: WORKERS });
    // 1. What survived the last crash.
    const floor = Math.max(highestSeen, await verify(api, round));

    // 2. A burst, cut short by SIGKILL.
    const full = round % 5 === 0;
    if (full) { fs.fill(200 * 1024); fullRounds++; }
    let killed = false;
    let roundAcked = 0; let roundFailed = 0;
    // A random moment well inside the burst: after a random number of acknowledgements (on
    // a full disk, once writes fail), plus a random delay.
    const target = 1 + Math.floor(Math.random() * 40);
    const killer = (async () => {
      await waitFor('the burst under way', () => (full ? roundFailed >= 3 : roundAcked >= target), 20_000, 10).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.random() * 250));
      killed = true;
      await ctrl!.kill();
    })();
    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const name = `k${w}-${Math.floor(Math.random() * KEYS_PER_WORKER)}`;
        const cur = known.get(name);
        const next: Content = cur !== undefined && Math.random() < 0.3 ? undefined : `r${round}-w${w}-${i}-${'p'.repeat(full ? 20_000 : 100 + Math.floor(Math.random() * 400))}`;
        const body = (v: string, rv?: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { crash: '1' }, ...(rv ? { resourceVersion: rv } : {}) }, data: { v } });
        let r;
        try {
          r = cur === undefined ? await api.post(CM, body(next!), { timeoutMs: 20_000 })
            : next === undefined ? await api.delete(`${CM}/${name}`, { timeoutMs: 20_000 })
              : await api.put(`${CM}/${name}`, body(next), { timeoutMs: 20_000 });
        } catch {
          // No answer: it may or may not have happened.
          unanswered++;
          maybe.set(name, [...(maybe.get(name) ?? []), next]);
          return;
        }
        if (r.status === 200 || r.status === 201) {
          const rv = Number(r.body.metadata.resourceVersion);
          t.true(rv > floor, `round ${round}: acknowledged revision ${rv} not above ${floor}`);
          t.false(ackedRevisions.has(rv), `revision ${rv} acknowledged twice`);
          ackedRevisions.add(rv);
          highestSeen = Math.max(highestSeen, rv);
          known.set(name, next);
          acked++; roundAcked++;
        } else {
          // A definite error: the change must not be there.
          t.true(r.status >= 500 || r.status === 409 || r.status === 404, `round ${round}: unexpected ${r.status} ${r.text.slice(0, 200)}`);
          failed++; roundFailed++;
        }
      }
    };
    await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), killer]);
    api.close();
    if (full) fs.unfill();

    // 3. A flipped byte in a copy: opens, or refuses with the message and repairs.
    if (round % 7 === 0) {
      const copy = join(scratch, `round-${round}`);
      cpSync(join(ctrl.dir, 'store'), copy, { recursive: true });
      const logPath = join(copy, 'store.log');
      const size = statSync(logPath).size;
      if (size > 0) {
        const b = readFileSync(logPath);
        b[Math.floor(Math.random() * size)] ^= 1 << Math.floor(Math.random() * 8);
        writeFileSync(logPath, b);
        const s = new LocalStore({ dir: copy });
        try {
          await s.open();
          await s.close();
        } catch (err) {
          refused++;
          t.regex((err as Error).message, /store log .* is corrupt at byte offset \d+ .*last good revision before it is \d+.*pikube store repair/);
          const r = await repairStore(copy);
          t.true(r.changed);
          const again = new LocalStore({ dir: copy });
          await again.open();
          t.true(again.revision >= r.revision);
          await again.close();
        }
      }
      removeDir(copy);
    }
    ctrl = await ctrl.restart();
  }
  const last = new ApiClient(ctrl.kubeconfig);
  await verify(last, ROUNDS + 1);
  last.close();
  t.log(`${ROUNDS} rounds (${fullRounds} on a full disk): ${acked} acknowledged, ${failed} failed, ${unanswered} unanswered, ${refused} flipped copies refused and repaired`);
  t.true(acked > ROUNDS, 'the bursts did acknowledge writes');
});
