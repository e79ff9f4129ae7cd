// A stand-in for a container CLI that cannot run here (nerdctl, docker): an executable
// script that records its argv and answers with recorded output chosen by rules.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FakeRule {
  /** Matches when the space-joined argv contains this text. */
  match: string;
  /** Fixture file (under test/fixtures/runtime) printed on stdout. */
  stdoutFixture?: string;
  stdout?: string;
  /** Fixture file printed on stderr. */
  stderrFixture?: string;
  stderr?: string;
  exit?: number;
  /** Used once, then the next matching rule answers. */
  once?: boolean;
}

export interface DockerConfigSeen { dir: string; dirMode: number; fileMode: number; config: { auths: Record<string, { auth: string }> } }

export interface FakeCli {
  binary: string;
  calls(): Promise<string[][]>;
  /** What $DOCKER_CONFIG held at each call that had one. */
  dockerConfigs(): Promise<DockerConfigSeen[]>;
  cleanup(): Promise<void>;
}

// dist/test/runtime → repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'runtime');

export async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), 'utf8');
}

const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const dir = __dirname;
const argv = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify(argv) + '\\n');
// credentials handed over through $DOCKER_CONFIG: what the file held and how it was protected
if (process.env.DOCKER_CONFIG) {
  const d = process.env.DOCKER_CONFIG;
  const f = path.join(d, 'config.json');
  fs.appendFileSync(path.join(dir, 'docker-config.jsonl'), JSON.stringify({ dir: d, dirMode: fs.statSync(d).mode & 0o777, fileMode: fs.statSync(f).mode & 0o777, config: JSON.parse(fs.readFileSync(f, 'utf8')) }) + '\\n');
}
const rulesFile = path.join(dir, 'rules.json');
const rules = JSON.parse(fs.readFileSync(rulesFile, 'utf8'));
const line = argv.join(' ');
const i = rules.findIndex((r) => !r.used && line.includes(r.match));
if (i < 0) { process.stderr.write('Error: fake cli has no rule for: ' + line + '\\n'); process.exit(99); }
const rule = rules[i];
if (rule.once) { rule.used = true; fs.writeFileSync(rulesFile, JSON.stringify(rules)); }
if (rule.stdout) process.stdout.write(rule.stdout);
if (rule.stderr) process.stderr.write(rule.stderr);
process.exitCode = rule.exit || 0;
`;

export async function makeFakeCli(name: string, rules: FakeRule[]): Promise<FakeCli> {
  const dir = await mkdtemp(join(tmpdir(), `fake-${name}-`));
  const resolved = await Promise.all(rules.map(async (r) => ({
    match: r.match,
    once: r.once ?? false,
    exit: r.exit ?? 0,
    stdout: r.stdoutFixture ? await fixture(r.stdoutFixture) : (r.stdout ?? ''),
    stderr: r.stderrFixture ? await fixture(r.stderrFixture) : (r.stderr ?? ''),
  })));
  await writeFile(join(dir, 'rules.json'), JSON.stringify(resolved));
  await writeFile(join(dir, 'calls.jsonl'), '');
  const binary = join(dir, `${name}.cjs`);
  await writeFile(binary, SCRIPT);
  await chmod(binary, 0o755);
  return {
    binary,
    async calls() {
      const text = await readFile(join(dir, 'calls.jsonl'), 'utf8');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
    async dockerConfigs() {
      const text = await readFile(join(dir, 'docker-config.jsonl'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DockerConfigSeen);
    },
  };
}
