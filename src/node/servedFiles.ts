/**
 * The files `steve serve` hands to the viewer, and the manifest (GET /steve-files.json) that lists them: per
 * utterance, its attention tensor, WAV and alignment files as URLs under /files/<index>/<name>, with the alignment
 * kind, tier names and spf the command line was given (STEVE's plot_attentions arguments). Only files listed here
 * are ever served from outside the app: a URL is looked up by index and exact name, never turned into a path.
 */
import { basename } from 'node:path';

/** What a served file is to the viewer. */
/** 'model': a model folder's file (config.json, preprocessor_config.json, safetensors), run by the viewer on the WAV. */
export type ServedRole = 'attention' | 'wav' | 'phones' | 'words' | 'text' | 'textgrid' | 'model';

/** A file on disk and its role. */
export interface ServedFile {
  readonly role: ServedRole;
  /** Absolute path; never sent to the browser. */
  readonly path: string;
  /**
   * The real path of the folder the file was found in when `serve` scanned a folder: the file is served only while
   * it (symbolic links resolved) lies inside. Absent for files named on the command line.
   */
  readonly root?: string;
}

/** One utterance as the command line described it. */
export interface ServedUtterance {
  readonly name: string;
  readonly files: readonly ServedFile[];
  readonly alignments: 'timit' | 'textgrid' | 'none';
  readonly phoneTier?: string;
  readonly wordTier?: string;
  readonly textTier?: string;
  readonly spf?: number;
}

/** The manifest's JSON, version 1. */
export interface ServedManifest {
  readonly version: 1;
  readonly utterances: readonly {
    readonly name: string;
    readonly files: readonly { readonly role: ServedRole; readonly name: string; readonly url: string }[];
    readonly alignments: 'timit' | 'textgrid' | 'none';
    readonly tiers: { readonly phoneTier: string | null; readonly wordTier: string | null; readonly textTier: string | null };
    readonly spf: number | null;
  }[];
}

/** The URL of a served file: /files/<utterance index>/<file name, URL-encoded>?token=<the run's access token>. */
export function servedFileUrl(index: number, path: string, token: string): string {
  return `/files/${index}/${encodeURIComponent(basename(path))}?token=${encodeURIComponent(token)}`;
}

/** The manifest of `utterances`, its URLs carrying `token`. */
export function makeManifest(utterances: readonly ServedUtterance[], token: string): ServedManifest {
  return {
    version: 1,
    utterances: utterances.map((utterance, index) => ({
      name: utterance.name,
      files: utterance.files.map((file) => ({ role: file.role, name: basename(file.path), url: servedFileUrl(index, file.path, token) })),
      alignments: utterance.alignments,
      tiers: { phoneTier: utterance.phoneTier ?? null, wordTier: utterance.wordTier ?? null, textTier: utterance.textTier ?? null },
      spf: utterance.spf ?? null,
    })),
  };
}

/**
 * The file a /files/... URL path names, or undefined: `index` must be an utterance and `name` (already decoded)
 * exactly the base name of one of its files.
 */
export function lookupServedFile(utterances: readonly ServedUtterance[], index: string, name: string): ServedFile | undefined {
  if (!/^\d+$/.test(index)) return undefined;
  return utterances[Number(index)]?.files.find((file) => basename(file.path) === name);
}
