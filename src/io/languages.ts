/**
 * ISO 639-3 codes of LASER's Tatoeba files -> the codes lsar uses for corpora and
 * embeddings (ISO 639-1 where one exists, as XTREME does; the 639-3 code otherwise).
 */
export const TATOEBA_TO_LSAR: Record<string, string> = {
  afr: 'af', amh: 'am', ara: 'ar', aze: 'az', bel: 'be', ben: 'bn', bos: 'bs', bre: 'br', bul: 'bg',
  cat: 'ca', ces: 'cs', cmn: 'zh', cor: 'kw', cym: 'cy', dan: 'da', deu: 'de', ell: 'el', epo: 'eo',
  est: 'et', eus: 'eu', fao: 'fo', fin: 'fi', fra: 'fr', fry: 'fy', gla: 'gd', gle: 'ga', glg: 'gl',
  heb: 'he', hin: 'hi', hrv: 'hr', hun: 'hu', hye: 'hy', ido: 'io', ile: 'ie', ina: 'ia', ind: 'id',
  isl: 'is', ita: 'it', jav: 'jv', jpn: 'ja', kat: 'ka', kaz: 'kk', khm: 'km', kor: 'ko', kur: 'ku',
  lat: 'la', lit: 'lt', lvs: 'lv', mal: 'ml', mar: 'mr', mkd: 'mk', mon: 'mn', nld: 'nl', nno: 'nn',
  nob: 'nb', oci: 'oc', pes: 'fa', pol: 'pl', por: 'pt', ron: 'ro', rus: 'ru', slk: 'sk', slv: 'sl',
  spa: 'es', sqi: 'sq', srp: 'sr', swe: 'sv', swh: 'sw', tam: 'ta', tat: 'tt', tel: 'te', tgl: 'tl',
  tha: 'th', tuk: 'tk', tur: 'tr', uig: 'ug', ukr: 'uk', urd: 'ur', uzb: 'uz', vie: 'vi', xho: 'xh',
  yid: 'yi', zsm: 'ms', eng: 'en',
};

/** The 36 languages of XTREME's Tatoeba task (lsar codes). */
export const XTREME_TATOEBA = [
  'af', 'ar', 'bg', 'bn', 'de', 'el', 'es', 'et', 'eu', 'fa', 'fi', 'fr', 'he', 'hi', 'hu', 'id', 'it', 'ja',
  'jv', 'ka', 'kk', 'ko', 'ml', 'mr', 'nl', 'pt', 'ru', 'sw', 'ta', 'te', 'th', 'tl', 'tr', 'ur', 'vi', 'zh',
];

export function tatoebaToLsar(code3: string): string {
  return TATOEBA_TO_LSAR[code3] ?? code3;
}

export function lsarToTatoeba(lang: string): string | undefined {
  if (TATOEBA_TO_LSAR[lang] !== undefined) return lang;
  return Object.keys(TATOEBA_TO_LSAR).find((k) => TATOEBA_TO_LSAR[k] === lang);
}
