// Every error the HTTP API answers with, declared once: code, status and message.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const errors = {
  stationNotFound: (id: string) =>
    new ApiError(404, 'STATION_NOT_FOUND', `no station with id ${JSON.stringify(id)}`),
  unauthorized: () => new ApiError(401, 'UNAUTHORIZED', 'a valid bearer token is required'),
  badRequest: (message: string) => new ApiError(400, 'BAD_REQUEST', message),
  stationExists: (id: string) =>
    new ApiError(409, 'STATION_EXISTS', `a station with id ${JSON.stringify(id)} exists`),
  rateLimited: (what: string, retryAfterSeconds: number) =>
    new ApiError(429, 'RATE_LIMITED', `too many ${what} requests; retry in ${retryAfterSeconds} s`),
  notReady: (what: string) => new ApiError(503, 'NOT_READY', `${what} is not ready yet`),
} as const;
