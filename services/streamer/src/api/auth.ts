import { createHash, timingSafeEqual } from 'node:crypto';
import type { StationRepo } from '@lofi/redis';
import type { FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function bearer(req: FastifyRequest): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1]?.trim() || null;
}

const isAdmin = (token: string, adminToken: string): boolean =>
  timingSafeEqual(digest(token), digest(adminToken)); // hashing first makes the lengths equal

/** Whether the request carries the admin token. */
export function isAdminRequest(req: FastifyRequest, adminToken: string): boolean {
  const token = bearer(req);
  return token !== null && isAdmin(token, adminToken);
}

/** The admin token, and nothing else. */
export function requireAdmin(req: FastifyRequest, adminToken: string): void {
  const token = bearer(req);
  if (!token || !isAdmin(token, adminToken)) throw errors.unauthorized();
}

/** The admin token or the owner key of this one station. */
export async function requireStationControl(
  req: FastifyRequest,
  adminToken: string,
  stations: StationRepo,
  stationId: string,
): Promise<void> {
  const token = bearer(req);
  if (!token) throw errors.unauthorized();
  if (isAdmin(token, adminToken)) return;
  if (!(await stations.checkKey(stationId, token))) throw errors.unauthorized();
}
