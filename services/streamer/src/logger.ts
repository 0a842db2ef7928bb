import pino, { type Logger } from 'pino';

export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    // Tokens never reach a log line.
    redact: ['req.headers.authorization', 'headers.authorization', 'adminToken', '*.adminToken'],
  });
}
