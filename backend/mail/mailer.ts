import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../../core/logger.js';
import { AresError } from '../../core/errors.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

/**
 * SMTP when `central.smtp_url` is set; otherwise each message becomes an .eml file in
 * `<data_dir>/outbox/` (and a log line naming it), so a small install without a mail server still
 * gets its reset codes: never silently dropped.
 */
export function createMailer(opts: {
  smtpUrl: string | undefined;
  from: string;
  outboxDir: string;
  log: Logger;
}): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      async send(msg) {
        try {
          await transport.sendMail({ from: opts.from, ...msg });
        } catch (err) {
          throw new AresError('ARES_ERR_MAIL', `SMTP delivery failed: ${(err as Error).message}`, {
            transient: true,
            cause: err,
          });
        }
        opts.log.info({ to: msg.to, subject: msg.subject }, 'mail sent');
      },
    };
  }
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(msg) {
      const info = (await composer.sendMail({ from: opts.from, ...msg })) as { message: Buffer };
      mkdirSync(opts.outboxDir, { recursive: true, mode: 0o700 });
      const file = join(opts.outboxDir, `${Date.now()}-${randomBytes(4).toString('hex')}.eml`);
      writeFileSync(file, info.message, { mode: 0o600 });
      opts.log.info({ to: msg.to, subject: msg.subject, file }, 'mail written to outbox (central.smtp_url unset)');
    },
  };
}
