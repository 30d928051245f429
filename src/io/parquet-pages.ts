/**
 * Parquet pages, below the reader: what parquet-wasm neither checks nor writes.
 *
 * - `verifyPages`: before a row group is decoded, each page of the column chunks read is
 *   checked against its header: its CRC32 (when the writer stored one), its size within the
 *   column chunk, and the values of its data pages against the column chunk's count. A page
 *   whose bytes were overwritten is refused instead of decoded into wrong values.
 * - `addPageChecksums`: lsar's own Parquet output gets a CRC32 in every page header (the
 *   file is rewritten: the headers grow, and every offset after them moves).
 *
 * Field ids are those of parquet.thrift (apache/parquet-format).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { createError } from '../core/errors.js';
import { decodeStruct, encodeStruct, field, list, num, setNum, sub, T, ThriftEnd, type TStruct } from './thrift-compact.js';

const MAGIC = 'PAR1';
/** FileMetaData.row_groups; RowGroup.columns, file_offset, total_compressed_size. */
const FMD_ROW_GROUPS = 4;
const RG_COLUMNS = 1;
const RG_FILE_OFFSET = 5;
const RG_TOTAL_COMPRESSED = 6;
/** ColumnChunk fields. */
const CC_FILE_OFFSET = 2;
const CC_META = 3;
const CC_OFFSET_INDEX_OFFSET = 4;
const CC_OFFSET_INDEX_LENGTH = 5;
const CC_COLUMN_INDEX_OFFSET = 6;
const CC_COLUMN_INDEX_LENGTH = 7;
const CC_CRYPTO = 8;
/** ColumnMetaData fields. */
const CM_PATH = 3;
const CM_NUM_VALUES = 5;
const CM_TOTAL_COMPRESSED = 7;
const CM_DATA_PAGE_OFFSET = 9;
const CM_INDEX_PAGE_OFFSET = 10;
const CM_DICTIONARY_PAGE_OFFSET = 11;
const CM_BLOOM_OFFSET = 14;
/** PageHeader fields and page types. */
const PH_TYPE = 1;
const PH_COMPRESSED_SIZE = 3;
const PH_CRC = 4;
const PH_DATA = 5;
const PH_DATA_V2 = 8;
const DATA_PAGE = 0;
const DATA_PAGE_V2 = 3;
/** OffsetIndex.page_locations; PageLocation.offset, compressed_page_size (header included). */
const OI_LOCATIONS = 1;
const PL_OFFSET = 1;
const PL_SIZE = 2;

interface Footer {
  meta: TStruct;
  /** Byte offset of the footer (the FileMetaData). */
  start: number;
}

function readAt(fd: number, pos: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let o = 0;
  while (o < length) {
    const n = readSync(fd, buf, o, length - o, pos + o);
    if (n === 0) break;
    o += n;
  }
  return o === length ? buf : buf.subarray(0, o);
}

function readFooter(fd: number, size: number, path: string): Footer {
  const bad = (why: string) => createError('INPUT', `${path}: not a valid Parquet file (${why})`);
  if (size < 12) throw bad('shorter than its magic bytes and footer length');
  const tail = readAt(fd, size - 8, 8);
  const magic = new TextDecoder().decode(tail.subarray(4));
  if (magic === 'PARE') throw createError('INPUT', `${path}: an encrypted Parquet file, which lsar cannot read`);
  if (magic !== MAGIC || new TextDecoder().decode(readAt(fd, 0, 4)) !== MAGIC) throw bad('no PAR1 magic bytes');
  const length = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  const start = size - 8 - length;
  if (start < 4) throw bad(`its footer length ${length} is larger than the file`);
  try {
    return { meta: decodeStruct(readAt(fd, start, length)).struct, start };
  } catch (e) {
    throw bad(`its footer cannot be decoded: ${(e as Error).message}`);
  }
}

interface Chunk {
  group: number;
  column: string;
  chunk: TStruct;
  meta: TStruct;
  start: number;
  length: number;
  values: number;
}

function chunksOf(footer: Footer, path: string): Chunk[] {
  const out: Chunk[] = [];
  list(footer.meta, FMD_ROW_GROUPS).forEach((rg, group) => {
    for (const c of list(rg as TStruct, RG_COLUMNS)) {
      const chunk = c as TStruct;
      const meta = sub(chunk, CC_META);
      if (!meta) throw createError('INPUT', `${path}: row group ${group}: a column chunk without metadata (encrypted or external?)`);
      const column = list(meta, CM_PATH)
        .map((p) => new TextDecoder().decode(p as Uint8Array))
        .join('.');
      const dict = num(meta, CM_DICTIONARY_PAGE_OFFSET);
      const data = num(meta, CM_DATA_PAGE_OFFSET) ?? 0;
      const start = dict !== undefined && dict > 0 && dict < data ? dict : data;
      out.push({ group, column, chunk, meta, start, length: num(meta, CM_TOTAL_COMPRESSED) ?? 0, values: num(meta, CM_NUM_VALUES) ?? 0 });
    }
  });
  return out;
}

