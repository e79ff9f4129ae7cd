// A stateful stand-in for the nerdctl and docker CLIs, which cannot run here: an
// executable that keeps containers in a JSON file and answers `run`, `ps`, `container
// inspect`, `stop`, `rm`, `image inspect`, `pull` and `version` in the shapes recorded
// from the real CLIs (test/fixtures/runtime). The runtime conformance suite drives the
// nerdctl and docker drivers through it; what needs real processes (logs, exec, exit
// codes of real commands) is proven with podman.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './fake-cli.js';

export type EngineFlavour = 'nerdctl' | 'docker';

export interface FakeEngine {
  binary: string;
  cleanup(): Promise<void>;
}

const FIXTURES: Record<EngineFlavour, { version: string; ps: string; inspect: string; conflict: string; never: string; noContainer: string; pullDenied: string }> = {
  nerdctl: {
    version: 'nerdctl-version.json', ps: 'nerdctl-ps-2x.jsonl', inspect: 'nerdctl-inspect-running.json',
    conflict: 'nerdctl-stderr-name-2x.txt', never: 'nerdctl-stderr-never.txt', noContainer: 'nerdctl-stderr-no-container.txt', pullDenied: 'nerdctl-stderr-pull-denied.txt',
  },
  docker: {
    version: 'docker-version.json', ps: 'docker-ps.jsonl', inspect: 'docker-inspect.json',
    conflict: 'docker-stderr-conflict.txt', never: 'docker-stderr-never.txt', noContainer: 'docker-stderr-no-container.txt', pullDenied: 'docker-stderr-pull-denied.txt',
  },
};

// The engine itself: plain CommonJS so that it starts fast as a child process.
const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const dir = __dirname;
const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
const stateFile = path.join(dir, 'state.json');
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { containers: [], images: cfg.images, nextIp: 2 };
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state));
const out = (s) => process.stdout.write(s);
const fail = (stderr, code) => { process.stderr.write(stderr); process.exitCode = code || 1; };
const now = () => new Date().toISOString();

