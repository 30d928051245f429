import { plainMessage } from './errors.js';

/**
 * The one events contract of every verb: progress of long work, and warnings. A verb takes
 * `events` and calls what is there; the CLI renders progress on stderr (throttled) and prints
 * every warning (never throttled), a library user may collect them.
 */

/** Kinds of warnings, by code. */
export const WARNING_CODES = {
  LABEL: 'a language label that is no ISO 639 code, used as it is',
  REMOVES_MOST: 'the projection removes more than half the dimensions',
  WHITEN_DIMS: 'whiten fitted with fewer dimensions than the embeddings have',
  TEST_MODEL: 'the embeddings come from a model that says it is a test model',
  NO_MANIFEST: 'a projection that does not record how its embeddings were made',
  SKIPPED: 'a language left out of an evaluation',
  PROBE_UNCONVERGED: 'the language-ID probe stopped at its iteration limit',
  POOLING_OVERRIDE: "an explicit option overrides the model's own configuration",
  FEW_ROWS: 'a language fitted from fewer than 10 rows',
  LANGUAGE_VARIANT: 'two languages that differ only by region or script (en and en-US), fitted as two',
} as const;

export type WarningCode = keyof typeof WARNING_CODES;

/** What a progress report counts, and how a stage ended. */
export interface ProgressDetail {
  /** What `done` counts (rows, sentences, files); default items; '' for a final line that counts nothing. */
  unit?: string;
  /** A short remark shown beside the count ("up to date, skipped", "padding 14%"). */
  note?: string;
  /** The stage is finished: this report is its summary (always shown, never throttled). */
  final?: boolean;
}

export interface Events {
  /** `done` of `total` (when known) of a stage ("embed de", "fit de", "probe lsar-8"). */
  progress?(stage: string, done: number, total?: number, detail?: ProgressDetail): void;
  /**
   * Something the user should know about the result: `message` in plain words; `template` the
   * same with the options it names marked (see core/errors `opt`), for renderers that show flags.
   */
  warn?(code: WarningCode, message: string, template?: string): void;
}

/** Raise a warning whose text may mark options (`opt`): plain for `message`, marked in `template`. */
export function warn(events: Events | undefined, code: WarningCode, template: string): void {
  events?.warn?.(code, plainMessage(template), template);
}

/** Warnings raised through `events`, also kept in a list (for results that report them). */
export function warnings(events: Events = {}): { events: Events; list: string[] } {
  const list: string[] = [];
  return {
    list,
    events: {
      ...events,
      warn(code, message, template) {
        list.push(message);
        events.warn?.(code, message, template);
      },
    },
  };
}
