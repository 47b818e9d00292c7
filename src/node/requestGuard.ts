/**
 * Who may talk to `steve serve`. The server listens on 127.0.0.1 only, but a page on any web site can make the
 * user's browser send requests there, and with DNS rebinding (attacker.com resolving to 127.0.0.1) the browser
 * treats the answers as the attacker's own. So every request must name this server by a loopback name in its Host
 * header (a rebound name cannot), a cross-site request is refused by its Origin, and the user's files need the
 * per-run token printed in the URL, which no other page can know.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The names a browser on this machine may use for the server: what `serve` prints and its usual aliases. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Why a request may not be answered (a 403), or undefined when its Host (and Origin, if any) are this server's. */
export function refuseForeignRequest(headers: IncomingHttpHeaders, port: number): string | undefined {
  const hosts = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  const host = headers.host?.toLowerCase();
  if (host === undefined || !hosts.includes(host)) return 'Host must be 127.0.0.1, localhost or [::1] with the port of this server';
  const origin = headers.origin;
  if (origin !== undefined && !hosts.some((allowed) => origin.toLowerCase() === `http://${allowed}`)) return 'requests from other sites are refused';
  return undefined;
}

/** A fresh random token for one run of the server: 192 bits, URL-safe. */
export function makeAccessToken(): string {
  return randomBytes(24).toString('base64url');
}

/** True when the URL's query carries `token` (compared in constant time, so its bytes cannot be guessed by timing). */
export function hasAccessToken(url: string, token: string): boolean {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const given = new URLSearchParams(query).get('token');
  if (given === null) return false;
  const [a, b] = [Buffer.from(given), Buffer.from(token)];
  return a.length === b.length && timingSafeEqual(a, b);
}
