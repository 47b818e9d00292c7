/** STEVE's phone tables (copied from its resources/ into demo/public/samples/) and the label lookup. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lookupPhoneClass, parsePhoneClasses, parsePhoneFolding } from '../../src/data/phoneClasses.ts';
import { parseTextGrid } from '../../src/data/textgrid.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';

const SAMPLES = new URL('../../demo/public/samples/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, SAMPLES), 'utf8');
const classes = parsePhoneClasses(read('phonemapsat.csv'), 'phonemapsat.csv');
const folding = parsePhoneFolding(read('phonemapsat_60_49_40.csv'), 'phonemapsat_60_49_40.csv');

describe(parsePhoneClasses.name, () => {
  it('reads the 64 rows of phonemapsat.csv (BOM, CRLF, NAN)', () => {
    expect(read('phonemapsat.csv').charCodeAt(0)).toBe(0xfeff);
    expect(classes.size).toBe(64);
    expect(classes.get('b')).toEqual({
      category: 'con',
      placeOfArticulation: 0,
      mannerOfArticulation: 0,
      voicing: 1,
      backness: null,
      height: null,
      rounding: null,
    });
    // "iy,vow,NAN,NAN,NAN,0,0,0" and "aw,vow,NAN,NAN,NAN,0,6,1": back, height, rounding in header order.
    expect(classes.get('iy')).toMatchObject({ category: 'vow', placeOfArticulation: null, backness: 0, height: 0, rounding: 0 });
    expect(classes.get('aw')).toMatchObject({ backness: 0, height: 6, rounding: 1 });
    expect(classes.get('h#')).toEqual({
      category: 'sil',
      placeOfArticulation: null,
      mannerOfArticulation: null,
      voicing: null,
      backness: null,
      height: null,
      rounding: null,
    });
  });

  it('names the line of a bad row', () => {
    const header = 'phone,cat,poa,moa,voicing,back,height,rounding\n';
    expect(inputErrorOf(() => parsePhoneClasses(`${header}b,con,0,0,1,NAN,NAN,NAN\nx,nasal,0,0,1,NAN,NAN,NAN\n`, 'p.csv'))).toMatchObject({
      kind: 'parse',
      line: 3,
      reason: 'category "nasal" is not one of con, vow, sil',
    });
    expect(inputErrorOf(() => parsePhoneClasses(`${header}b,con,zero,0,1,NAN,NAN,NAN\n`, 'p.csv')).reason).toBe('poa "zero" is neither a number nor NAN');
    expect(inputErrorOf(() => parsePhoneClasses(`${header}b,con,0,0\n`, 'p.csv')).reason).toBe('expected 8 comma-separated values, found 4');
    expect(inputErrorOf(() => parsePhoneClasses(`${header}b,con,0,0,1,NAN,NAN,NAN\nb,con,0,0,1,NAN,NAN,NAN\n`, 'p.csv')).reason).toBe(
      'phone "b" is listed twice',
    );
    expect(inputErrorOf(() => parsePhoneClasses('phone,cat\nb,con\n', 'p.csv'))).toMatchObject({ line: 1 });
    expect(inputErrorOf(() => parsePhoneClasses('', 'p.csv')).kind).toBe('parse');
  });
});

describe(lookupPhoneClass.name, () => {
  it('finds ARPAbet labels with stress digits and upper case', () => {
    expect(lookupPhoneClass(classes, 'AH0')).toBe(classes.get('ah'));
    expect(lookupPhoneClass(classes, 'EY1')).toBe(classes.get('ey'));
    expect(lookupPhoneClass(classes, 'TH')).toBe(classes.get('th'));
    expect(lookupPhoneClass(classes, 'H#')).toBe(classes.get('h#'));
    expect(lookupPhoneClass(classes, '1')).toBe(classes.get('1'));
    expect(lookupPhoneClass(classes, 'sp')).toBeUndefined();
  });

  it('classes every phone of the L2-ARCTIC sample except its silence labels', () => {
    const grid = parseTextGrid(new Uint8Array(readFileSync(new URL('arctic/arctic_a0001.TextGrid', SAMPLES))), 'a.TextGrid');
    const phones = grid.tiers.find((tier) => tier.name === 'phones');
    const labels = phones?.kind === 'interval' ? phones.intervals.map((i) => i.text) : [];
    expect(labels.filter((label) => !lookupPhoneClass(classes, label)).sort()).toEqual(['', 'sil', 'sp', 'sp', 'sp', 'sp']);
  });
});

describe(parsePhoneFolding.name, () => {
  it('folds the 61 TIMIT phones to 49 and 40', () => {
    expect(folding.size).toBe(61);
    expect(folding.get('ao')).toEqual({ phone49: 'ao', phone40: 'aa', category: 'vow' });
    expect(folding.get('zh')).toMatchObject({ phone49: 'zh', phone40: 'sh' });
    expect(folding.get('kcl')).toEqual({ phone49: 'cl', phone40: 'sil', category: 'sil' });
    expect(new Set([...folding.values()].map((f) => f.phone49)).size).toBe(49);
    expect(new Set([...folding.values()].map((f) => f.phone40)).size).toBe(40);
  });

  it('agrees with phonemapsat.csv on every 61-set phone category', () => {
    for (const [phone, fold] of folding) expect(classes.get(phone)?.category, phone).toBe(fold.category);
  });
});
