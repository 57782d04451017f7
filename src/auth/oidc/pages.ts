/** HTML pages of the sign-in flows: plain, accessible, no external resources. */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; color: #1d2433; }
  main { max-width: 22rem; margin: 10vh auto; background: #fff; padding: 2rem;
    border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  p.lead { margin: 0 0 1.5rem; color: #4a5368; }
  label { display: block; font-weight: 600; margin: 1rem 0 .35rem; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem;
    border: 1px solid #9aa3b5; border-radius: 4px; }
  input:focus, button:focus { outline: 3px solid #2f6fde; outline-offset: 1px; }
  button { margin-top: 1.5rem; width: 100%; padding: .7rem; font-size: 1rem; font-weight: 600;
    color: #fff; background: #1f57c3; border: 0; border-radius: 4px; cursor: pointer; }
  .error { color: #a0151e; background: #fdecee; padding: .6rem; border-radius: 4px; }
`;

/** A page in the sign-in pages' look: `body` goes in their card. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Graticule</title>
<style>${STYLE}</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

export interface LoginPageInput {
  action: string;
  applicationName: string;
  email?: string;
  error?: string;
}

/** The sign-in form every interactive OAuth flow goes through. */
export function loginPage(input: LoginPageInput): string {
  const error = input.error
    ? `<p class="error" role="alert" id="login-error">${escapeHtml(input.error)}</p>`
    : '';
  const describedBy = input.error ? ' aria-describedby="login-error"' : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p class="lead">to continue to ${escapeHtml(input.applicationName)}</p>
${error}
<form method="post" action="${escapeHtml(input.action)}" autocomplete="on">
  <label for="email">E-mail</label>
  <input id="email" name="email" type="email" required autofocus autocomplete="username"
    value="${escapeHtml(input.email ?? '')}"${describedBy}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required
    autocomplete="current-password"${describedBy}>
  <button type="submit">Sign in</button>
</form>`,
  );
}

/** Ends the session without a question: the logout request was already checked. */
export function logoutPage(form: string): string {
  return page(
    'Signing out',
    `<h1>Signing out…</h1>
${form}
<noscript><button form="op.logoutForm" type="submit" name="logout" value="yes">Sign out
</button></noscript>
<script>
  var form = document.getElementById('op.logoutForm');
  var input = document.createElement('input');
  input.type = 'hidden'; input.name = 'logout'; input.value = 'yes';
  form.appendChild(input);
  form.submit();
</script>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', '<h1>Signed out</h1><p class="lead">You can close this window.</p>');
}

export function oauthErrorPage(error: string, description?: string): string {
  return page(
    'Sign-in error',
    `<h1>Sign-in error</h1>
<p class="error" role="alert"><strong>${escapeHtml(error)}</strong>${
      description ? `: ${escapeHtml(description)}` : ''
    }</p>`,
  );
}
