/**
 * The project's own phone feature table for the TIMIT/ARPAbet phone set, and the 61 -> 49 -> 40 foldings.
 *
 * Written for this project (MIT) from standard phonetic descriptions, not copied from any other table:
 * - the phone set and each symbol's meaning: the TIMIT documentation's phone list (Garofolo et al., 1993,
 *   "DARPA TIMIT Acoustic-Phonetic Continuous Speech Corpus", NISTIR 4930, table of phonemic and phonetic symbols,
 *   `phoncode.doc`): stops b d g p t k dx q, closures bcl dcl gcl pcl tcl kcl, affricates jh ch, fricatives
 *   s sh z zh f th v dh, nasals m n ng em en eng nx, semivowels and glides l r w y hh hv el, vowels iy ih eh ey ae aa
 *   aw ay ah ao oy ow uh uw ux er ax ix axr ax-h, others pau epi h#;
 * - place, manner, voicing, height, backness and rounding: Ladefoged & Johnson, "A Course in Phonetics" (7th ed.,
 *   2015), chapters 2-4 and their American English consonant and vowel charts (dental th/dh, post-alveolar sh zh ch
 *   jh, labial-velar w, glottal h and glottal stop, [ʉ] for TIMIT's fronted ux, [ɨ] for ix);
 * - the foldings: Lee & Hon (1989), "Speaker-independent phone recognition using hidden Markov models", IEEE Trans.
 *   ASSP 37(11), section on the phone set: 61 -> 48 for training and 48 -> 39 for scoring. Our 49 and 40 sets are
 *   Lee & Hon's 48 and 39 plus the glottal stop q, which Lee & Hon delete (a deletion would drop frames from the
 *   statistics; kept as its own phone it can still be left out by the reader). tests/data/phoneClasses.test.ts
 *   spells out every merge of both foldings and checks the set sizes 61, 49 and 40.
 *
 * Labels outside the table (Montreal Forced Aligner's "sp", "spn", ...) have no class: lookupPhoneClass returns
 * undefined and users say "other".
 */

/** Vowel, consonant, or silence (pauses, epenthetic silence, and stop closures, as Lee & Hon fold them). */
export type PhoneCategory = 'vowel' | 'consonant' | 'silence';

/** Manner of articulation; vowels, stop closures and silences are their own manners here. */
export type Manner = 'stop' | 'flap' | 'affricate' | 'fricative' | 'nasal' | 'liquid' | 'glide' | 'vowel' | 'closure' | 'silence';

/** Place of articulation of consonants (and closures, at the place of their stop). */
export type Place = 'bilabial' | 'labiodental' | 'dental' | 'alveolar' | 'postalveolar' | 'palatal' | 'velar' | 'labial-velar' | 'glottal';

export type Voicing = 'voiced' | 'voiceless';
export type Height = 'high' | 'mid' | 'low';
export type Backness = 'front' | 'central' | 'back';

/** The features of one phone; null where a feature does not apply (place of a vowel, height of a consonant, ...). */
export interface PhoneClass {
  readonly category: PhoneCategory;
  readonly manner: Manner;
  readonly place: Place | null;
  /** Null for silences (there is no voice to speak of). */
  readonly voicing: Voicing | null;
  /** Vowels only: the quality of a monophthong, or the starting quality of a diphthong (ey ay aw oy ow). */
  readonly height: Height | null;
  readonly backness: Backness | null;
  readonly rounded: boolean | null;
}

/** A 61-set TIMIT phone's folded forms. */
export interface PhoneFolding {
  readonly phone49: string;
  readonly phone40: string;
}

const consonant = (manner: Manner, place: Place, voicing: Voicing): PhoneClass => ({
  category: 'consonant',
  manner,
  place,
  voicing,
  height: null,
  backness: null,
  rounded: null,
});
const vowel = (height: Height, backness: Backness, rounded: boolean, voicing: Voicing = 'voiced'): PhoneClass => ({
  category: 'vowel',
  manner: 'vowel',
  place: null,
  voicing,
  height,
  backness,
  rounded,
});
const closure = (place: Place | null, voicing: Voicing): PhoneClass => ({
  category: 'silence',
  manner: 'closure',
  place,
  voicing,
  height: null,
  backness: null,
  rounded: null,
});
const SILENCE: PhoneClass = { category: 'silence', manner: 'silence', place: null, voicing: null, height: null, backness: null, rounded: null };

/**
 * Every phone of the TIMIT 61 set, then the three symbols that only the folded sets use (vcl, cl, sil). The order
 * is the display order: grouped by manner, as TIMIT's documentation lists them.
 */
