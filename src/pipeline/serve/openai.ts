/**
 * The OpenAI embeddings API as lsar serves it: the request body checked field by field, the
 * response and the error shape (`{"error": {"message", "type", "param", "code"}}`) as OpenAI
 * sends them.
 */

export interface EmbeddingsRequest {
  input: string[];
  /** Whether `input` was a single string (the response then holds one row). */
  single: boolean;
  model?: string;
  encodingFormat: 'float' | 'base64';
  dimensions?: number;
}

/** An answer other than 200, in OpenAI's error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  body(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.code } });
  }
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v;

/** The request body, checked: one clear 400 per problem, naming the field. */
export function parseEmbeddingsRequest(body: unknown, limits: { maxInputs: number; dim: number; served: string }): EmbeddingsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, `the request body must be a JSON object, got ${describe(body)}`);
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['input', 'model', 'encoding_format', 'dimensions', 'user'].includes(k)) {
      throw new ApiError(400, `unrecognized request argument supplied: ${k}`, 'invalid_request_error', k);
    }
  }
  const input = b.input;
  if (input === undefined)
    throw new ApiError(400, "'input' is a required property", 'invalid_request_error', 'input', 'missing_required_parameter');
  let texts: string[];
  let single = false;
  if (typeof input === 'string') {
    texts = [input];
    single = true;
  } else if (Array.isArray(input)) {
    if (input.length === 0) throw new ApiError(400, "'input' must not be an empty array", 'invalid_request_error', 'input');
    if (input.some((x) => typeof x === 'number' || Array.isArray(x))) {
      throw new ApiError(
        400,
        "'input' holds token ids: lsar serve takes text only (a string or an array of strings), as its tokenizer must see the text",
        'invalid_request_error',
        'input',
        'unsupported_input',
      );
    }
    const bad = input.findIndex((x) => typeof x !== 'string');
    if (bad >= 0)
      throw new ApiError(400, `'input[${bad}]' must be a string, got ${describe(input[bad])}`, 'invalid_request_error', 'input');
    texts = input as string[];
  } else {
    throw new ApiError(400, `'input' must be a string or an array of strings, got ${describe(input)}`, 'invalid_request_error', 'input');
  }
  if (texts.length > limits.maxInputs) {
    throw new ApiError(
      400,
      `'input' holds ${texts.length} items; at most ${limits.maxInputs} per request`,
      'invalid_request_error',
      'input',
      'too_many_inputs',
    );
  }
  const empty = texts.findIndex((t) => t.length === 0);
  if (empty >= 0) throw new ApiError(400, `'input${single ? '' : `[${empty}]`}' is an empty string`, 'invalid_request_error', 'input');
  if (b.model !== undefined && typeof b.model !== 'string')
    throw new ApiError(400, `'model' must be a string, got ${describe(b.model)}`, 'invalid_request_error', 'model');
  if (b.user !== undefined && typeof b.user !== 'string')
    throw new ApiError(400, `'user' must be a string, got ${describe(b.user)}`, 'invalid_request_error', 'user');
  const fmt = b.encoding_format ?? 'float';
  if (fmt !== 'float' && fmt !== 'base64') {
    throw new ApiError(
      400,
      `'encoding_format' must be "float" or "base64", got ${JSON.stringify(fmt)}`,
      'invalid_request_error',
      'encoding_format',
    );
  }
  if (b.dimensions !== undefined && b.dimensions !== null) {
    if (typeof b.dimensions !== 'number' || !Number.isInteger(b.dimensions) || b.dimensions < 1) {
      throw new ApiError(
        400,
        `'dimensions' must be a positive integer, got ${JSON.stringify(b.dimensions)}`,
        'invalid_request_error',
        'dimensions',
      );
    }
    if (b.dimensions !== limits.dim) {
      throw new ApiError(
        400,
        `${limits.served} gives ${limits.dim} dimensions; 'dimensions' ${b.dimensions} would need a truncation, which a projection is not: leave it out or ask for ${limits.dim}`,
        'invalid_request_error',
        'dimensions',
      );
    }
  }
  return {
    input: texts,
    single,
    ...(typeof b.model === 'string' ? { model: b.model } : {}),
    encodingFormat: fmt,
    ...(typeof b.dimensions === 'number' ? { dimensions: b.dimensions } : {}),
  };
}

/** The response body, rows in request order. */
export function embeddingsResponse(
  rows: Float32Array,
  n: number,
  dim: number,
  format: 'float' | 'base64',
  model: string,
  usage: { promptTokens: number; truncated: number },
): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = rows.subarray(i * dim, (i + 1) * dim);
    const emb =
      format === 'base64'
        ? JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'))
        : `[${Array.from(v, (x) => String(x)).join(',')}]`;
    parts.push(`{"object":"embedding","index":${i},"embedding":${emb}}`);
  }
  const u = {
    prompt_tokens: usage.promptTokens,
    total_tokens: usage.promptTokens,
    ...(usage.truncated ? { truncated_inputs: usage.truncated } : {}),
  };
  return `{"object":"list","data":[${parts.join(',')}],"model":${JSON.stringify(model)},"usage":${JSON.stringify(u)}}`;
}
