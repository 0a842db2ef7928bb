import { errors } from '../errors.ts';

export const MAX_PROMPT_CHARS = 500;

/** Normalises a mood prompt (NFC, collapsed white space) and refuses what cannot be a mood. */
export function cleanPrompt(input: unknown): string {
  if (typeof input !== 'string') throw errors.badRequest('prompt must be a string');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(input))
    throw errors.badRequest('prompt contains control characters');
  const prompt = input.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!prompt) throw errors.badRequest('prompt must not be empty');
  if ([...prompt].length > MAX_PROMPT_CHARS) {
    throw errors.badRequest(`prompt must be at most ${MAX_PROMPT_CHARS} characters`);
  }
  return prompt;
}
