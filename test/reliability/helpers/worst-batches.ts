/** The worst requests one client can send the JSON-RPC service, each within or just past its bounds. */

const rpc = (i: number, method: string, params: unknown) => ({ jsonrpc: '2.0', id: i, method, params });
const many = (n: number, method: string, params: unknown) => Array.from({ length: n }, (_, i) => rpc(i + 1, method, params));

export const WORST_BATCHES: Array<{ name: string; body: string }> = [
  { name: '1000 × log_read limit 10000', body: JSON.stringify(many(1000, 'log_read', { limit: 10_000 })) },
  { name: '10 × log_read limit 1000', body: JSON.stringify(many(10, 'log_read', { limit: 1000 })) },
  { name: '1000 × user_find on an undeclared field', body: JSON.stringify(many(1000, 'user_find', { filter: { nope: 1 }, limit: 1 })) },
  { name: 'user_list_full limit 10000', body: JSON.stringify(rpc(1, 'user_list_full', { limit: 10_000 })) },
  { name: '100 × user_find_full on a common word', body: JSON.stringify(many(100, 'user_find_full', { text: 'common', limit: 100 })) },
];

/** POST a body to `${url}/rpc` and return the response text. */
export async function postRpc(url: string, body: string): Promise<string> {
  const response = await fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return response.text();
}