export const PHONE_TABLE: ReadonlyMap<string, PhoneClass> = new Map<string, PhoneClass>([
  // Stops (TIMIT: the release; the closure is a separate segment). q is the glottal stop.
  ['b', consonant('stop', 'bilabial', 'voiced')],
  ['d', consonant('stop', 'alveolar', 'voiced')],
  ['g', consonant('stop', 'velar', 'voiced')],
  ['p', consonant('stop', 'bilabial', 'voiceless')],
  ['t', consonant('stop', 'alveolar', 'voiceless')],
  ['k', consonant('stop', 'velar', 'voiceless')],
  ['q', consonant('stop', 'glottal', 'voiceless')],
  // The alveolar flap of "muddy", "dirty".
  ['dx', consonant('flap', 'alveolar', 'voiced')],
  ['jh', consonant('affricate', 'postalveolar', 'voiced')],
  ['ch', consonant('affricate', 'postalveolar', 'voiceless')],
  ['s', consonant('fricative', 'alveolar', 'voiceless')],
  ['sh', consonant('fricative', 'postalveolar', 'voiceless')],
  ['z', consonant('fricative', 'alveolar', 'voiced')],
  ['zh', consonant('fricative', 'postalveolar', 'voiced')],
  ['f', consonant('fricative', 'labiodental', 'voiceless')],
  ['th', consonant('fricative', 'dental', 'voiceless')],
  ['v', consonant('fricative', 'labiodental', 'voiced')],
  ['dh', consonant('fricative', 'dental', 'voiced')],
  // TIMIT lists hh and hv with the semivowels; Ladefoged & Johnson describe [h] as a glottal fricative, and hv
  // (intervocalic "ahead") as its voiced (breathy) form.
  ['hh', consonant('fricative', 'glottal', 'voiceless')],
  ['hv', consonant('fricative', 'glottal', 'voiced')],
  ['m', consonant('nasal', 'bilabial', 'voiced')],
  ['n', consonant('nasal', 'alveolar', 'voiced')],
  ['ng', consonant('nasal', 'velar', 'voiced')],
  // Syllabic nasals ("bottom", "button", "Washington") and the nasal flap ("winner").
  ['em', consonant('nasal', 'bilabial', 'voiced')],
  ['en', consonant('nasal', 'alveolar', 'voiced')],
  ['eng', consonant('nasal', 'velar', 'voiced')],
  ['nx', consonant('nasal', 'alveolar', 'voiced')],
  // Ladefoged & Johnson place American r as post-alveolar (retroflex or bunched); l and syllabic el are alveolar.
  ['l', consonant('liquid', 'alveolar', 'voiced')],
  ['r', consonant('liquid', 'postalveolar', 'voiced')],
  ['el', consonant('liquid', 'alveolar', 'voiced')],
  ['w', consonant('glide', 'labial-velar', 'voiced')],
  ['y', consonant('glide', 'palatal', 'voiced')],
  ['iy', vowel('high', 'front', false)],
  ['ih', vowel('high', 'front', false)],
  ['eh', vowel('mid', 'front', false)],
  ['ey', vowel('mid', 'front', false)],
  ['ae', vowel('low', 'front', false)],
  ['aa', vowel('low', 'back', false)],
  ['aw', vowel('low', 'central', false)],
  ['ay', vowel('low', 'central', false)],
  ['ah', vowel('mid', 'central', false)],
  ['ao', vowel('low', 'back', true)],
  ['oy', vowel('mid', 'back', true)],
  ['ow', vowel('mid', 'back', true)],
  ['uh', vowel('high', 'back', true)],
  ['uw', vowel('high', 'back', true)],
  // Fronted [ʉ] ("toot" after alveolars).
  ['ux', vowel('high', 'central', true)],
  // Stressed and unstressed r-coloured schwa, schwa, the barred-i [ɨ] ("debit"), and the devoiced schwa ("suspect").
  ['er', vowel('mid', 'central', false)],
  ['ax', vowel('mid', 'central', false)],
  ['ix', vowel('high', 'central', false)],
  ['axr', vowel('mid', 'central', false)],
  ['ax-h', vowel('mid', 'central', false, 'voiceless')],
  ['bcl', closure('bilabial', 'voiced')],
  ['dcl', closure('alveolar', 'voiced')],
  ['gcl', closure('velar', 'voiced')],
  ['pcl', closure('bilabial', 'voiceless')],
  ['tcl', closure('alveolar', 'voiceless')],
  ['kcl', closure('velar', 'voiceless')],
  // Pause, epenthetic silence, and the begin/end-of-utterance marker.
  ['pau', SILENCE],
  ['epi', SILENCE],
  ['h#', SILENCE],
  // Lee & Hon's folded symbols: voiced closure, unvoiced closure, silence (also the Montreal Forced Aligner's "sil").
  ['vcl', closure(null, 'voiced')],
  ['cl', closure(null, 'voiceless')],
  ['sil', SILENCE],
]);

/** The TIMIT 61-phone set, in table order. */
export const TIMIT_61: readonly string[] = [...PHONE_TABLE.keys()].filter((phone) => !['vcl', 'cl', 'sil'].includes(phone));

