import { expect } from 'chai';

/** Await `promise` and assert it rejects with an OsisError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string; details?: Record<string, unknown> }> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expect((error as { code?: string }).code, (error as Error).message).to.equal(code);
    return error as Error & { code: string };
  }
  throw new Error(`expected rejection with ${code}, got ${JSON.stringify(result)}`);
}
