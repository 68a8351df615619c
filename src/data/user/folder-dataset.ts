import { basename } from 'node:path';
import type { DatasetInfo, Split } from '../dataset-info.js';
import { decodeImage, mapLimit, probeImage, type ImageShape } from '../formats/image-file.js';
import { scanImageFolder, type ScannedFolder } from './image-folder.js';
import { chooseShape, infoFor, IN_FLIGHT, type UserData, type UserDataOptions, type UserSplit } from './user-data.js';

/** An image folder scanned and every header probed: its files and the C×H×W each image is decoded to. */
export interface ProbedFolder {
  readonly spec: string;
  readonly folder: ScannedFolder;
  readonly shape: ImageShape;
}

/** Scans an image folder (docs: README "Your own data") and probes every header, choosing the decoded size. */
export async function probeFolder(spec: string, dir: string, o: UserDataOptions): Promise<ProbedFolder> {
  const folder = scanImageFolder(dir, { testFraction: o.testFraction ?? 0.2, seed: o.splitSeed ?? 0 });
  const paths = [...folder.train.paths, ...folder.test.paths];
  const probes = await mapLimit(paths, IN_FLIGHT, async (path) => ({ path, ...(await probeImage(path)) }));
  return { spec, folder, shape: chooseShape(probes, o, dir) };
}

/** The dataset description of a probed folder. */
export function folderInfo(p: ProbedFolder): DatasetInfo {
  return infoFor(p.spec, basename(p.folder.dir), p.folder.classNames, p.shape, p.folder.train.paths.length, p.folder.test.paths.length);
}

/** Decodes one split of a probed folder into memory, resized through sharp. */
export async function decodeFolderSplit(p: ProbedFolder, split: Split): Promise<UserSplit> {
  const size = p.shape[0] * p.shape[1] * p.shape[2];
  const part = p.folder[split];
  const pixels = new Uint8Array(part.paths.length * size);
  await mapLimit(part.paths, IN_FLIGHT, async (path, i) => { pixels.set(await decodeImage(path, p.shape), i * size); });
  return { split, n: part.paths.length, pixels, labels: part.labels, sources: part.paths };
}

/** Decodes both splits of a probed folder into memory. */
export async function decodeFolder(p: ProbedFolder): Promise<UserData> {
  const train = await decodeFolderSplit(p, 'train');
  const test = await decodeFolderSplit(p, 'test');
  return { info: folderInfo(p), train, test };
}

/** Loads an image folder into memory: scan, probe every header, decode and resize through sharp. */
export async function loadFolder(spec: string, dir: string, o: UserDataOptions): Promise<UserData> {
  return decodeFolder(await probeFolder(spec, dir, o));
}
