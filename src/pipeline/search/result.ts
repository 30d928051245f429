/** What `lsar search` returns: each query's neighbours, and how they were found. */
import type { IndexKind } from '../../core/vector-index.js';

export interface Neighbor {
  /** The row (in its source file, for a vector store). */
  index: number;
  /** Vector store: the file the row came from. */
  source?: string;
  score: number;
  label?: string;
}

export interface SearchResult {
  /** The kind of index searched, and why (auto's estimates, or the mode asked for). */
  search: IndexKind;
  reason: string;
  /** HNSW: the ef used and the recall against exact search measured on a sample of the queries. */
  ef?: number;
  recall?: { at1: number; at10: number; queries: number };
  k: number;
  results: { query: number; neighbors: Neighbor[] }[];
}