/** The page header at `pos` (not past `end`) and its length in bytes. */
function pageHeader(fd: number, pos: number, end: number): { header: TStruct; length: number } {
  // headers are small, but statistics can make them long: read more until one decodes
  for (let window = 256; ; window *= 4) {
    const want = Math.min(window, end - pos);
    const bytes = readAt(fd, pos, want);
    try {
      const { struct, length } = decodeStruct(bytes);
      return { header: struct, length };
    } catch (e) {
      if (!(e instanceof ThriftEnd) || want === end - pos) throw e;
    }
  }
}

interface Page {
  offset: number;
  headerLength: number;
  header: TStruct;
  size: number;
}

/** The pages of a column chunk in order, their sizes checked to stay within it. */
function* pagesOf(fd: number, c: Chunk, where: string): Generator<Page> {
  const end = c.start + c.length;
  let pos = c.start;
  for (let k = 0; pos < end; k++) {
    let h: { header: TStruct; length: number };
    try {
      h = pageHeader(fd, pos, end);
    } catch (e) {
      throw createError('INPUT', `${where}, page ${k}: its header cannot be read (${(e as Error).message}): the file is corrupt`);
    }
    const size = num(h.header, PH_COMPRESSED_SIZE);
    if (size === undefined || size < 0 || pos + h.length + size > end) {
      throw createError(
        'INPUT',
        `${where}, page ${k}: its header gives ${size} bytes, past the end of the column chunk (byte ${end}): the file is corrupt`,
      );
    }
    yield { offset: pos, headerLength: h.length, header: h.header, size };
    pos += h.length + size;
  }
}

export interface PageCheck {
  pages: number;
  /** Pages whose CRC32 was stored, and checked. */
  checksums: number;
}

