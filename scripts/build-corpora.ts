/**
 * Rebuild corpora/: monolingual sentences per language from Debian's translated
 * message catalogs (gettext .mo files shipped in Debian packages: GNOME, GIMP, VLC,
 * GnuCash, Inkscape, coreutils, glibc, ...). Real translated text, written by each
 * project's translation teams.
 *
 *   npx tsx scripts/build-corpora.ts [--max 1500] [--out corpora]
 *
 * Needs apt-get and dpkg-deb (Debian) and the network to Debian's mirror. Packages are
 * downloaded (not installed) into a temporary directory. Lines that also occur in the
 * evaluation data (../shared/data: Tatoeba, XQuAD-R) are dropped.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XTREME_TATOEBA } from '../src/io/languages.js';

export const PACKAGES = [
  'libgtk-3-common',
  'gimp',
  'coreutils',
  'gnome-control-center-data',
  'evolution-data-server-common',
  'libglib2.0-data',
  'gnome-shell-common',
  'gedit-common',
  'nautilus-data',
  'totem-common',
  'gnome-software-common',
  'gnucash-common',
  'evince-common',
  'libc-l10n',
  'vlc-l10n',
  'gnome-maps',
  'inkscape',
];

/**
 * Languages the packages above have no catalogs for (jv, sw, tl: the XTREME Tatoeba languages
 * missing otherwise) are filled from these packages, which have; their lines count for those
 * languages only, so the other corpora (and English) are exactly the PACKAGES' ones.
 */
export const FILL_PACKAGES: Record<string, string[]> = {
  jv: [
    'cinnamon-l10n',
    'mate-desktop-common',
    'mate-control-center-common',
    'mate-panel-common',
    'pluma-common',
    'atril-common',
    'engrampa-common',
    'eom-common',
    'marco-common',
    'mate-applets-common',
    'mate-power-manager-common',
    'mate-system-monitor-common',
    'mate-terminal-common',
    'mate-utils-common',
    'mate-media-common',
    'terminator',
    'navit-data',
    // MediaWiki's messages (JSON catalogs, translatewiki.net): the only sizeable Javanese text in Debian
    'mediawiki',
  ],
  sw: [
    'cinnamon-l10n',
    'pidgin-data',
    'tuxpaint-data',
    'minetest-data',
    'libgammu-i18n',
    'sugar-session',
    'libsugarext-data',
    'alacarte',
    'lollypop',
    'terminator',
    'navit-data',
    'mate-menu',
  ],
  tl: [
    'cinnamon-l10n',
    'aptitude-common',
    'debconf-i18n',
    'dpkg',
    'apt',
    'synaptic',
    'tasksel-data',
    'tasksel',
    'gdebi-core',
    'login',
    'mate-control-center-common',
    'software-properties-common',
    'python-apt-common',
    'lightdm',
    'transmission-gtk',
    'onboard-common',
    'rednotebook',
    'tuxpaint-data',
    'tuxmath-data',
  ],
};

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] as string) : dflt;
};
const MAX = Number(opt('max', '1000'));
/** Default: the 36 XTREME Tatoeba languages (those Debian has) and English. */
const LANGS = new Set(opt('langs', [...XTREME_TATOEBA, 'en'].join(',')).split(','));
const OUT = resolve(root, opt('out', 'corpora'));
const SHARED = resolve(root, '..', 'shared', 'data');

/** Parse a gettext .mo file into [msgid, msgstr] pairs (first plural form only). */
export function parseMo(buf: Buffer): [string, string][] {
  const magic = buf.readUInt32LE(0);
  const le = magic === 0x950412de;
  if (!le && buf.readUInt32BE(0) !== 0x950412de) return [];
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const n = u32(8);
  const orig = u32(12);
  const trans = u32(16);
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const ol = u32(orig + 8 * i);
    const oo = u32(orig + 8 * i + 4);
    const tl = u32(trans + 8 * i);
    const to = u32(trans + 8 * i + 4);
    const id = buf.toString('utf8', oo, oo + ol).split('\0')[0] as string;
    const str = buf.toString('utf8', to, to + tl).split('\0')[0] as string;
    if (id === '') continue; // header
    out.push([id.slice(id.lastIndexOf('\u0004') + 1), str]); // drop a msgctxt prefix
  }
  return out;
}

/** Locale directory name -> lsar code, or undefined for variants we skip. */
export function localeToLang(loc: string): string | undefined {
  if (loc.includes('@')) return undefined;
  if (loc === 'zh_CN') return 'zh';
  if (loc === 'zh_TW' || loc === 'zh_HK') return undefined;
  if (loc === 'pt_BR') return undefined; // European Portuguese is "pt"
  if (/^[a-z]{2,3}$/.test(loc)) return loc;
  return undefined;
}

const NO_SPACE_SCRIPTS = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f\u1780-\u17ff]/;

