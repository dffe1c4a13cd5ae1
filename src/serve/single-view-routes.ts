/**
 * Read-API routes about the single views themselves rather than their documents:
 *
 *   GET /-/definitions    which definition of each single view is live, being built (shadow) or
 *                         switched in (blue/green refreshes), and the one these declarations hold
 *   GET /-/explain/<view>?<key field>=<value>…
 *                         lineage of one view document: the document, the projection rows in it with
 *                         their source positions, the trigger that last rebuilt it (404 unknown view).
 *                         Only with `explain: true`: it shows whole documents, past the ACL headers
 *                         and hidden columns of the collection routes.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import { TributaryError } from '../errors.js';
import { definitionStatus } from '../fastdata/singleview/definitions.js';
import { explainView, viewKeyFromText } from '../fastdata/singleview/lineage.js';
import type { SingleView } from '../fastdata/singleview/single-view.js';
import type { DocumentStore } from '../store/types.js';
import type { RouteLabels } from './collection-routes.js';

export interface SingleViewRouteOptions {
  readonly explain: boolean;
  /** The OpenAPI description of a helper route (read-api.ts's helperSchema). */
  readonly schema: (summary: string) => FastifySchema;
}

export function registerSingleViewRoutes(app: FastifyInstance, views: ReadonlyArray<SingleView<object>>, store: DocumentStore, options: SingleViewRouteOptions): void {
  const labels = (route: string, summary: string) => ({ config: { collection: '-', route } satisfies RouteLabels, schema: options.schema(summary) });
  app.get('/-/definitions', labels('definitions', 'Which definition of each single view is live, being built (shadow) or switched in (blue/green)'), async () =>
    // `writes` / `fenced` describe a writer of these declarations; the read API only reads, so it reports the declared version only.
    (await definitionStatus(views, store)).map(({ writes: _writes, fenced: _fenced, ...rest }) => rest),
  );
  if (!options.explain) return;
  app.get<{ Params: { view: string }; Querystring: Record<string, string> }>('/-/explain/:view', labels('explain', 'Lineage of one view document: ?<key field>=<value>; whole documents, past ACL and hidden columns'), async (request) => {
    const view = views.find((v) => v.name === request.params.view);
    if (!view) throw new TributaryError('TRB_NOT_FOUND', `no single view '${request.params.view}' (views: ${views.map((v) => v.name).join(', ') || 'none'})`);
    let key;
    try {
      key = viewKeyFromText(view, request.query);
    } catch (error) {
      throw new TributaryError('TRB_QUERY_INVALID', error instanceof Error ? error.message : String(error));
    }
    return explainView(view, key, store);
  });
}
