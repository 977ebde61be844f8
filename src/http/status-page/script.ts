/**
 * The status page's script, as a string served at /status-page.js (plain
 * browser JavaScript, no build step). It polls /api/status every 2 s and
 * renders each section with createElement and textContent only — never
 * innerHTML — so peer ids, names and error texts from the network are shown
 * as text, whatever they hold. It sits in a String.raw template literal:
 * no backticks in it, and no dollar-brace but the one for POLL_MS.
 */

export const POLL_MS = 2_000

export const STATUS_PAGE_JS = String.raw`'use strict';
(function () {
  var POLL_MS = ${POLL_MS};

  function byId (id) { return document.getElementById(id); }
  function text (v) { return v === null || v === undefined ? '' : String(v); }
  function el (tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = text(content);
    return e;
  }
  function set (id, v) { var e = byId(id); if (e) e.textContent = text(v); }
  function clear (e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function row (cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = document.createElement('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = text(c);
      tr.appendChild(td);
    });
    return tr;
  }
  function tbody (id) { var b = byId(id).querySelector('tbody'); clear(b); return b; }
  function date (ms) { return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'; }
  function msText (ms) {
    if (ms === undefined || ms === null) return '—';
    if (ms < 10) return ms.toFixed(2) + ' ms';
    if (ms < 1000) return ms.toFixed(1) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(2) + ' s';
    if (ms < 3600000) return (ms / 60000).toFixed(1).replace(/\.0$/, '') + ' min';
    return (ms / 3600000).toFixed(1).replace(/\.0$/, '') + ' h';
  }
  function bar (fraction, cls) {
    var b = el('span', cls ? 'bar ' + cls : 'bar');
    b.style.width = Math.max(0, Math.min(1, fraction)) * 12 + 'rem';
    return b;
  }

  function renderOverview (s) {
    set('peer-id', s.node.peerId);
    set('mode', s.node.mode);
    var n = s.network;
    set('mode-setting', n ? n.modeSetting + (n.modeChanges ? ' (' + n.modeChanges + ' switches)' : '') : '—');
    set('reachability', n ? n.reachability : '—');
    set('profile', n ? n.profile + (n.autonat ? ', AutoNAT' : '') + (n.upnp ? ', UPnP' : '') : '—');
    set('public-addresses', n && n.publicAddresses.length ? n.publicAddresses.join(' ') : 'none');
    set('peer-count', s.peers.count);
    set('connection-count', s.peers.connections);
    set('routing-table-size', s.node.routingTableSize);
    var b = s.bootstrap;
    set('bootstrap', b.state + ' (' + b.connected + ' reached' + (b.retries ? ', ' + b.retries + ' retries' : '') + (b.lastError ? ': ' + b.lastError : '') + ')');
    set('queries', s.node.pendingQueries + ' asks pending, ' + s.node.runningQueries + ' libp2p operations running');
    set('dead-letters', s.deadLetters.total);
    var ul = byId('multiaddrs'); clear(ul);
    s.node.multiaddrs.forEach(function (a) { ul.appendChild(el('li', 'mono', a)); });
  }

  function renderConnections (s) {
    var body = tbody('connections');
    s.peers.list.forEach(function (c) {
      var tr = row([el('code', '', c.peerId), el('code', '', c.remoteAddr), c.direction]);
      tr.setAttribute('data-peer', c.peerId);
      body.appendChild(tr);
    });
    set('connections-note', s.peers.list.length < s.peers.connections ? '(first ' + s.peers.list.length + ' of ' + s.peers.connections + ')' : '');
  }

  function renderBuckets (s) {
    var body = tbody('buckets');
    if (!s.buckets) { body.appendChild(row(['not exposed by this DHT', '', '', '', ''])); return; }
    var most = 1;
    s.buckets.forEach(function (b) { if (b.size > most) most = b.size; });
    s.buckets.forEach(function (b) {
      var members = el('div');
      b.peers.forEach(function (p) {
        var c = el('code', '', p.peerId);
        c.title = p.lastPing ? 'last checked ' + date(p.lastPing) : 'not pinged';
        members.appendChild(c); members.appendChild(document.createTextNode(' '));
      });
      var tr = row([el('code', '', (b.prefix || '(root)') + (b.self ? ' (self)' : '')), b.depth, b.size, bar(b.size / most), members]);
      tr.setAttribute('data-prefix', b.prefix);
      body.appendChild(tr);
    });
  }

  function renderRepublish (s) {
    var dl = byId('republish'); clear(dl);
    var r = s.republish;
    function item (key, label, value) {
      dl.appendChild(el('dt', '', label));
      var dd = el('dd', '', value); dd.setAttribute('data-field', key); dl.appendChild(dd);
    }
    if (!r) { item('state', 'state', 'this node runs no republisher'); return; }
    item('state', 'state', !r.ready ? 'loading' : r.running ? 'running' : 'idle');
    item('tracked', 'names tracked', r.tracked);
    item('inFlight', 'in flight', r.inFlight + ' of ' + r.concurrency);
    item('intervalMs', 'interval', msText(r.intervalMs));
    item('thresholdMs', 'republish when validity below', msText(r.thresholdMs));
    item('nextRunAt', 'next run', date(r.nextRunAt));
    item('lastRun', 'last run', r.lastRun ? date(r.lastRun.finishedAt) + ' (' + r.lastRun.trigger + ': ' + r.lastRun.republished + ' republished, ' + r.lastRun.skipped + ' skipped, ' + r.lastRun.failed + ' failed)' : 'none yet');
    item('runs', 'runs', r.runs);
    item('republished', 'republished', r.republished);
    item('skipped', 'skipped', r.skipped);
    item('failed', 'failed', r.failed);
    item('retrying', 'retrying', r.retrying);
    var reasons = Object.keys(r.failures).map(function (k) { return k + ' ×' + r.failures[k]; });
    item('failures', 'failures by reason', reasons.length ? reasons.join(', ') : 'none');
  }

  function renderOperations (s) {
    var body = tbody('operations');
    var o = s.operations;
    set('operations-note', '(last ' + o.operations.length + ' of ' + o.seen + ' seen; ring of ' + o.capacity + ')');
    if (!o.operations.length) { body.appendChild(row(['none yet', '', '', '', '', ''])); return; }
    o.operations.forEach(function (op) {
      var life = el('div', 'lifecycle');
      op.steps.forEach(function (st) {
        var label = st.state + ' @' + msText(st.atMs) + (st.count > 1 ? ' ×' + st.count : '') + (st.note ? ' — ' + st.note : '');
        var span = el('span', 'step ' + st.state, label);
        span.setAttribute('data-state', st.state);
        if (st.events.length) span.title = 'events: ' + st.events.join(', ');
        life.appendChild(span);
      });
      if (op.droppedSteps) life.appendChild(el('span', 'step', '+' + op.droppedSteps + ' more'));
      var who = el('div');
      who.appendChild(el('code', '', op.id));
      if (op.name) { who.appendChild(el('br')); who.appendChild(el('code', '', op.name)); }
      var tr = row([op.kind, who, date(op.startedAt), el('span', 'outcome-' + op.outcome, op.outcome), msText(op.durationMs), life]);
      tr.setAttribute('data-kind', op.kind);
      tr.setAttribute('data-id', op.id);
      tr.setAttribute('data-outcome', op.outcome);
      body.appendChild(tr);
    });
  }

  function histogram (title, bounds, counts) {
    var d = el('div', 'hist');
    d.appendChild(el('h3', '', title));
    var t = el('table'); var most = 1;
    counts.forEach(function (c) { if (c > most) most = c; });
    counts.forEach(function (c, i) {
      var label = i < bounds.length ? '≤ ' + msText(bounds[i]) : '> ' + msText(bounds[bounds.length - 1]);
      t.appendChild(row([label, c, bar(c / most)]));
    });
    d.appendChild(t);
    return d;
  }

  function renderDurations (s) {
    var box = byId('durations'); clear(box);
    if (!s.durations.histograms.length) { box.appendChild(el('p', '', 'no finished operation yet')); return; }
    s.durations.histograms.forEach(function (h) {
      var d = histogram(h.kind + ' ' + h.outcome + ': ' + h.total + ', mean ' + msText(h.meanMs) + ', max ' + msText(h.maxMs), s.durations.boundsMs, h.counts);
      d.setAttribute('data-kind', h.kind);
      d.setAttribute('data-outcome', h.outcome);
      box.appendChild(d);
    });
  }

  function renderLatency (s) {
    var box = byId('latency'); clear(box);
    if (!s.latency) { box.appendChild(el('p', '', 'no metrics registry on this listener')); return; }
    if (!s.latency.length) { box.appendChild(el('p', '', 'no IPNS ask through the API yet')); return; }
    s.latency.forEach(function (h) {
      var labels = Object.keys(h.labels).map(function (k) { return k + '=' + h.labels[k]; }).join(', ');
      var kind = h.metric.indexOf('resolve') >= 0 ? 'resolve' : 'publish';
      var d = histogram(kind + ' (' + labels + '): ' + h.count + ', mean ' + msText(h.meanMs), h.boundsMs, h.counts);
      d.setAttribute('data-metric', h.metric);
      d.setAttribute('data-labels', labels);
      box.appendChild(d);
    });
  }

  function renderCommands (s) {
    var body = tbody('commands');
    var most = 0;
    s.commands.forEach(function (c) { if (c.maxMs > most) most = c.maxMs; });
    s.commands.forEach(function (c) {
      var bars = el('div');
      // log scale: the spread from a fraction of a ms to seconds fits one column
      function scale (ms) { return most > 0 ? Math.log1p(ms) / Math.log1p(most) : 0; }
      bars.appendChild(bar(scale(c.meanMs)));
      bars.appendChild(el('br'));
      bars.appendChild(bar(scale(c.maxMs), 'max'));
      var tr = row([c.actor, c.command, c.served, c.failed, msText(c.meanMs), msText(c.maxMs), bars]);
      tr.setAttribute('data-command', c.actor + ' ' + c.command);
      body.appendChild(tr);
    });
  }

  function renderActors (s) {
    var body = tbody('actors');
    s.actors.forEach(function (a) {
      body.appendChild(row([a.name, a.state, a.mailboxDepth + ' / ' + a.mailboxCapacity, a.pending, a.restarts]));
    });
  }

  function poll () {
    fetch('/api/status', { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) throw new Error('/api/status answered ' + res.status);
        return res.json();
      })
      .then(function (s) {
        [renderOverview, renderConnections, renderBuckets, renderRepublish, renderOperations, renderDurations, renderLatency, renderCommands, renderActors]
          .forEach(function (f) { f(s); });
        set('updated', date(s.generatedAt));
        set('error', '');
        document.body.setAttribute('data-generated-at', String(s.generatedAt));
      })
      .catch(function (err) { set('error', 'could not load the status: ' + (err && err.message ? err.message : err)); })
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
`