let argv = process.argv.slice(2);
const GLOBAL = new Set(cfg.flavour === 'nerdctl' ? ['--namespace', '--address'] : ['--host']);
while (GLOBAL.has(argv[0])) argv = argv.slice(2);
const find = (ref) => state.containers.find((c) => c.id === ref || c.name === ref || (ref.length >= 12 && c.id.startsWith(ref)));
const imageKnown = (ref) => state.images.includes(ref) || state.images.includes(ref.replace(/^docker\.io\/library\//, ''));
const BOOL = new Set(['-d', '--detach', '--privileged', '--tty', '-t', '--interactive', '-i', '--init', '--rm']);

function psLine(c) {
  const t = JSON.parse(cfg.psTemplate);
  const labels = Object.entries(c.labels).map(([k, v]) => k + '=' + String(v).replace(/,/g, '\\,')).join(',');
  Object.assign(t, { ID: c.id, Names: c.name, Image: c.image, Labels: labels });
  if ('State' in t) t.State = c.state;
  t.Status = c.state === 'running' ? 'Up' : 'Exited (' + c.exitCode + ') 1 second ago';
  return JSON.stringify(t);
}

function inspectOf(c) {
  const t = JSON.parse(cfg.inspectTemplate);
  t.Id = c.id;
  t.Name = cfg.flavour === 'docker' ? '/' + c.name : c.name;
  t.Image = cfg.flavour === 'docker' ? 'sha256:' + crypto.createHash('sha256').update(c.image).digest('hex') : c.image;
  t.Config = Object.assign({}, t.Config, { Labels: c.labels, Image: c.image });
  t.State = Object.assign({}, t.State, {
    Status: c.state, Running: c.state === 'running', Pid: c.state === 'running' ? 0 : 0, ExitCode: c.exitCode,
    StartedAt: c.startedAt, FinishedAt: c.finishedAt || (cfg.flavour === 'docker' ? '0001-01-01T00:00:00Z' : ''),
  });
  t.NetworkSettings = { IPAddress: c.ip || '', Networks: {} };
  return t;
}

function scriptedExit(cmd) {
  if (cmd.length !== 3 || !/(^|\/)(sh|ash|bash)$/.test(cmd[0]) || cmd[1] !== '-c') return undefined;
  const m = /^\s*exit\s+(\d{1,3})\s*$/.exec(cmd[2]);
  return m ? Number(m[1]) & 255 : undefined;
}

const [sub, ...rest] = argv;
switch (sub) {
  case 'version': out(cfg.version); break;
  case 'image': {
    const ref = rest[1];
    if (rest[0] === 'inspect' && imageKnown(ref)) out(JSON.stringify([{ Id: 'sha256:' + crypto.createHash('sha256').update(ref).digest('hex'), RepoTags: [ref] }]));
    else fail(cfg.stderr.never.replace(/localhost\/nope:1/g, ref));
    break;
  }
  case 'pull': {
    const ref = rest[rest.length - 1];
    if (ref.includes('nonexistent')) { fail(cfg.stderr.pullDenied); break; }
    state.images.push(ref); save(); out('sha256:' + crypto.createHash('sha256').update(ref).digest('hex') + '\n');
    break;
  }
  case 'run': {
    const flags = {}; const labels = {}; let i = 0;
    for (; i < rest.length; i++) {
      const a = rest[i];
      if (!a.startsWith('-')) break;
      if (BOOL.has(a)) continue;
      const v = rest[++i];
      if (a === '--label') { const k = v.slice(0, v.indexOf('=')); labels[k] = v.slice(v.indexOf('=') + 1); }
      else flags[a] = v;
    }
    const image = rest[i]; const args = rest.slice(i + 1);
    const name = flags['--name'];
    if (find(name)) { fail(cfg.stderr.conflict, cfg.flavour === 'docker' ? 125 : 1); break; }
    if (!imageKnown(image)) {
      if (flags['--pull'] === 'never') { fail(cfg.stderr.never.replace(/localhost\/nope:1/g, image), cfg.flavour === 'docker' ? 125 : 1); break; }
      if (image.includes('nonexistent')) { fail(cfg.stderr.pullDenied, cfg.flavour === 'docker' ? 125 : 1); break; }
      state.images.push(image);
    }
    const cmd = flags['--entrypoint'] ? [flags['--entrypoint'], ...args] : args;
    const exit = scriptedExit(cmd);
    const sandbox = labels['pikube.io/sandbox'] === 'true' && flags['--network'] !== 'host';
    const c = {
      id: crypto.randomBytes(32).toString('hex'), name, image, labels,
      state: exit === undefined ? 'running' : 'exited', exitCode: exit === undefined ? 0 : exit,
      startedAt: now(), finishedAt: exit === undefined ? '' : now(),
      ip: sandbox ? '10.4.0.' + (state.nextIp++) : '',
    };
    state.containers.push(c); save(); out(c.id + '\n');
    break;
  }
  case 'ps': {
    const want = [];
    for (let i = 0; i < rest.length; i++) if (rest[i] === '--filter' && rest[i + 1].startsWith('label=')) want.push(rest[++i].slice(6));
    const match = (c) => want.every((w) => { const k = w.split('=')[0]; const v = w.includes('=') ? w.slice(k.length + 1) : undefined; return k in c.labels && (v === undefined || c.labels[k] === v); });
    out(state.containers.filter(match).map(psLine).join('\n') + (state.containers.length ? '\n' : ''));
    break;
  }
  case 'container': {
    if (rest[0] !== 'inspect') { fail('fake engine: unsupported container ' + rest[0] + '\n', 99); break; }
    const found = rest.slice(1).map(find);
    if (found.some((c) => !c)) { fail(cfg.stderr.noContainer); break; }
    out(JSON.stringify(found.map(inspectOf), null, 2) + '\n');
    break;
  }
  case 'stop': {
    const c = find(rest[rest.length - 1]);
    if (!c) { fail(cfg.stderr.noContainer); break; }
    if (c.state === 'running') Object.assign(c, { state: 'exited', exitCode: rest[1] === '0' ? 137 : 143, finishedAt: now() });
    save(); out(rest[rest.length - 1] + '\n');
    break;
  }
  case 'rm': {
    const ref = rest[rest.length - 1]; const c = find(ref);
    if (!c) { fail(cfg.stderr.noContainer); break; }
    state.containers = state.containers.filter((x) => x !== c); save(); out(ref + '\n');
    break;
  }
  default: fail('fake engine: unsupported ' + sub + '\n', 99);
}
`;

export async function makeFakeEngine(flavour: EngineFlavour, opts: { images?: string[] } = {}): Promise<FakeEngine> {
  const dir = await mkdtemp(join(tmpdir(), `fake-engine-${flavour}-`));
  const f = FIXTURES[flavour];
  const [version, ps, inspect, conflict, never, noContainer, pullDenied] = await Promise.all(
    [f.version, f.ps, f.inspect, f.conflict, f.never, f.noContainer, f.pullDenied].map(fixture));
  const config = {
    flavour,
    images: opts.images ?? [],
    version,
    psTemplate: ps!.split('\n')[0],
    inspectTemplate: JSON.stringify((JSON.parse(inspect!) as unknown[])[0]),
    stderr: { conflict, never, noContainer, pullDenied },
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const binary = join(dir, `${flavour}.cjs`);
  await writeFile(binary, SCRIPT);
  await chmod(binary, 0o755);
  return { binary, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
