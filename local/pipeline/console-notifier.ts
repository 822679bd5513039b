/**
 * LOCAL notifier for `npm run local` and the tests: instead of SNS e-mail, each notification is printed
 * (marked as local) and appended as a JSON line to a file, where the end-to-end tests and a curious
 * user can read what the approvers, FinOps and the team would have received.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Notifier } from '../../lambdas/pipeline/ports';

type Topic = Parameters<Notifier['publish']>[0];

/** One notification as the local notifier kept it. */
export interface LocalNotification {
  readonly at: string;
  readonly topic: Topic;
  readonly subject: string;
  readonly message: string;
  /** The one address it was for (a personal approval link); absent when for every subscriber. */
  readonly recipient?: string;
}

export interface ConsoleNotifierOptions {
  /** JSON-lines file every notification is appended to; none when omitted. */
  readonly file?: string;
  /** Where the printed form goes. @default console.log */
  readonly print?: (text: string) => void;
  readonly clock?: () => Date;
}

export class ConsoleNotifier implements Notifier {
  /** Every notification sent through this instance, oldest first. */
  readonly sent: LocalNotification[] = [];
  private readonly print: (text: string) => void;
  private readonly clock: () => Date;

  constructor(private readonly options: ConsoleNotifierOptions = {}) {
    this.print = options.print ?? ((text) => console.log(text));
    this.clock = options.clock ?? (() => new Date());
  }

  async publish(topic: Topic, subject: string, message: string, recipient?: string): Promise<void> {
    const notification: LocalNotification = { at: this.clock().toISOString(), topic, subject, message, ...(recipient !== undefined ? { recipient } : {}) };
    this.sent.push(notification);
    const indented = message.replace(/^/gm, '    ');
    this.print(`[local notification -> ${topic}${recipient !== undefined ? `, to ${recipient}` : ''}] ${subject}\n${indented}`);
    if (this.options.file !== undefined) {
      mkdirSync(dirname(this.options.file), { recursive: true });
      appendFileSync(this.options.file, `${JSON.stringify({ ...notification, local: true })}\n`);
    }
  }
}
