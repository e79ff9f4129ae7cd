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

/** What an unauthenticated browser sees: a form that posts the token (never in a URL). */
export function signInHtml(message = ''): string {
  const note = message ? `<p class="error" role="alert">${message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>\n` : '';
  return `<!doctype html>
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
${note}<form method="post" action="/ui/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p>Use a token that may view the cluster: the admin token (<code>&lt;data-dir&gt;/admin-token</code>) or one from <code>kubectl create token</code>. The page keeps a session for an hour.</p>
</main>
</body>
</html>
`;
}
