/**
 * Which on-demand views run natively (a `$lookup` MongoDB view) and which portably (joined by the
 * API), decided once at start, and the native ones installed:
 *
 *   viewMode 'auto'     MongoDB and no `map` → native; else portable. A view MongoDB refuses to
 *                       create (a server older than 5.0, a user without the privilege) is logged and
 *                       served portably instead.
 *   viewMode 'portable' every view portable.
 *   viewMode 'native'   MongoDB required (TRB_CONFIG otherwise); a refused view fails the start.
 *
 * Installing means: ensure the related collections' join indexes (logged; a failure is a warning —
 * the view still answers, slower), then `createCollection(name, {viewOn, pipeline})`, or `collMod`
 * when the view exists (CRUD Service's no-drop approach).
 */
import type { Logger } from 'pino';
import { TributaryError } from '../../errors.js';
import type { DocumentStore } from '../../store/types.js';
import { nativeEligible, nativeViewDefinition } from './native.js';
import type { View } from './view.js';

export type ViewMode = 'native' | 'portable';

export async function installViews(views: readonly View[], store: DocumentStore, mode: 'auto' | 'portable' | 'native', logger: Logger): Promise<Record<string, ViewMode>> {
  if (views.length === 0) return {};
  const createView = store.createView?.bind(store);
  const mongo = mode !== 'portable' && createView !== undefined && store.capabilities !== undefined && (await store.capabilities()).views;
  if (mode === 'native' && !mongo) throw new TributaryError('TRB_CONFIG', 'viewMode "native" needs a store that installs $lookup views (MongoDB, DocumentDB); this one has none (the memory store)');
  const modes: Record<string, ViewMode> = {};
  for (const v of views) {
    modes[v.name] = 'portable';
    if (!mongo || !nativeEligible(v)) continue;
    const definition = nativeViewDefinition(v);
    for (const { collection, index } of definition.indexes) {
      try {
        await store.collection(collection).createIndexes([index]);
        logger.info({ view: v.name, collection, index: index.name, fields: index.fields }, 'view join index ensured');
      } catch (error) {
        logger.warn({ err: error, view: v.name, collection, index: index.name }, 'could not ensure the view join index: the native view still answers, without it');
      }
    }
    try {
      await (createView as NonNullable<typeof createView>)(definition.name, definition.viewOn, definition.pipeline);
      modes[v.name] = 'native';
    } catch (error) {
      if (mode === 'native') throw error;
      logger.warn({ err: error, view: v.name }, 'MongoDB refused the native view: serving it portably');
    }
  }
  return modes;
}
