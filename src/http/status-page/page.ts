/**
 * The status page's HTML and CSS, as strings (tsc ships them in dist with the
 * rest: no asset step). The page holds no data: its script (script.ts) polls
 * /api/status and fills the sections in by their ids, with textContent only.
 */

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swarmbus status</title>
<link rel="stylesheet" href="/status-page.css">
<script src="/status-page.js" defer></script>
</head>
<body>
<header>
  <h1>swarmbus</h1>
  <p>peer <code id="peer-id">…</code></p>
  <p class="meta">updated <span id="updated">never</span> <span id="error" role="alert"></span></p>
</header>
<main>
<section id="overview">
  <h2>Node</h2>
  <dl>
    <dt>mode</dt><dd id="mode">…</dd>
    <dt>mode setting</dt><dd id="mode-setting">…</dd>
    <dt>reachability</dt><dd id="reachability">…</dd>
    <dt>profile</dt><dd id="profile">…</dd>
    <dt>public addresses</dt><dd id="public-addresses">…</dd>
    <dt>peers</dt><dd id="peer-count">…</dd>
    <dt>connections</dt><dd id="connection-count">…</dd>
    <dt>routing table</dt><dd id="routing-table-size">…</dd>
    <dt>bootstrap</dt><dd id="bootstrap">…</dd>
    <dt>queries</dt><dd id="queries">…</dd>
    <dt>dead letters</dt><dd id="dead-letters">…</dd>
  </dl>
  <h3>Listen addresses</h3>
  <ul id="multiaddrs"></ul>
</section>
<section>
  <h2>Connections <small id="connections-note"></small></h2>
  <table id="connections"><thead><tr><th>peer</th><th>remote address</th><th>direction</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Routing table buckets</h2>
  <table id="buckets"><thead><tr><th>prefix</th><th>depth</th><th>peers</th><th></th><th>members</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Republisher</h2>
  <dl id="republish"></dl>
</section>
<section>
  <h2>Recent resolves and publishes <small id="operations-note"></small></h2>
  <table id="operations"><thead><tr><th>kind</th><th>id / name</th><th>started</th><th>outcome</th><th>duration</th><th>lifecycle</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>IPNS durations <small>(operations in the list above)</small></h2>
  <div id="durations"></div>
</section>
<section>
  <h2>IPNS latency <small>(asks through the daemon's API, since start; Prometheus' histograms)</small></h2>
  <div id="latency"></div>
</section>
<section>
  <h2>Command latency <small>(per actor and command type, since start)</small></h2>
  <table id="commands"><thead><tr><th>actor</th><th>command</th><th>served</th><th>failed</th><th>mean</th><th>max</th><th>mean / max</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Actors</h2>
  <table id="actors"><thead><tr><th>actor</th><th>state</th><th>mailbox</th><th>pending asks</th><th>restarts</th></tr></thead><tbody></tbody></table>
</section>
</main>
</body>
</html>
`

export const STATUS_PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d1d1f; background: #fafafa; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
h1 { margin: .8rem 0 .2rem; font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; }
h2 small, .meta { color: #666; font-weight: normal; font-size: .85rem; }
code, td.mono { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { color: #666; }
dd { margin: 0; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
.bar { display: inline-block; height: .7rem; background: #4a7bd0; vertical-align: middle; min-width: 1px; }
.bar.max { background: #c9d6ee; }
.step { display: inline-block; margin: 0 .3rem .2rem 0; padding: 0 .3rem; border-radius: 3px; background: #eef; font-size: .8rem; }
.step.done { background: #dfd; } .step.failed { background: #fdd; }
.outcome-failed { color: #b00; } .outcome-running { color: #a60; }
#error { color: #b00; }
.hist { display: inline-block; margin: 0 2rem 1rem 0; vertical-align: top; }
.hist td { padding: .1rem .4rem; }
`