/** Clean one catalog string into zero or more sentence lines. */
export function cleanLines(s: string): string[] {
  if (/%[-+ #0-9.]*[a-zA-Z]|%\d+\$|\{[A-Za-z0-9_]*\}|\$\{|\$[A-Z]|<[a-z/][^>]*>|&[a-z]+;|https?:\/\/|\\[a-z]/.test(s)) return [];
  return s
    .split(/\n+/)
    .map((l) =>
      l
        .replace(/[_&](?=\p{L})/gu, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((l) => {
      if (!/\p{L}/u.test(l)) return false;
      if (/^[|*•\-#]|\. \. |\.\.\.\.|\t/.test(l)) return false; // help-screen tables, leaders
      if (NO_SPACE_SCRIPTS.test(l)) return [...l].length >= 8;
      return l.length >= 20 && l.split(' ').length >= 4;
    });
}

function evaluationLines(): Set<string> {
  const seen = new Set<string>();
  const add = (t: string) => {
    const k = t.trim();
    if (k) seen.add(k);
  };
  const tat = join(SHARED, 'tatoeba');
  if (existsSync(tat))
    for (const f of readdirSync(tat)) if (f.startsWith('tatoeba.')) readFileSync(join(tat, f), 'utf8').split('\n').forEach(add);
  const xq = join(SHARED, 'xquad-r');
  if (existsSync(xq)) {
    for (const f of readdirSync(xq).filter((n) => n.endsWith('.json'))) {
      const j = JSON.parse(readFileSync(join(xq, f), 'utf8')) as {
        data: { paragraphs: { context: string; sentences: string[]; qas: { question: string }[] }[] }[];
      };
      for (const a of j.data)
        for (const p of a.paragraphs) {
          add(p.context);
          p.sentences.forEach(add);
          p.qas.forEach((q) => add(q.question));
        }
    }
  }
  return seen;
}

function findMo(dir: string, out: { loc: string; file: string }[] = []): { loc: string; file: string }[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) findMo(p, out);
    else if (name.endsWith('.mo')) {
      const m = /\/locale\/([^/]+)\/LC_MESSAGES\//.exec(p);
      if (m) out.push({ loc: m[1] as string, file: p });
    }
  }
  return out;
}

/**
 * MediaWiki-style JSON catalogs (`.../i18n/[...]/<lang>.json`: message key -> text, `@metadata`
 * apart), as filler packages ship them (MediaWiki and its extensions).
 */
function findJsonCatalogs(dir: string, langs: Set<string>, out: { loc: string; file: string }[] = []): { loc: string; file: string }[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) findJsonCatalogs(p, langs, out);
    else if (name.endsWith('.json') && /\/i18n\//.test(p) && langs.has(name.slice(0, -5))) out.push({ loc: name.slice(0, -5), file: p });
  }
  return out;
}

/** The messages of a JSON catalog, without wiki markup or parameters ($1, {{PLURAL:...}}, [[links]], ''bold''). */
export function jsonMessages(text: string): string[] {
  const j = JSON.parse(text) as Record<string, unknown>;
  return Object.entries(j)
    .filter(([k, v]) => !k.startsWith('@') && typeof v === 'string')
    .map(([, v]) => v as string)
    .filter((v) => !/\$\d|\{\{|\}\}|\[\[|\]\]|\[https?|''|__|~~~/.test(v));
}

function licenceOf(extract: string, pkg: string): string {
  const f = join(extract, 'usr', 'share', 'doc', pkg, 'copyright');
  if (!existsSync(f)) return 'see the package copyright file';
  const text = readFileSync(f, 'utf8');
  const lic = [...text.matchAll(/^License: *(.+)$/gm)].map((m) => (m[1] as string).trim());
  return (
    [...new Set(lic)].slice(0, 3).join(', ') ||
    text
      .split('\n')
      .find((l) => /GPL|license/i.test(l))
      ?.trim() ||
    'see the package copyright file'
  );
}

function main(): void {
  const tmp = mkdtempSync(join(tmpdir(), 'lsar-corpora-'));
  try {
    const fill = [...new Set(Object.entries(FILL_PACKAGES).flatMap(([l, p]) => (LANGS.has(l) ? p : [])))].filter(
      (p) => !PACKAGES.includes(p),
    );
    execFileSync('apt-get', ['download', ...PACKAGES, ...fill], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    const versions: Record<string, { version: string; licence: string }> = {};
    const byLang = new Map<string, Map<string, string>>(); // lang -> line -> package
    const english = new Map<string, string>();
    for (const deb of readdirSync(tmp)
      .filter((f) => f.endsWith('.deb'))
      .sort()) {
      const pkg = deb.split('_')[0] as string;
      const filler = !PACKAGES.includes(pkg);
      const x = join(tmp, `x-${pkg}`);
      mkdirSync(x);
      execFileSync('dpkg-deb', ['-x', join(tmp, deb), x]);
      versions[pkg] = { version: decodeURIComponent(deb.split('_')[1] as string), licence: licenceOf(x, pkg) };
      const localeDir = join(x, 'usr', 'share', 'locale');
      for (const { loc, file } of existsSync(localeDir) ? findMo(localeDir) : []) {
        const lang = localeToLang(loc);
        if (!lang || !LANGS.has(lang)) continue;
        if (filler && !FILL_PACKAGES[lang]?.includes(pkg)) continue;
        const map = byLang.get(lang) ?? new Map<string, string>();
        byLang.set(lang, map);
        for (const [id, str] of parseMo(readFileSync(file))) {
          if (!str || str === id) continue; // untranslated
          for (const l of cleanLines(str)) if (!map.has(l)) map.set(l, pkg);
          if (!filler) for (const l of cleanLines(id)) if (!english.has(l)) english.set(l, pkg);
        }
      }
      if (filler) {
        const fillLangs = new Set(Object.keys(FILL_PACKAGES).filter((l) => LANGS.has(l) && FILL_PACKAGES[l]?.includes(pkg)));
        for (const { loc: lang, file } of fillLangs.size > 0 ? findJsonCatalogs(x, fillLangs) : []) {
          const map = byLang.get(lang) ?? new Map<string, string>();
          byLang.set(lang, map);
          for (const str of jsonMessages(readFileSync(file, 'utf8'))) for (const l of cleanLines(str)) if (!map.has(l)) map.set(l, pkg);
        }
      }
    }
    const evalLines = evaluationLines();
    mkdirSync(OUT, { recursive: true });
    const rows: string[] = [];
    if (LANGS.has('en')) byLang.set('en', english);
    else byLang.delete('en');
    for (const lang of [...byLang.keys()].sort()) {
      const lines = [...(byLang.get(lang) as Map<string, string>).entries()].filter(([l]) => !evalLines.has(l));
      // Deterministic sample: order by a hash of the line.
      lines.sort((a, b) => (createHash('sha1').update(a[0]).digest('hex') < createHash('sha1').update(b[0]).digest('hex') ? -1 : 1));
      const keep = lines.slice(0, MAX);
      if (keep.length < 300) {
        console.log(`${lang}: ${keep.length} usable lines (fewer than 300): left out`);
        continue;
      }
      writeFileSync(join(OUT, `${lang}.txt`), keep.map(([l]) => l).join('\n') + '\n');
      const pkgs = [...new Set(keep.map(([, p]) => p))].sort();
      rows.push(`| ${lang} | ${keep.length} | ${lines.length} | ${pkgs.join(', ')} |`);
    }
    const readme = [
      '# Bundled monolingual corpora',
      '',
      'One `<lang>.txt` per language, one sentence (or sentence-like UI message) per line, UTF-8,',
      'deduplicated, in a fixed pseudo-random order (by SHA-1 of the line). Rebuilt by',
      "`npx tsx scripts/build-corpora.ts` (needs apt-get, dpkg-deb and Debian's mirror).",
      '',
      '**Source.** Translated message catalogs (gettext `.mo` files under `usr/share/locale/<lang>/`;',
      "for jv also MediaWiki's JSON catalogs, `i18n/jv.json`, without messages that carry wiki markup or",
      'parameters) in Debian 12 (bookworm) packages, i.e. the user-interface text of these free-software projects',
      'as written by their translation teams. `en.txt` holds English source strings (msgids) of the',
      'same catalogs. Strings with placeholders, markup or URLs are dropped; accelerator marks are',
      'removed; a line needs 4+ words and 20+ characters (8+ characters in scripts written without',
      'spaces). Untranslated strings (msgstr = msgid) are skipped. Lines that also occur in the',
      'evaluation data (../shared/data: Tatoeba, XQuAD-R) are removed. Locale variants (pt_BR,',
      'zh_TW, sr@latin, ...) are skipped; zh is zh_CN.',
      '',
      '**Licences.** Each line keeps the licence of the package it comes from (all free software,',
      'mostly GPL/LGPL; translations are distributed under the same terms as their program):',
      '',
      '| package | version | licence (from its copyright file) |',
      '| --- | --- | --- |',
      ...Object.entries(versions)
        .sort()
        .map(([p, v]) => `| ${p} | ${v.version} | ${v.licence} |`),
      '',
      '## Files',
      '',
      `Languages: the XTREME Tatoeba languages that Debian's catalogs cover, and English. At most ${MAX} lines per language; languages with fewer than 300 usable lines are left out. jv, sw and tl have no catalogs in the main packages: theirs come from other Debian packages that have (${Object.entries(
        FILL_PACKAGES,
      )
        .map(([l, p]) => `${l}: ${p.join(', ')}`)
        .join('; ')}), and only for them.`,
      '',
      '| lang | lines | available | packages |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n');
    writeFileSync(join(OUT, 'README.md'), readme);
    console.log(`wrote ${rows.length} languages to ${OUT}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
