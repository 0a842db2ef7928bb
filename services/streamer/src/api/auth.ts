import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time bearer check (hashing first makes the lengths equal). */
export function requireAdmin(req: FastifyRequest, adminToken: string): void {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m?.[1] || !timingSafeEqual(digest(m[1].trim()), digest(adminToken))) throw errors.unauthorized();
}
