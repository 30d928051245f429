/**
 * Parquet in, Parquet out: every record batch keeps its other columns as they are, the
 * embedding column is replaced by the projected rows (or, with `as`, they are added as a new
 * column), and the file's key-value metadata is kept.
 */
import { createError, opt } from '../../core/errors.js';
import { type Projector } from '../../core/apply.js';
import { outputDim, type Projection } from '../../core/projection.js';
import { ParquetEmbeddings, parquetLibs } from '../../io/parquet.js';
import { embeddingVector, ParquetWriter, rowGroupRowsFor } from '../../io/parquet-writer.js';

/**
 * Parquet in, Parquet out: every record batch keeps its other columns as they are, the
 * embedding column is replaced by the projected rows (or, with `as`, they are added as a new
 * column), and the file's key-value metadata is kept.
 */
export async function projectParquet(
  projection: Projection,
  options: ProjectOptions,
  opFor: (lang: string | undefined) => Projector,
  byRow: boolean,
): Promise<ProjectSummary> {
  const { arrow } = await parquetLibs();
  const d = projection.dim;
  const od = outputDim(projection);
  const pq = await ParquetEmbeddings.open(options.input, {
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(byRow ? { langColumn: options.langColumn as string } : {}),
    allColumns: true,
  });
  if (pq.dim !== undefined && pq.dim !== d) {
    pq.close();
    throw createError('DIM_MISMATCH', `${options.input}: dimension ${pq.dim}, but the projection was fitted on dimension ${d}`);
  }
  if (options.as !== undefined && pq.schema.fields.some((f) => f.name === options.as)) {
    pq.close();
    throw createError('USAGE', `${opt('as')} "${options.as}": ${options.input} already has a column of that name`, { params: ['as'] });
  }
  const outDtype = options.dtype === 'float64' || (options.dtype === undefined && pq.dtype === 'float64') ? '<f8' : '<f4';
  const name = options.as ?? pq.columnName;
  let writer: ParquetWriter | undefined;
  let rows = 0;
  try {
    writer = await ParquetWriter.create(options.output, pq.keyValues, rowGroupRowsFor(od, outDtype === '<f8' ? 8 : 4));
    for await (const b of pq.batches()) {
      if (pq.dim !== d)
        throw createError('DIM_MISMATCH', `${options.input}: dimension ${pq.dim}, but the projection was fitted on dimension ${d}`);
      applyBlock(opFor, b, d, options.input, byRow);
      const v = embeddingVector(arrow, castRows(b.data, b.rows, od, outDtype, options.output, rows), b.rows, od);
      await writer.write(withColumn(arrow, b.table as ArrowTable, name, v));
      rows += b.rows;
      options.events?.progress?.(`project ${options.input}`, rows, pq.rows, { unit: 'rows' });
    }
    if (rows === 0) throw createError('EMPTY', `${options.input}: no rows`);
    await writer.commit();
  } catch (e) {
    await writer?.abort();
    throw e;
  } finally {
    pq.close();
  }
  return { rows, dim: od, output: options.output };
}

type ArrowLib = Awaited<ReturnType<typeof parquetLibs>>['arrow'];
type ArrowTable = InstanceType<ArrowLib['Table']>;

/** The table with column `name` replaced by (or, when it has none, extended with) `v`; other columns and metadata as they are. */
function withColumn(arrow: ArrowLib, table: ArrowTable, name: string, v: ReturnType<typeof embeddingVector>): ArrowTable {
  const fields = table.schema.fields.slice();
  const children: unknown[] = fields.map((f) => table.getChild(f.name)?.data[0]);
  const field = new arrow.Field(name, v.type, false);
  const at = fields.findIndex((f) => f.name === name);
  if (at >= 0) {
    fields[at] = field;
    children[at] = v.data[0];
  } else {
    fields.push(field);
    children.push(v.data[0]);
  }
  if (table.batches.length > 1) {
    // one batch per read, as parquet-wasm gives them; several would need their own slices
    throw createError('INPUT', `${name}: a Parquet batch arrived as ${table.batches.length} Arrow batches`);
  }
  const schema = new arrow.Schema(fields, table.schema.metadata);
  const data = arrow.makeData({ type: new arrow.Struct(fields), length: table.numRows, nullCount: 0, children: children as never });
  return new arrow.Table([new arrow.RecordBatch(schema, data)]);
}

import { applyBlock, castRows, type ProjectOptions, type ProjectSummary } from './rows.js';
