import type { Store } from '../../library/store';
import type { Frame } from '../layout';

/** What a page handler gets: the context's store, the query, and the frame bits the server decides. */
export interface PageInput {
  store: Store;
  context: string;
  contexts: string[];
  query: URLSearchParams;
  /** Frame parts that do not depend on the page (sign-out form). */
  frame: Pick<Frame, 'signOut'>;
  /** CSRF token for this page's forms. */
  csrf: string;
}
