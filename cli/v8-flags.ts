// V8 settings a role gives itself before its code loads. node refuses most V8 flags in
// NODE_OPTIONS, and a unit's ExecStart is not the only way a role starts (flashed boards,
// `pikube agent` by hand, the tests and benches), so the command sets them.
import { setFlagsFromString } from 'node:v8';

/**
 * The agent starts on V8's interpreter and baseline compiler, without TurboFan (`--no-opt`).
 * Its own work is light and spread out (a status every few seconds, a pod now and then),
 * and the optimiser's code and memory never paid for themselves: with 10 pods the agent's
 * VmRSS is about 12 MB lower (bench/agent-bench.ts). Its ingress proxy is the exception,
 * twice the CPU per request without it, so the agent turns TurboFan on once that traffic
 * is sustained (agent/optimizer-switch.ts). `PIKUBE_AGENT_OPTIMIZE=1` keeps it on from the start.
 */
export function agentV8Flags(env: NodeJS.ProcessEnv = process.env): string[] {
  return env['PIKUBE_AGENT_OPTIMIZE'] === '1' ? [] : ['--no-opt'];
}

/** Applies flags to this process's V8; functions compiled afterwards follow them. */
export function setV8Flags(flags: readonly string[]): void {
  for (const f of flags) setFlagsFromString(f);
}