/** Lee & Hon's 61 -> 48 merges (with q kept: our 49 set). Phones not listed keep their symbol. */
const FOLD_TO_49: Readonly<Record<string, string>> = {
  ux: 'uw',
  axr: 'er',
  'ax-h': 'ax',
  em: 'm',
  nx: 'n',
  eng: 'ng',
  hv: 'hh',
  bcl: 'vcl',
  dcl: 'vcl',
  gcl: 'vcl',
  pcl: 'cl',
  tcl: 'cl',
  kcl: 'cl',
  'h#': 'sil',
  pau: 'sil',
};

/** Lee & Hon's 48 -> 39 merges for scoring (q kept: our 40 set). */
const FOLD_49_TO_40: Readonly<Record<string, string>> = {
  ao: 'aa',
  ix: 'ih',
  ax: 'ah',
  el: 'l',
  en: 'n',
  zh: 'sh',
  vcl: 'sil',
  cl: 'sil',
  epi: 'sil',
};

/** phone61 -> its 49- and 40-set symbols. */
export const PHONE_FOLDING: ReadonlyMap<string, PhoneFolding> = new Map(
  TIMIT_61.map((phone) => {
    const phone49 = FOLD_TO_49[phone] ?? phone;
    return [phone, { phone49, phone40: FOLD_49_TO_40[phone49] ?? phone49 }];
  }),
);

/** The phone sets a corpus can be folded to. */
export type PhoneSet = 61 | 49 | 40;

/** The canonical table key of a label as an aligner may write it: as given, else lower-cased, else without an
 * ARPAbet stress digit (L2-ARCTIC's "AH0", "EY1" -> "ah", "ey"). Undefined for labels the table lacks. */
export function canonicalPhone(label: string): string | undefined {
  if (PHONE_TABLE.has(label)) return label;
  const lower = label.toLowerCase();
  if (PHONE_TABLE.has(lower)) return lower;
  const unstressed = lower.replace(/^([a-z]+)[012]$/, '$1');
  return PHONE_TABLE.has(unstressed) ? unstressed : undefined;
}

/** The class of a phone label as an aligner may write it (see canonicalPhone); undefined for "sp", "spn", "". */
export function lookupPhoneClass(label: string): PhoneClass | undefined {
  const phone = canonicalPhone(label);
  return phone === undefined ? undefined : PHONE_TABLE.get(phone);
}

/**
 * A label folded to the 61-, 49- or 40-phone set. 61 keeps the label exactly as written; 49 and 40 give the folded
 * symbol of a label the table knows (in its canonical lower-case form) and keep any other label as written.
 */
export function foldPhone(label: string, set: PhoneSet): string {
  if (set === 61) return label;
  const phone = canonicalPhone(label);
  if (phone === undefined) return label;
  const folding = PHONE_FOLDING.get(phone);
  // vcl, cl and sil are already folded symbols: 49 keeps them, 40 folds vcl and cl to sil.
  const phone49 = folding?.phone49 ?? phone;
  return set === 49 ? phone49 : (folding?.phone40 ?? FOLD_49_TO_40[phone49] ?? phone49);
}

/** The ways phones can be grouped into classes for class x class statistics. */
export const CLASS_SCHEMES = ['manner', 'category', 'place', 'voicing'] as const;
export type ClassScheme = (typeof CLASS_SCHEMES)[number];

/** The class label of a phone label under a scheme; "other" for labels the table lacks. Vowels and silences have no
 * place: under 'place' they are "vowel" and "silence" (closures keep their stop's place, or "closure" when folded). */
export function phoneClassLabel(label: string, scheme: ClassScheme): string {
  const features = lookupPhoneClass(label);
  if (!features) return 'other';
  switch (scheme) {
    case 'category':
      return features.category;
    case 'manner':
      return features.manner;
    case 'place':
      return features.place ?? (features.manner === 'closure' ? 'closure' : features.category);
    case 'voicing':
      return features.voicing ?? 'silence';
  }
}

/** Every class label of a scheme, in display order (the order of first appearance in PHONE_TABLE, then "other"). */
export function classLabels(scheme: ClassScheme): string[] {
  const labels = new Set<string>();
  for (const phone of PHONE_TABLE.keys()) labels.add(phoneClassLabel(phone, scheme));
  return [...labels, 'other'];
}

/**
 * Orders phone labels for display: grouped by class under `scheme` (classes in classLabels order), within a class
 * in table order, then labels the table lacks in code-point order. Equal canonical phones keep code-point order.
 */
export function sortPhonesByClass(labels: Iterable<string>, scheme: ClassScheme): string[] {
  const classOrder = new Map(classLabels(scheme).map((label, i) => [label, i]));
  const tableOrder = new Map([...PHONE_TABLE.keys()].map((phone, i) => [phone, i]));
  const key = (label: string): [number, number] => {
    const phone = canonicalPhone(label);
    return [classOrder.get(phoneClassLabel(label, scheme)) ?? classOrder.size, phone === undefined ? tableOrder.size : tableOrder.get(phone)!];
  };
  return [...new Set(labels)].sort((a, b) => {
    const [ca, ta] = key(a);
    const [cb, tb] = key(b);
    return ca - cb || ta - tb || (a < b ? -1 : a > b ? 1 : 0);
  });
}
