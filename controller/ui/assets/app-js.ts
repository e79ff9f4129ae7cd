// The status page's script: follows /ui/stream (server-sent snapshots of the cluster) and
// redraws. Every name and message goes in as text, never as markup.
export const APP_JS = `'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  let last = null;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'style') e.style.cssText = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  function bytes(n) {
    if (n === undefined || n === null) return '?';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (n >= 10 || i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
  }
  const cores = (n) => (n === undefined || n === null ? '?' : n >= 10 ? n.toFixed(0) : n.toFixed(2).replace(/\\.?0+$/, '') || '0');

  function ago(iso) {
    if (!iso) return '';
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h';
    return Math.floor(s / 86400) + 'd';
  }
  const level = (pct, warn, bad) => (pct >= bad ? 'bad' : pct >= warn ? 'warn' : '');

  function gauge(label, used, capacity, text) {
    const known = typeof used === 'number' && typeof capacity === 'number' && capacity > 0;
    const pct = known ? Math.min(100, (used / capacity) * 100) : 0;
    return el('div', { class: 'gauge' },
      el('div', { class: 'gauge-label' }, el('span', {}, label), el('span', {}, known ? text + ' · ' + pct.toFixed(0) + '%' : 'no reading yet')),
      el('div', { class: 'bar ' + level(pct, 70, 90), role: 'meter', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct.toFixed(0) },
        el('i', { style: 'width:' + pct.toFixed(1) + '%' })));
  }

  const PROBLEMS = /BackOff|Err|Error|Failed|Invalid|OOM|Unknown|NodeLost|Evicted/;
  function podRow(p) {
    const phaseClass = 'phase ' + p.phase + (PROBLEMS.test(p.status) ? ' problem' : '');
    const state = p.status + (p.ready ? ' · ' + p.ready : '') + (p.restarts && p.restarts !== '0' ? ' · ↻' + p.restarts : '');
    return el('li', { class: 'pod', 'data-pod': p.namespace + '/' + p.name, 'data-phase': p.phase, title: p.namespace + '/' + p.name + (p.ip ? ' · ' + p.ip : '') },
      el('span', { class: phaseClass, 'aria-hidden': 'true' }),
      el('span', { class: 'name' }, p.namespace === 'default' ? '' : el('span', { class: 'ns' }, p.namespace + '/'), p.name),
      el('span', { class: 'state' }, state));
  }

  function podList(pods) {
    return el('ul', { class: 'pods' },
      el('li', { class: 'pods-title' }, pods.length === 1 ? '1 pod' : pods.length + ' pods'),
      pods.length ? pods.map(podRow) : el('li', { class: 'empty' }, 'no pods'));
  }

  function nodeCard(n, pods) {
    const badge = !n.online ? ['bad', 'Offline'] : !n.ready ? ['warn', 'NotReady'] : !n.schedulable ? ['warn', 'Cordoned'] : ['ok', 'Ready'];
    const meta = [n.roles && n.roles.length ? n.roles.join(',') : null, n.address, n.arch, n.os].filter(Boolean).join(' · ');
    const t = n.temperatureC;
    return el('article', { class: 'card node', 'data-node': n.name },
      el('div', { class: 'card-head' },
        el('h3', {}, n.name),
        typeof t === 'number' ? el('span', { class: 'temp ' + (level(t, 60, 75) || 'ok'), title: 'SoC temperature' }, '🌡 ' + t.toFixed(1) + ' °C') : null,
        el('span', { class: 'badge ' + badge[0] }, badge[1])),
      el('p', { class: 'meta' }, meta || '\\u00a0'),
      gauge('CPU', n.cpu.usedCores, n.cpu.capacityCores, cores(n.cpu.usedCores) + ' / ' + cores(n.cpu.capacityCores) + ' cores'),
      gauge('Memory', n.memory.usedBytes, n.memory.capacityBytes, bytes(n.memory.usedBytes) + ' / ' + bytes(n.memory.capacityBytes)),
      podList(pods));
  }

  function render(s) {
    last = s;
    const byNode = new Map();
    for (const p of s.pods) {
      const k = p.node || '';
      if (!byNode.has(k)) byNode.set(k, []);
      byNode.get(k).push(p);
    }
    const cards = s.nodes.map((n) => nodeCard(n, byNode.get(n.name) || []));
    const known = new Set(s.nodes.map((n) => n.name));
    const unplaced = s.pods.filter((p) => !p.node || !known.has(p.node));
    if (unplaced.length) {
      cards.push(el('article', { class: 'card node unscheduled', 'data-node': '' },
        el('div', { class: 'card-head' }, el('h3', {}, 'Not on a node'), el('span', { class: 'badge warn' }, 'Pending')),
        el('p', { class: 'meta' }, 'waiting for the scheduler, or bound to a node that is gone'),
        podList(unplaced)));
    }
    const alerts = s.alerts || [];
    $('alerts').hidden = alerts.length === 0;
    $('alerts').replaceChildren(...alerts.map((a) => el('p', { class: 'alert', role: 'alert' }, a)));
    $('nodes').replaceChildren(...(cards.length ? cards : [el('p', { class: 'empty' }, 'No nodes yet: start an agent.')]));
    const running = s.pods.filter((p) => p.phase === 'Running').length;
    const ready = s.nodes.filter((n) => n.ready && n.online).length;
    $('summary').textContent = s.nodes.length + (s.nodes.length === 1 ? ' node' : ' nodes') + ' (' + ready + ' ready) · ' + s.pods.length + ' pods (' + running + ' running)';
    $('events').replaceChildren(...(s.events.length ? s.events.map((e) =>
      el('li', { class: 'event ' + e.type },
        el('span', { class: 'when', title: e.time || '' }, ago(e.time) + (e.count > 1 ? ' ×' + e.count : '')),
        el('span', { class: 'what' }, el('span', { class: 'reason' }, e.reason), ' ', el('span', { class: 'mono' }, e.object)),
        el('span', { class: 'msg' }, e.message))) : [el('li', { class: 'event' }, el('span', { class: 'msg' }, 'No events.'))]));
  }

  function live(state, text) {
    $('live').dataset.state = state;
    $('live-text').textContent = text;
  }

  function connect() {
    const source = new EventSource('/ui/stream');
    source.addEventListener('snapshot', (m) => {
      live('live', 'live');
      render(JSON.parse(m.data));
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        live('lost', 'disconnected');
        // Closed for good (e.g. a 401 after the token changed): try again later.
        setTimeout(connect, 5000);
      } else {
        live('lost', 'reconnecting…');
      }
    };
  }

  // Relative times age even when nothing changes.
  setInterval(() => { if (last) render(last); }, 10000);
  connect();
})();
`;
