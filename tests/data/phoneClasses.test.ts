/** The project's phone feature table (src/data/phoneClasses.ts), its foldings, and the label lookup. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classLabels,
  foldPhone,
  lookupPhoneClass,
  PHONE_FOLDING,
  PHONE_TABLE,
  phoneClassLabel,
  sortPhonesByClass,
  TIMIT_61,
} from '../../src/data/phoneClasses.ts';
import { parseTextGrid } from '../../src/data/textgrid.ts';

const SAMPLES = new URL('../../demo/public/samples/', import.meta.url);

describe('PHONE_TABLE', () => {
  it('holds the 61 TIMIT phones of the TIMIT documentation, and the folded symbols vcl, cl, sil', () => {
    const timitDoc =
      'b d g p t k dx q bcl dcl gcl pcl tcl kcl jh ch s sh z zh f th v dh m n ng em en eng nx l r w y hh hv el ' +
      'iy ih eh ey ae aa aw ay ah ao oy ow uh uw ux er ax ix axr ax-h pau epi h#';
    expect([...TIMIT_61].sort()).toEqual(timitDoc.split(' ').sort());
    expect(PHONE_TABLE.size).toBe(64);
  });

  it('describes phones as Ladefoged & Johnson do', () => {
    expect(PHONE_TABLE.get('b')).toEqual({ category: 'consonant', manner: 'stop', place: 'bilabial', voicing: 'voiced', height: null, backness: null, rounded: null });
    expect(PHONE_TABLE.get('th')).toMatchObject({ manner: 'fricative', place: 'dental', voicing: 'voiceless' });
    expect(PHONE_TABLE.get('ch')).toMatchObject({ manner: 'affricate', place: 'postalveolar', voicing: 'voiceless' });
    expect(PHONE_TABLE.get('w')).toMatchObject({ manner: 'glide', place: 'labial-velar' });
    expect(PHONE_TABLE.get('iy')).toMatchObject({ category: 'vowel', height: 'high', backness: 'front', rounded: false, place: null });
    expect(PHONE_TABLE.get('uw')).toMatchObject({ height: 'high', backness: 'back', rounded: true });
    expect(PHONE_TABLE.get('kcl')).toMatchObject({ category: 'silence', manner: 'closure', place: 'velar', voicing: 'voiceless' });
    expect(PHONE_TABLE.get('h#')).toMatchObject({ category: 'silence', manner: 'silence', voicing: null });
    // Every vowel has a height, backness and rounding; no consonant has.
    for (const [phone, features] of PHONE_TABLE) {
      expect(features.height !== null, phone).toBe(features.category === 'vowel');
      expect(features.place !== null, phone).toBe(features.category === 'consonant' || (features.manner === 'closure' && !['vcl', 'cl'].includes(phone)));
    }
  });
});

describe('PHONE_FOLDING (Lee & Hon 1989, with q kept)', () => {
  it('folds 61 -> 49 by exactly the merges of Lee & Hon\'s 48-phone training set, q kept', () => {
    const merged = [...PHONE_FOLDING].filter(([phone, fold]) => fold.phone49 !== phone).map(([phone, fold]) => `${phone}>${fold.phone49}`);
    expect(merged.sort()).toEqual(
      ['ux>uw', 'axr>er', 'ax-h>ax', 'em>m', 'nx>n', 'eng>ng', 'hv>hh', 'bcl>vcl', 'dcl>vcl', 'gcl>vcl', 'pcl>cl', 'tcl>cl', 'kcl>cl', 'h#>sil', 'pau>sil'].sort(),
    );
    expect(new Set([...PHONE_FOLDING.values()].map((f) => f.phone49)).size).toBe(49);
  });

  it('folds 49 -> 40 by exactly Lee & Hon\'s 39-phone scoring merges, q kept', () => {
    const merged = new Set([...PHONE_FOLDING.values()].filter((f) => f.phone40 !== f.phone49).map((f) => `${f.phone49}>${f.phone40}`));
    expect([...merged].sort()).toEqual(['ao>aa', 'ix>ih', 'ax>ah', 'el>l', 'en>n', 'zh>sh', 'vcl>sil', 'cl>sil', 'epi>sil'].sort());
    expect(new Set([...PHONE_FOLDING.values()].map((f) => f.phone40)).size).toBe(40);
    expect(PHONE_FOLDING.get('ax-h')).toEqual({ phone49: 'ax', phone40: 'ah' });
    expect(PHONE_FOLDING.get('q')).toEqual({ phone49: 'q', phone40: 'q' });
  });

  it('folds labels as aligners write them; 61 keeps them as written', () => {
    expect(foldPhone('AO1', 61)).toBe('AO1');
    expect(foldPhone('AO1', 49)).toBe('ao');
    expect(foldPhone('AO1', 40)).toBe('aa');
    expect(foldPhone('kcl', 40)).toBe('sil');
    expect(foldPhone('vcl', 49)).toBe('vcl');
    expect(foldPhone('vcl', 40)).toBe('sil');
    expect(foldPhone('sp', 40)).toBe('sp');
  });
});

describe('lookupPhoneClass and class labels', () => {
  it('finds ARPAbet labels with stress digits and upper case', () => {
    expect(lookupPhoneClass('AH0')).toBe(PHONE_TABLE.get('ah'));
    expect(lookupPhoneClass('EY1')).toBe(PHONE_TABLE.get('ey'));
    expect(lookupPhoneClass('TH')).toBe(PHONE_TABLE.get('th'));
    expect(lookupPhoneClass('H#')).toBe(PHONE_TABLE.get('h#'));
    expect(lookupPhoneClass('sp')).toBeUndefined();
  });

  it('classes every phone of the L2-ARCTIC sample except its silence labels', () => {
    const grid = parseTextGrid(new Uint8Array(readFileSync(new URL('arctic/arctic_a0001.TextGrid', SAMPLES))), 'a.TextGrid');
    const phones = grid.tiers.find((tier) => tier.name === 'phones');
    const labels = phones?.kind === 'interval' ? phones.intervals.map((i) => i.text) : [];
    expect(labels.filter((label) => !lookupPhoneClass(label)).sort()).toEqual(['', 'sp', 'sp', 'sp', 'sp']);
  });

  it('groups phones by class under each scheme', () => {
    expect(phoneClassLabel('AA1', 'category')).toBe('vowel');
    expect(phoneClassLabel('sh', 'place')).toBe('postalveolar');
    expect(phoneClassLabel('iy', 'place')).toBe('vowel');
    expect(phoneClassLabel('sp', 'manner')).toBe('other');
    expect(classLabels('category')).toEqual(['consonant', 'vowel', 'silence', 'other']);
    expect(classLabels('voicing')).toEqual(['voiced', 'voiceless', 'silence', 'other']);
    expect(sortPhonesByClass(['sp', 'iy', 'h#', 'b', 'AA1', 'p'], 'category')).toEqual(['b', 'p', 'iy', 'AA1', 'h#', 'sp']);
  });
});
