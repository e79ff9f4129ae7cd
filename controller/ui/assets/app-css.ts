// The status page's styles: one column on a phone, a grid of node cards on wider screens,
// light and dark following the system.
export const APP_CSS = `
:root {
  --bg: #f4f5f7; --card: #ffffff; --text: #1d2329; --muted: #66707a; --line: #e2e5e9;
  --accent: #c51a4a; --ok: #1f9d55; --warn: #d98c00; --bad: #d23c3c; --idle: #8a96a3;
  --bar: #e9ecef; --shadow: 0 1px 2px rgba(0,0,0,.06), 0 2px 8px rgba(0,0,0,.04);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif;
  font-size: 15px; line-height: 1.4;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #111417; --card: #1a1f24; --text: #e6e9ec; --muted: #9aa4ae; --line: #2a3138; --bar: #2a3138; --shadow: none; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
h1, h2 { margin: 0; font-weight: 650; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 1.4rem 0 .6rem; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; }
.logo { display: inline-block; width: .8em; height: .8em; border-radius: 50%; background: var(--accent); margin-right: .4em; vertical-align: -.02em; box-shadow: .35em .25em 0 -.15em var(--accent); }

.top { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem 1rem;
  padding: .8rem max(1rem, env(safe-area-inset-left)); background: var(--card); border-bottom: 1px solid var(--line); }
.top h1 { font-size: 1.25rem; }
.summary { margin: 0; color: var(--muted); flex: 1; }
.alerts { margin: .5rem 1rem 0; }
.alert { margin: 0 0 .4rem; padding: .5rem .75rem; border-radius: .4rem; background: #fde8e8; color: #8a1c1c; border: 1px solid #f5b5b5; font-weight: 600; }
.live { margin: 0; font-size: .85rem; color: var(--muted); display: flex; align-items: center; gap: .35rem; }
.live .dot { width: .55rem; height: .55rem; border-radius: 50%; background: var(--idle); }
.live[data-state="live"] .dot { background: var(--ok); }
.live[data-state="lost"] .dot { background: var(--bad); }
main { padding: 0 max(1rem, env(safe-area-inset-left)) 2rem; max-width: 1400px; margin: 0 auto; }

.nodes { display: grid; gap: .9rem; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: .9rem 1rem; box-shadow: var(--shadow); min-width: 0; }
.card-head { display: flex; align-items: center; gap: .5rem; }
.card-head h3 { margin: 0; font-size: 1.05rem; overflow-wrap: anywhere; flex: 1; }
.meta { color: var(--muted); font-size: .8rem; margin: .15rem 0 .7rem; overflow-wrap: anywhere; }
.badge { font-size: .72rem; font-weight: 600; padding: .1rem .5rem; border-radius: 999px; white-space: nowrap; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); } .badge.idle { color: var(--idle); }

.gauge { margin: .45rem 0; }
.gauge-label { display: flex; justify-content: space-between; font-size: .82rem; gap: .5rem; }
.gauge-label span:last-child { color: var(--muted); font-variant-numeric: tabular-nums; }
.bar { height: .5rem; background: var(--bar); border-radius: 999px; overflow: hidden; margin-top: .2rem; }
.bar > i { display: block; height: 100%; width: 0; background: var(--accent); border-radius: inherit; transition: width .4s ease; }
.bar.warn > i { background: var(--warn); } .bar.bad > i { background: var(--bad); }
.temp { display: inline-flex; align-items: center; gap: .25rem; font-size: .82rem; font-variant-numeric: tabular-nums; }
.temp.ok { color: var(--ok); } .temp.warn { color: var(--warn); } .temp.bad { color: var(--bad); }

.pods { list-style: none; margin: .7rem 0 0; padding: .5rem 0 0; border-top: 1px solid var(--line); }
.pods-title { font-size: .75rem; color: var(--muted); margin-bottom: .25rem; }
.pod { display: grid; grid-template-columns: .6rem 1fr auto; align-items: center; gap: .5rem; padding: .22rem 0; font-size: .86rem; }
.pod .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pod .ns { color: var(--muted); }
.pod .state { color: var(--muted); font-size: .78rem; white-space: nowrap; font-variant-numeric: tabular-nums; }
.phase { width: .6rem; height: .6rem; border-radius: 50%; background: var(--idle); }
.phase.Running { background: var(--ok); } .phase.Pending { background: var(--warn); }
.phase.Failed, .phase.problem { background: var(--bad); } .phase.Succeeded { background: var(--idle); }
.empty { color: var(--muted); font-size: .85rem; padding: .2rem 0; }

.events { list-style: none; margin: 0; padding: 0; background: var(--card); border: 1px solid var(--line); border-radius: 12px; box-shadow: var(--shadow); }
.event { display: grid; grid-template-columns: 2.6rem 1fr; gap: .1rem .7rem; padding: .55rem .9rem; border-top: 1px solid var(--line); font-size: .86rem; }
.event:first-child { border-top: 0; }
.event .when { color: var(--muted); font-variant-numeric: tabular-nums; grid-row: span 2; }
.event .what { overflow-wrap: anywhere; }
.event .reason { font-weight: 600; }
.event.Warning .reason { color: var(--bad); }
.event .msg { color: var(--muted); overflow-wrap: anywhere; }
@media (min-width: 760px) {
  .event { grid-template-columns: 3.5rem minmax(12rem, 22rem) 1fr; }
  .event .when { grid-row: auto; }
}

body.signin main { max-width: 34rem; padding-top: 3rem; }
body.signin pre { background: var(--card); border: 1px solid var(--line); padding: .7rem; border-radius: 8px; overflow-x: auto; }
`;
