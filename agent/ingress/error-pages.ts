// The pages the ingress proxy answers itself: what was asked, and which rule (or lack of
// one) decided it, so a user sees at once whether the host, the path or the Service is
// the problem. HTML for browsers, the same text for everyone else.
import type { ServerResponse } from 'node:http';

const STATUS_TEXT: Record<number, string> = { 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function errorPage(res: ServerResponse, status: number, lines: string[], acceptsHtml: boolean, node: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  const text = [title, ...lines, `(pikube ingress on node ${node})`].join('\n') + '\n';
  const body = acceptsHtml
    ? `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}<hr><p><small>pikube ingress on node ${escapeHtml(node)}</small></p></body></html>\n`
    : text;
  res.writeHead(status, {
    'content-type': acceptsHtml ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** The same for a raw socket (an upgrade request the proxy cannot route). */
export function rawErrorResponse(status: number, lines: string[], node: string): string {
  const body = [`${status} ${STATUS_TEXT[status] ?? 'Error'}`, ...lines, `(pikube ingress on node ${node})`].join('\n') + '\n';
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
