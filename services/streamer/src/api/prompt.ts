import { errors } from '../errors.ts';

export const MAX_PROMPT_CHARS = 500;

/** Normalises a mood prompt (NFC, collapsed white space) and refuses what cannot be a mood. */
export function cleanPrompt(input: unknown): string {
  return cleanText(input, 'prompt', MAX_PROMPT_CHARS);
}

/** The same rules for any short human text (a name, a prompt). */
export function cleanText(input: unknown, field: string, maxChars: number): string {
  if (typeof input !== 'string') throw errors.badRequest(`${field} must be a string`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(input))
    throw errors.badRequest(`${field} contains control characters`);
  const text = input.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!text) throw errors.badRequest(`${field} must not be empty`);
  if ([...text].length > maxChars) throw errors.badRequest(`${field} must be at most ${maxChars} characters`);
  return text;
}
