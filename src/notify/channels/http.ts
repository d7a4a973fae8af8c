/**
 * JSON POST with a timeout over undici (Node's own HTTP client, here with its Agent for the channel's TLS
 * trust); maps HTTP outcomes to DeliveryError. Shared by Slack and webhook channels.
 */
import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { DeliveryError, parseRetryAfter } from './channel.js';
import { plainText, truncateBytes } from '../render/escape.js';

export interface TlsTrust {
  /** PEM of the CA(s) to trust instead of the public ones. */
  ca?: string | undefined;
  rejectUnauthorized: boolean;
}

/** A dispatcher for a channel that trusts other than the public CAs; undefined for the default (public CAs, verified). */
export function trustDispatcher(t: TlsTrust): Dispatcher | undefined {
  if (t.ca === undefined && t.rejectUnauthorized) return undefined;
  return new Agent({ connect: { rejectUnauthorized: t.rejectUnauthorized, ...(t.ca !== undefined ? { ca: t.ca } : {}) } });
}

export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number, what: string, dispatcher?: Dispatcher): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (e) {
    const err = e as Error;
    const cause = (err.cause as Error | undefined)?.message;
    throw new DeliveryError(`${what}: request failed: ${err.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : err.message}${cause ? ` (${cause})` : ''}`, { cause: e });
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const detail = plainText(truncateBytes(text, 200));
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    throw new DeliveryError(`${what}: HTTP 429 rate limited${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''}`, retryAfterMs !== undefined ? { retryAfterMs } : {});
  }
  // 400 = the payload itself was rejected: sending it again cannot succeed.
  throw new DeliveryError(`${what}: HTTP ${res.status} ${detail}`, { permanent: res.status === 400 });
}
