import '@fastify/swagger';
import type { GlobalRole } from '../db/seed-data.js';

export interface AuthUser {
  id: number;
  email: string;
  username: string;
  roles: ReadonlySet<GlobalRole>;
}

export interface AuthDevice {
  id: number;
  deviceUuid: string;
}

/**
 * Who may call a route (ARCHITECTURE §4.3). `device` = HMAC-signed device request, `device_key` =
 * the ES256-signed credentials request, `user_or_device` = either.
 */
export type RouteAuth = 'none' | 'user' | 'admin' | 'prime_admin' | 'device' | 'device_key' | 'user_or_device';

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthUser;
    device?: AuthDevice;
    /** Set once the device signature was checked (whatever the outcome), so it runs once. */
    deviceChecked?: boolean;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}
