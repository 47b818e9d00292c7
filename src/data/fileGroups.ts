/**
 * Groups dropped or picked files into utterances, the way STEVE pairs a WAV with the files beside it: by stem
 * (the name without its extension). An attention file belongs to the WAV whose stem starts its name
 * ("LDC93S1.npy", "LDC93S1_whisper_base.safetensors"); one WAV and one tensor always pair.
 */

export const ATTENTION_EXTENSIONS = ['npy', 'npz', 'safetensors'];
export const ALIGNMENT_EXTENSIONS = ['textgrid', 'phn', 'wrd', 'txt'];

export interface NamedFile {
  readonly name: string;
}

export interface FileGroup<F extends NamedFile> {
  /** The WAV's stem, or the tensor's when there is no WAV. */
  stem: string;
  wav?: F;
  attention?: F;
  /** Alignment files by lower-case extension: textgrid, phn, wrd, txt. */
  alignments: Partial<Record<string, F>>;
}

export interface GroupedFiles<F extends NamedFile> {
  groups: FileGroup<F>[];
  /** Files that fit no utterance, with the reason, for the user to see. */
  unmatched: { file: F; reason: string }[];
}

export function splitName(name: string): { stem: string; extension: string } {
  const base = name.split(/[\\/]/).pop() ?? name;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? { stem: base.slice(0, dot), extension: base.slice(dot + 1).toLowerCase() } : { stem: base, extension: '' };
}

export function groupFiles<F extends NamedFile>(files: readonly F[]): GroupedFiles<F> {
  const groups = new Map<string, FileGroup<F>>();
  const unmatched: { file: F; reason: string }[] = [];
  const attentionFiles: F[] = [];
  const alignmentFiles: F[] = [];
  for (const file of files) {
    const { stem, extension } = splitName(file.name);
    if (extension === 'wav') groups.set(stem, { stem, wav: file, alignments: {} });
    else if (ATTENTION_EXTENSIONS.includes(extension)) attentionFiles.push(file);
    else if (ALIGNMENT_EXTENSIONS.includes(extension)) alignmentFiles.push(file);
    else unmatched.push({ file, reason: 'not a WAV, attention (.npy, .npz, .safetensors) or alignment (.TextGrid, .phn, .wrd, .txt) file' });
  }
  const wavGroups = [...groups.values()];
  for (const file of attentionFiles) {
    const { stem } = splitName(file.name);
    // The longest WAV stem that starts the tensor's name: "a1" must not take "a10_attn.npy" from "a10".
    const owner =
      wavGroups.filter((g) => !g.attention && stem.startsWith(g.stem)).sort((a, b) => b.stem.length - a.stem.length)[0] ??
      (wavGroups.length === 1 && attentionFiles.length === 1 ? wavGroups[0] : undefined);
    if (owner) owner.attention = file;
    else if (!groups.has(stem)) groups.set(stem, { stem, attention: file, alignments: {} });
    else unmatched.push({ file, reason: `a second attention file for ${stem}` });
  }
  for (const file of alignmentFiles) {
    const { stem, extension } = splitName(file.name);
    const group = groups.get(stem);
    if (group?.wav) group.alignments[extension] = file;
    else unmatched.push({ file, reason: `no ${stem}.wav beside it` });
  }
  for (const group of groups.values()) {
    if (!group.attention && group.wav) unmatched.push({ file: group.wav, reason: `no attention file for ${group.stem}` });
  }
  return { groups: [...groups.values()].filter((g) => g.attention), unmatched };
}
