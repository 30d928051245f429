import { createRequire } from 'node:module';
import { createError, opt } from '../core/errors.js';

/**
 * ISO 639-3 codes of LASER's Tatoeba files -> the codes lsar uses for corpora and
 * embeddings (ISO 639-1 where one exists, as XTREME does; the 639-3 code otherwise).
 */
export const TATOEBA_TO_LSAR: Record<string, string> = {
  afr: 'af',
  amh: 'am',
  ara: 'ar',
  aze: 'az',
  bel: 'be',
  ben: 'bn',
  bos: 'bs',
  bre: 'br',
  bul: 'bg',
  cat: 'ca',
  ces: 'cs',
  cmn: 'zh',
  cor: 'kw',
  cym: 'cy',
  dan: 'da',
  deu: 'de',
  ell: 'el',
  epo: 'eo',
  est: 'et',
  eus: 'eu',
  fao: 'fo',
  fin: 'fi',
  fra: 'fr',
  fry: 'fy',
  gla: 'gd',
  gle: 'ga',
  glg: 'gl',
  heb: 'he',
  hin: 'hi',
  hrv: 'hr',
  hun: 'hu',
  hye: 'hy',
  ido: 'io',
  ile: 'ie',
  ina: 'ia',
  ind: 'id',
  isl: 'is',
  ita: 'it',
  jav: 'jv',
  jpn: 'ja',
  kat: 'ka',
  kaz: 'kk',
  khm: 'km',
  kor: 'ko',
  kur: 'ku',
  lat: 'la',
  lit: 'lt',
  lvs: 'lv',
  mal: 'ml',
  mar: 'mr',
  mkd: 'mk',
  mon: 'mn',
  nld: 'nl',
  nno: 'nn',
  nob: 'nb',
  oci: 'oc',
  pes: 'fa',
  pol: 'pl',
  por: 'pt',
  ron: 'ro',
  rus: 'ru',
  slk: 'sk',
  slv: 'sl',
  spa: 'es',
  sqi: 'sq',
  srp: 'sr',
  swe: 'sv',
  swh: 'sw',
  tam: 'ta',
  tat: 'tt',
  tel: 'te',
  tgl: 'tl',
  tha: 'th',
  tuk: 'tk',
  tur: 'tr',
  uig: 'ug',
  ukr: 'uk',
  urd: 'ur',
  uzb: 'uz',
  vie: 'vi',
  xho: 'xh',
  yid: 'yi',
  zsm: 'ms',
  eng: 'en',
};

/** The 36 languages of XTREME's Tatoeba task (lsar codes). */
export const XTREME_TATOEBA = [
  'af',
  'ar',
  'bg',
  'bn',
  'de',
  'el',
  'es',
  'et',
  'eu',
  'fa',
  'fi',
  'fr',
  'he',
  'hi',
  'hu',
  'id',
  'it',
  'ja',
  'jv',
  'ka',
  'kk',
  'ko',
  'ml',
  'mr',
  'nl',
  'pt',
  'ru',
  'sw',
  'ta',
  'te',
  'th',
  'tl',
  'tr',
  'ur',
  'vi',
  'zh',
];

export function tatoebaToLsar(code3: string): string {
  return TATOEBA_TO_LSAR[code3] ?? code3;
}

export function lsarToTatoeba(lang: string): string | undefined {
  if (TATOEBA_TO_LSAR[lang] !== undefined) return lang;
  return Object.keys(TATOEBA_TO_LSAR).find((k) => TATOEBA_TO_LSAR[k] === lang);
}

interface IsoTables {
  /** 639-3, 639-2/B and 639-2/T codes -> 639-1 code. */
  to1: Map<string, string>;
  /** Every 639-1 and 639-3 code. */
  known: Set<string>;
}
let iso: IsoTables | undefined;

/** ISO 639 tables from the iso-639-3 package (loaded on first use). */
function isoTables(): IsoTables {
  if (!iso) {
    const m = createRequire(import.meta.url)('iso-639-3') as typeof import('iso-639-3');
    const to1 = new Map<string, string>();
    const known = new Set<string>();
    for (const l of m.iso6393) {
      known.add(l.iso6393);
      if (l.iso6391) {
        known.add(l.iso6391);
        to1.set(l.iso6393, l.iso6391);
        if (l.iso6392B) to1.set(l.iso6392B, l.iso6391);
        if (l.iso6392T) to1.set(l.iso6392T, l.iso6391);
      }
    }
    // Individual languages that lsar (as XTREME's Tatoeba) files under their macrolanguage: cmn -> zh, pes -> fa, ...
    for (const [c3, c1] of Object.entries(TATOEBA_TO_LSAR)) if (c1.length === 2) to1.set(c3, c1);
    iso = { to1, known };
  }
  return iso;
}

/** A label lsar accepts: letters, digits, "-" and "_" (no dots, no spaces). */
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * The canonical form of a language label: ISO 639-1 where the language has one (fra, fre ->
 * fr; deu, ger -> de; cmn -> zh), the 639-3 code otherwise, a script/region subtag kept
 * (pt_BR -> pt-BR). `known` is false for labels that are no ISO 639 code (a user's own
 * "x-legal" corpus): they are kept as they are. Throws for labels with other characters.
 */
export function canonicalLanguage(label: string, where: string): { lang: string; known: boolean } {
  if (!LABEL_RE.test(label)) {
    throw createError(
      'BAD_LANGUAGE',
      `${where}: "${label}" is not a language code: expected an ISO 639-1 or 639-3 code such as "de" or "deu" (or a label of letters, digits, "-" and "_")`,
    );
  }
  const m = /^([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))?$/.exec(label);
  if (!m) return { lang: label, known: false };
  const { to1, known } = isoTables();
  const base = (m[1] as string).toLowerCase();
  if (!known.has(base) && !to1.has(base)) return { lang: label, known: false };
  return { lang: (to1.get(base) ?? base) + (m[2] ? `-${m[2]}` : ''), known: true };
}

/**
 * Language options in the form fitted projections record them (deu, DE -> de; pt_BR -> pt-BR),
 * as fit canonicalises file names: `keys` of `o` that are set are replaced by their canonical form.
 */
export function canonicalLanguageOptions<T extends object>(o: T, keys: (keyof T & string)[]): T {
  const out = { ...o } as Record<string, unknown>;
  for (const k of keys) {
    const v = out[k];
    if (typeof v === 'string' && v !== '') out[k] = canonicalLanguage(v, opt(k)).lang;
  }
  return out as T;
}
