import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, rateLimited, unauthorized } from '../../core/errors.js';
import { hashSecret, verifyAgainstDummy, verifySecret } from '../auth/passwords.js';
import type { CentralContext } from '../context.js';
import { email, errors, password, text } from '../http/schemas.js';
import {
  completePasswordReset,
  findLivePasswordReset,
  spendPasswordResetTry,
  storePasswordReset,
} from '../store/password-resets.js';
import { findUserByEmail, normalizeEmail, recordLogin, registerUser } from '../store/users.js';

const RESET_CODE_TTL_MS = 10 * 60_000;
const RESET_CODE_TRIES = 5;

const tokenResponse = {
  type: 'object',
  properties: { access_token: { type: 'string' }, token_type: { type: 'string' }, expires_in: { type: 'integer' } },
} as const;

export function authRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const cfg = ctx.config.central;

  app.post<{ Body: { username: string; email: string; password: string } }>(
    '/auth/register',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['auth'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'email', 'password'],
          properties: { username: text(64), email, password },
        },
        response: {
          201: {
            type: 'object',
            properties: { id: { type: 'integer' }, username: { type: 'string' }, email: { type: 'string' } },
          },
          ...errors(400, 409),
        },
      },
    },
    async (request, reply) => {
      const addr = normalizeEmail(request.body.email);
      const passwordHash = await hashSecret(request.body.password);
      const user = { username: request.body.username, email: addr, passwordHash, now: ctx.clock.now() };
      return reply.status(201).send(await registerUser(ctx.db, user, request.ip));
    },
  );

  app.post<{ Body: { email?: string; username?: string; password: string } }>(
    '/auth/login',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['auth'],
        description: 'JSON `{email,password}` or an OAuth2 password-grant form (`username` = email).',
        body: {
          type: 'object',
          required: ['password'],
          properties: {
            email,
            username: { type: 'string', maxLength: 254 },
            password: { type: 'string', minLength: 1, maxLength: 256 },
            grant_type: { type: 'string', maxLength: 32 },
            scope: { type: 'string', maxLength: 256 },
            client_id: { type: 'string', maxLength: 256 },
            client_secret: { type: 'string', maxLength: 256 },
          },
        },
        response: { 200: tokenResponse, ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const given = request.body.email ?? request.body.username;
      if (!given) throw badRequest('email (or the form field username) is required');
      const addr = normalizeEmail(given);
      await checkLoginThrottle(ctx, request, addr);
      const user = await findUserByEmail(ctx.db, addr);
      const ok = user
        ? await verifySecret(user.password_hash, request.body.password)
        : await verifyAgainstDummy(request.body.password);
      if (!user || !ok || user.is_active !== 1) {
        await ctx.counters.increment(`login:acct:${addr}`, cfg.login_lockout_s);
        await ctx.counters.increment(`login:ip:${request.ip}`, cfg.login_lockout_s);
        ctx.metrics.authFailures.inc({ kind: 'login', reason: 'bad_credentials' });
        request.log.info({ email: addr }, 'login failed');
        throw unauthorized('wrong email or password');
      }
      await ctx.counters.reset(`login:acct:${addr}`);
      await recordLogin(ctx.db, user.id, ctx.clock.now());
      const { token, expiresIn } = await ctx.tokens.issue(user.id, user.token_version, ctx.clock.now());
      return { access_token: token, token_type: 'bearer', expires_in: expiresIn };
    },
  );

  app.post<{ Body: { email: string } }>(
    '/auth/forgot-password',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['auth'],
        description: 'Always 202, whether or not the account exists; mails a 6-digit code valid 10 minutes.',
        body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email } },
        response: { 202: { type: 'object', properties: { status: { type: 'string' } } }, ...errors(400) },
      },
    },
    async (request, reply) => {
      const addr = normalizeEmail(request.body.email);
      const perAddress = await ctx.counters.increment(`forgot:email:${addr}`, 3600);
      const perIp = await ctx.counters.increment(`forgot:ip:${request.ip}`, 3600);
      if (perAddress.count <= 3 && perIp.count <= 20) {
        // Off the request path: the answer and its latency are the same for known and unknown emails.
        void sendResetCode(ctx, addr).catch((err: unknown) => request.log.error({ err }, 'password reset mail failed'));
      } else {
        request.log.warn({ email: addr }, 'password reset throttled');
      }
      return reply.status(202).send({ status: 'accepted' });
    },
  );

  app.post<{ Body: { email: string; code: string; new_password: string } }>(
    '/auth/reset-password',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['auth'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email', 'code', 'new_password'],
          properties: { email, code: { type: 'string', pattern: '^[0-9]{6}$' }, new_password: password },
        },
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, ...errors(400) },
      },
    },
    async (request) => {
      const addr = normalizeEmail(request.body.email);
      const invalid = () => badRequest('invalid or expired code');
      const reset = await findLivePasswordReset(ctx.db, addr, ctx.clock.now());
      if (!reset) throw invalid();
      // The try is spent before the code is checked: concurrent guesses cannot share one attempt.
      if (
        !(await spendPasswordResetTry(ctx.db, reset.userId)) ||
        !(await verifySecret(reset.codeHash, request.body.code))
      ) {
        ctx.metrics.authFailures.inc({ kind: 'reset_code', reason: 'wrong_code' });
        throw invalid();
      }
      const passwordHash = await hashSecret(request.body.new_password);
      await completePasswordReset(ctx.db, reset.userId, passwordHash, ctx.clock.now(), request.ip);
      ctx.users.invalidate(reset.userId);
      await ctx.counters.reset(`login:acct:${addr}`);
      return { status: 'ok' };
    },
  );
}

async function checkLoginThrottle(ctx: CentralContext, request: FastifyRequest, addr: string): Promise<void> {
  const max = ctx.config.central.login_max_failures;
  const acct = await ctx.counters.peek(`login:acct:${addr}`);
  const ip = await ctx.counters.peek(`login:ip:${request.ip}`);
  if (acct.count >= max || ip.count >= max * 4) {
    ctx.metrics.authFailures.inc({ kind: 'login', reason: 'throttled' });
    throw rateLimited('too many failed logins; try again later', Math.max(acct.retryAfterS, ip.retryAfterS));
  }
}

async function sendResetCode(ctx: CentralContext, addr: string): Promise<void> {
  const user = await findUserByEmail(ctx.db, addr);
  if (!user || user.is_active !== 1) return;
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await storePasswordReset(ctx.db, {
    userId: user.id,
    codeHash: await hashSecret(code),
    expiresAt: ctx.clock.now() + RESET_CODE_TTL_MS,
    attemptsLeft: RESET_CODE_TRIES,
  });
  await ctx.mailer.send({
    to: addr,
    subject: 'Your Ares password reset code',
    text: `Your password reset code is ${code}.\nIt is valid for 10 minutes. If you did not ask for it, ignore this mail.\n`,
  });
}
