import type { DatasetSpec } from '../dataset-spec.js';
import { loadFolder } from './folder-dataset.js';
import { loadIdx } from './idx-dataset.js';
import type { UserData, UserDataOptions } from './user-data.js';

/** Loads a `folder:` or `idx:` dataset into memory. */
export function loadUserDataset(spec: string, parsed: Exclude<DatasetSpec, { kind: 'builtin' }>, o: UserDataOptions = {}): Promise<UserData> {
  return parsed.kind === 'folder' ? loadFolder(spec, parsed.dir, o) : loadIdx(spec, parsed.dir, o);
}
