// The status page's document: a shell that app.js fills from the live stream.
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<title>pikube</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1><span class="logo" aria-hidden="true"></span>pikube</h1>
  <p class="summary" id="summary">connecting…</p>
  <p class="live" id="live" data-state="connecting"><span class="dot"></span><span id="live-text">connecting</span></p>
</header>
<div class="alerts" id="alerts" hidden></div>
<main>
  <section aria-labelledby="nodes-title">
    <h2 id="nodes-title">Nodes</h2>
    <div class="nodes" id="nodes"></div>
  </section>
  <section aria-labelledby="events-title">
    <h2 id="events-title">Recent events</h2>
    <ol class="events" id="events"></ol>
  </section>
</main>
<noscript>This page needs JavaScript to follow the cluster live.</noscript>
</body>
</html>
`;

/** What an unauthenticated browser sees. */
export const SIGN_IN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>pikube: sign in</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
</head>
<body class="signin">
<main>
<h1><span class="logo" aria-hidden="true"></span>pikube</h1>
<p>This status page needs the cluster's token. Open it once as</p>
<pre>https://&lt;controller&gt;:6443/ui/?token=&lt;token&gt;</pre>
<p>The token is in <code>&lt;data-dir&gt;/admin-token</code> on the controller (<code>pikube up</code> prints the whole address). The browser then keeps it in a cookie for this page only.</p>
</main>
</body>
</html>
`;
