/** Models kept across reloads: an IndexedDB object store of model-file JSON records. */
import type { ModelFileJson } from '../io/model-format.ts';

export interface SavedModel {
  id: string;
  label: string;
  savedAt: string;
  kind: string;
  parameters: number;
  json: ModelFileJson;
}

const DB = 'iclrnn-dashboard';
const STORE = 'models';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => {
      if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE, { keyPath: 'id' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB is not available'));
  });
}

async function tx<T>(mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = body(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export async function listModels(): Promise<SavedModel[]> {
  const all = await tx<SavedModel[]>('readonly', (s) => s.getAll() as IDBRequest<SavedModel[]>);
  return all.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

export async function putModel(m: SavedModel): Promise<void> {
  await tx('readwrite', (s) => s.put(m));
}

export async function deleteModel(id: string): Promise<void> {
  await tx('readwrite', (s) => s.delete(id));
}

export async function getModel(id: string): Promise<SavedModel | undefined> {
  return tx<SavedModel | undefined>('readonly', (s) => s.get(id) as IDBRequest<SavedModel | undefined>);
}

export function newId(): string {
  return `m${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
