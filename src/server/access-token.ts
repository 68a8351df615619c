import { randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie a browser keeps the token in after opening the printed URL once. */
export const TOKEN_COOKIE = 'batchcam_token';

/** A fresh random access token (Jupyter-style: 24 bytes, hex). */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}

/** The token a request carries: `?token=`, an `Authorization: Bearer` or `X-Batchcam-Token` header, or the cookie. */
export function requestToken(url: string, headers: Record<string, string | string[] | undefined>): string | null {
  const q = url.indexOf('?');
  if (q >= 0) {
    const t = new URLSearchParams(url.slice(q + 1)).get('token');
    if (t) return t;
  }
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const h = headers['x-batchcam-token'];
  if (typeof h === 'string') return h;
  const cookie = headers.cookie;
  if (typeof cookie === 'string') {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === TOKEN_COOKIE) return v.join('=');
    }
  }
  return null;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
