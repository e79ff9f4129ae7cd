const mods = process.argv.slice(2);
for (const m of mods) await import(m);
global.gc?.();
await new Promise(r=>setTimeout(r,300));
const s = (await import('node:fs')).readFileSync('/proc/self/status','utf8');
console.log(mods.join(' ')||'(bare)', s.match(/VmRSS:\s+(\d+)/)[1], 'anon', s.match(/RssAnon:\s+(\d+)/)[1], 'heap', Math.round(process.memoryUsage().heapUsed/1024), 'kB');
