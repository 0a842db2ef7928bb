import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { segmentSchema } from './schema.ts';
import type { SegmentJob, SegmentResult } from './types.gen.ts';

/** Thrown when data does not satisfy the contract; the message names the failing field. */
export class ContractError extends Error {
  readonly code = 'CONTRACT_VIOLATION';
  constructor(
    readonly what: string,
    readonly errors: readonly ErrorObject[],
  ) {
    super(`${what} violates the contract: ${describe(errors)}`);
    this.name = 'ContractError';
  }
}

function describe(errors: readonly ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
// ajv-formats ships CJS with a default export; under NodeNext the callable sits on .default.
const addFormats = addFormatsModule as unknown as { default: (a: Ajv2020) => void };
addFormats.default(ajv);
ajv.addSchema(segmentSchema);

function compiled<T>(def: string): ValidateFunction<T> {
  const fn = ajv.getSchema<T>(`${segmentSchema.$id}#/$defs/${def}`);
  if (!fn) throw new Error(`contract definition ${def} is missing`);
  return fn;
}

const jobValidator = compiled<SegmentJob>('SegmentJob');
const resultValidator = compiled<SegmentResult>('SegmentResult');

export function assertSegmentJob(data: unknown): SegmentJob {
  if (!jobValidator(data)) throw new ContractError('segment job', jobValidator.errors ?? []);
  return data;
}

export function assertSegmentResult(data: unknown): SegmentResult {
  if (!resultValidator(data)) throw new ContractError('segment result', resultValidator.errors ?? []);
  return data;
}
