import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AresError, forbidden, notFound, unauthorized } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import type { DeviceRole } from '../db/types.js';
import { roleOnDevice } from '../store/memberships.js';
import { isAdmin, loadAuthUser } from '../store/users.js';
import { verifyDeviceRequest } from './device-auth.js';
import type { AuthUser, RouteAuth } from './request-types.js';

/**
 * Authentication runs in onRequest, before any body is read: an unauthenticated caller costs a
 * header check, not a parse. Device signatures cover the body, so for requests with a body they are
 * verified in the JSON parser (http/body.ts); bodiless device requests are verified in preHandler.
 * Hooks are attached per route from its `config.auth` when the route is registered, so a public
 * route runs none of them. Call this before registering routes.
 */
export function registerAuthHooks(app: FastifyInstance, ctx: CentralContext): void {
  // Callback style, not async: with the token and its user remembered (nearly every request) the
  // check completes synchronously, without a promise and a microtask per request.
  const bearerHook =
    (auth: RouteAuth) => (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
      if (auth === 'user_or_device' && request.headers['x-ares-signature'] !== undefined) return done();
      let token: string;
      let known: AuthUser | undefined;
      try {
        token = bearerToken(request);
        known = rememberedUser(ctx, token);
      } catch (err) {
        return done(err as Error);
      }
      if (known) return done(admit(auth, known, request));
      authenticateBearer(ctx, token).then(
        (user) => done(admit(auth, user, request)),
        (err: unknown) => done(err as Error),
      );
    };
  const signedHook = (auth: RouteAuth) => async (request: FastifyRequest) => {
    if (request.deviceChecked || request.user) return;
    // No body reached the parser (GET/DELETE, or an empty POST): sign over zero bytes.
    request.device = await verifyDeviceRequest(
      ctx,
      request,
      new Uint8Array(0),
      auth === 'device_key' ? 'es256' : 'hmac',
    );
  };

  app.addHook('onRoute', (route) => {
    const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth ?? 'none';
    if (route.schema && !route.schema.hide) {
      // Who may call is part of the contract: say it in the OpenAPI document, from the one place it is decided.
      const description = (route.schema as { description?: string }).description;
      route.schema = {
        ...route.schema,
        description: `Auth: \`${auth}\` (${WHO_MAY_CALL[auth]}).${description ? ` ${description}` : ''}`,
      } as typeof route.schema;
    }
    if (auth === 'none') return;
    if (auth !== 'device' && auth !== 'device_key')
      // The hook is callback-style (returns nothing); the rule sees fastify's hook type, which also admits async hooks.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      route.onRequest = appendHook(route.onRequest, bearerHook(auth));
    if (auth === 'device' || auth === 'device_key' || auth === 'user_or_device')
      route.preHandler = appendHook(route.preHandler, signedHook(auth));
  });
}

const WHO_MAY_CALL: Record<RouteAuth, string> = {
  none: 'anyone',
  user: 'a logged-in user; device routes also check the per-device role',
  admin: 'prime_admin or general_admin',
  prime_admin: 'prime_admin',
  device: 'the device, HMAC-signed',
  device_key: 'the device, signed with its enrolled key',
  user_or_device: 'a logged-in user or the device itself',
};

function appendHook<H>(existing: H | H[] | undefined, hook: H): H[] {
  return existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
}

/** Sets `request.user`, or returns why this user may not call a route with `auth`. */
function admit(auth: RouteAuth, user: AuthUser, request: FastifyRequest): Error | undefined {
  if (auth === 'admin' && !isAdmin(user)) return forbidden('requires an admin role');
  if (auth === 'prime_admin' && !user.roles.has('prime_admin')) return forbidden('requires prime_admin');
  request.user = user;
  return undefined;
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header) : null;
  if (!match) throw unauthorized('missing bearer token');
  return match[1]!;
}

/** The user, when both the token and its user are remembered; undefined when a lookup is needed. */
function rememberedUser(ctx: CentralContext, token: string): AuthUser | undefined {
  let claims;
  try {
    claims = ctx.tokens.verifiedBefore(token, ctx.clock.now());
  } catch (err) {
    throw tokenRefused(ctx, err);
  }
  return claims && ctx.users.get(claims.userId, claims.tokenVersion);
}

async function authenticateBearer(ctx: CentralContext, token: string): Promise<AuthUser> {
  let claims;
  try {
    claims = await ctx.tokens.verify(token, ctx.clock.now());
  } catch (err) {
    throw tokenRefused(ctx, err);
  }
  let user = ctx.users.get(claims.userId, claims.tokenVersion);
  if (!user) {
    user = await loadAuthUser(ctx.db, claims.userId, claims.tokenVersion);
    if (user) ctx.users.set(user, claims.tokenVersion);
  }
  if (!user) {
    ctx.metrics.authFailures.inc({ kind: 'token', reason: 'user gone or token revoked' });
    throw unauthorized('access token no longer valid');
  }
  return user;
}

/** Counts a refused token by its reason; returns the error to throw. */
function tokenRefused(ctx: CentralContext, err: unknown): unknown {
  ctx.metrics.authFailures.inc({ kind: 'token', reason: (err as Error).message });
  return err;
}

export function currentUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw new AresError('ARES_ERR_UNAUTHORIZED', 'authentication required');
  return request.user;
}

/**
 * Who may touch device `deviceId`: its members with one of `roles`, or the device itself when
 * `allowDevice`. A device that exists but is not the caller's is 403; one that does not exist, 404.
 */
export async function authorizeDevice(
  ctx: CentralContext,
  request: FastifyRequest,
  deviceId: number,
  roles: readonly DeviceRole[],
  allowDevice = false,
): Promise<{ role: DeviceRole | 'device' }> {
  if (request.device) {
    if (allowDevice && request.device.id === deviceId) return { role: 'device' };
    throw forbidden('a device may only access itself');
  }
  const user = currentUser(request);
  const row = await roleOnDevice(ctx.db, user.id, deviceId);
  if (!row) throw notFound('device');
  if (!row.role) throw forbidden('not your device');
  if (!roles.includes(row.role)) throw forbidden(`requires the ${roles.join(' or ')} role on this device`);
  return { role: row.role };
}