/** A Parquet file's pages, checked a row group at a time (before each is decoded). */
export class PageVerifier {
  private readonly chunks: Chunk[];
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    this.chunks = chunksOf(readFooter(fd, fstatSync(fd).size, path), path);
  }

  static open(path: string): PageVerifier {
    const fd = openSync(path, 'r');
    try {
      return new PageVerifier(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /**
   * Check every page of the column chunks of row group `group` (all when undefined) for
   * `columns` (top-level names; all when undefined): CRC32 when stored, sizes, value counts.
   * Throws naming the file, row group, column and page.
   */
  check(group?: number, columns?: string[]): PageCheck {
    const result: PageCheck = { pages: 0, checksums: 0 };
    for (const c of this.chunks) {
      if (group !== undefined && c.group !== group) continue;
      if (columns && !columns.includes(c.column.split('.')[0] as string)) continue;
      checkChunk(this.fd, c, `${this.path}: row group ${c.group}, column ${c.column}`, result);
    }
    return result;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Check the pages of every row group and column of a file (see PageVerifier.check). */
export function verifyPages(path: string): PageCheck {
  const v = PageVerifier.open(path);
  try {
    return v.check();
  } finally {
    v.close();
  }
}

function checkChunk(fd: number, c: Chunk, where: string, result: PageCheck): void {
  let values = 0;
  let k = 0;
  for (const p of pagesOf(fd, c, where)) {
    result.pages++;
    const stored = num(p.header, PH_CRC);
    if (stored !== undefined) {
      if (crc32(readAt(fd, p.offset + p.headerLength, p.size)) >>> 0 !== stored >>> 0) {
        throw createError('INPUT', `${where}, page ${k}: its bytes do not match the CRC32 stored in its header: the file is corrupt`);
      }
      result.checksums++;
    }
    const type = num(p.header, PH_TYPE);
    const counts = type === DATA_PAGE ? sub(p.header, PH_DATA) : type === DATA_PAGE_V2 ? sub(p.header, PH_DATA_V2) : undefined;
    if (counts) values += num(counts, 1) ?? 0;
    k++;
  }
  if (values !== c.values) {
    throw createError('INPUT', `${where}: its pages hold ${values} values, its metadata says ${c.values}: the file is corrupt`);
  }
}

/**
 * Copy the Parquet file `src` to `dst` with a CRC32 in every page header (a new footer and page
 * index with the moved offsets). Returns false, writing nothing, for a layout it does not
 * rewrite (bloom filters, encryption, bytes it cannot place).
 */
export function addPageChecksums(src: string, dst: string): boolean {
  const fd = openSync(src, 'r');
  try {
    const footer = readFooter(fd, fstatSync(fd).size, src);
    const chunks = chunksOf(footer, src).sort((a, b) => a.start - b.start);
    if (chunks.some((c) => field(c.chunk, CC_CRYPTO) || field(c.meta, CM_BLOOM_OFFSET) || field(c.meta, CM_INDEX_PAGE_OFFSET)))
      return false;
    // the indexes after the row groups: column indexes (copied) and offset indexes (offsets moved)
    const indexes: { offset: number; length: number; chunk: Chunk; kind: 'column' | 'offset' }[] = [];
    for (const c of chunks) {
      const co = num(c.chunk, CC_COLUMN_INDEX_OFFSET);
      const cl = num(c.chunk, CC_COLUMN_INDEX_LENGTH);
      const oo = num(c.chunk, CC_OFFSET_INDEX_OFFSET);
      const ol = num(c.chunk, CC_OFFSET_INDEX_LENGTH);
      if (co !== undefined && cl !== undefined) indexes.push({ offset: co, length: cl, chunk: c, kind: 'column' });
      if (oo !== undefined && ol !== undefined) indexes.push({ offset: oo, length: ol, chunk: c, kind: 'offset' });
    }
    indexes.sort((a, b) => a.offset - b.offset);
    // every byte between the magic and the footer must belong to a chunk or an index
    let expect = 4;
    for (const r of [...chunks.map((c) => ({ offset: c.start, length: c.length })), ...indexes]) {
      if (r.offset !== expect) return false;
      expect = r.offset + r.length;
    }
    if (expect !== footer.start) return false;

    const out = openSync(dst, 'w');
    try {
      let pos = 0;
      const write = (b: Uint8Array) => {
        let o = 0;
        while (o < b.length) o += writeSync(out, b, o, b.length - o, pos + o);
        pos += b.length;
      };
      write(new TextEncoder().encode(MAGIC));
      /** Old page offset -> its new offset and how much its header grew. */
      const moved = new Map<number, { offset: number; grew: number }>();
      const newStart = new Map<Chunk, number>();
      for (const c of chunks) {
        const where = `${src}: row group ${c.group}, column ${c.column}`;
        newStart.set(c, pos);
        for (const p of pagesOf(fd, c, where)) {
          const payload = readAt(fd, p.offset + p.headerLength, p.size);
          setNum(p.header, PH_CRC, T.I32, crc32(payload) | 0);
          const header = encodeStruct(p.header);
          moved.set(p.offset, { offset: pos, grew: header.length - p.headerLength });
          write(header);
          write(payload);
        }
        const length = pos - (newStart.get(c) as number);
        const at = (old: number | undefined) => (old === undefined ? undefined : moved.get(old)?.offset);
        const data = at(num(c.meta, CM_DATA_PAGE_OFFSET));
        if (data === undefined) throw new Error(`internal: ${where}: its first data page was not found`);
        setNum(c.meta, CM_DATA_PAGE_OFFSET, T.I64, data);
        const dict = num(c.meta, CM_DICTIONARY_PAGE_OFFSET);
        if (dict !== undefined) setNum(c.meta, CM_DICTIONARY_PAGE_OFFSET, T.I64, at(dict) ?? dict);
        setNum(c.meta, CM_TOTAL_COMPRESSED, T.I64, length);
        // deprecated: 0 (parquet-rs), the chunk's start, or its end (where old writers put the metadata)
        const fileOffset = num(c.chunk, CC_FILE_OFFSET);
        const begin = newStart.get(c) as number;
        if (fileOffset === c.start) setNum(c.chunk, CC_FILE_OFFSET, T.I64, begin);
        else if (fileOffset === c.start + c.length) setNum(c.chunk, CC_FILE_OFFSET, T.I64, begin + length);
        c.length = length;
      }
      for (const ix of indexes) {
        const bytes = readAt(fd, ix.offset, ix.length);
        let body = bytes;
        if (ix.kind === 'offset') {
          const oi = decodeStruct(bytes).struct;
          for (const l of list(oi, OI_LOCATIONS)) {
            const loc = l as TStruct;
            const m = moved.get(num(loc, PL_OFFSET) ?? -1);
            if (!m) throw new Error(`internal: ${src}: an offset index names a page that is not there`);
            setNum(loc, PL_OFFSET, T.I64, m.offset);
            setNum(loc, PL_SIZE, T.I32, (num(loc, PL_SIZE) ?? 0) + m.grew);
          }
          body = encodeStruct(oi);
        }
        setNum(ix.chunk.chunk, ix.kind === 'offset' ? CC_OFFSET_INDEX_OFFSET : CC_COLUMN_INDEX_OFFSET, T.I64, pos);
        setNum(ix.chunk.chunk, ix.kind === 'offset' ? CC_OFFSET_INDEX_LENGTH : CC_COLUMN_INDEX_LENGTH, T.I32, body.length);
        write(body);
      }
      list(footer.meta, FMD_ROW_GROUPS).forEach((rg, group) => {
        const own = chunks.filter((c) => c.group === group);
        const first = Math.min(...own.map((c) => newStart.get(c) as number));
        if (num(rg as TStruct, RG_FILE_OFFSET) !== undefined) setNum(rg as TStruct, RG_FILE_OFFSET, T.I64, first);
        if (num(rg as TStruct, RG_TOTAL_COMPRESSED) !== undefined)
          setNum(
            rg as TStruct,
            RG_TOTAL_COMPRESSED,
            T.I64,
            own.reduce((a, c) => a + c.length, 0),
          );
      });
      const meta = encodeStruct(footer.meta);
      write(meta);
      const tail = new Uint8Array(8);
      new DataView(tail.buffer).setUint32(0, meta.length, true);
      tail.set(new TextEncoder().encode(MAGIC), 4);
      write(tail);
    } finally {
      closeSync(out);
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
