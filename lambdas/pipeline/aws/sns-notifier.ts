/**
 * The AWS adapter of the Notifier port: one SNS topic per audience (approvers, FinOps, everyone who
 * follows the pipeline), each subscribed by e-mail in the loop stack. A function is given only the
 * topics it publishes to, so a missing variable fails on use and names itself.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../ports';
import { PIPELINE_ENV } from '../settings';

export type NotifierTopic = Parameters<Notifier['publish']>[0];

/** The environment variable that carries each topic's ARN (set by the construct with grantPublish). */
export const NOTIFIER_TOPIC_ENV: Readonly<Record<NotifierTopic, string>> = {
  approvals: PIPELINE_ENV.approvalsTopicArn,
  finops: PIPELINE_ENV.finopsTopicArn,
  notifications: PIPELINE_ENV.notificationsTopicArn,
};

/** The message attribute naming the one subscriber a message is for (personal approval links). */
export const RECIPIENT_ATTRIBUTE = 'recipient';

/** SNS limits: a subject is printable ASCII, no line breaks, under 100 characters; a message at most 256 KiB. */
export const SNS_MAX_SUBJECT_CHARS = 99;
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
const FALLBACK_SUBJECT = 'Self-Improving Agent Loop notification';
const TRUNCATION_NOTE = '\n\n[message truncated to the SNS size limit; the execution history has the full details]';

/**
 * Makes a subject SNS accepts: e-mail subjects are where a human first reads the news, so a subject
 * with a non-ASCII character or a line break must be repaired, not rejected (a rejected publish would
 * fail the state that sends a failure notice).
 */
export function snsSubject(subject: string): string {
  const ascii = subject
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (ascii === '') return FALLBACK_SUBJECT;
  return ascii.length <= SNS_MAX_SUBJECT_CHARS ? ascii : `${ascii.slice(0, SNS_MAX_SUBJECT_CHARS - 3).trimEnd()}...`;
}

/** Cuts a message to SNS's byte limit on a character boundary, saying that it was cut. */
export function snsMessage(message: string): string {
  if (Buffer.byteLength(message, 'utf8') <= SNS_MAX_MESSAGE_BYTES) return message;
  const budget = SNS_MAX_MESSAGE_BYTES - Buffer.byteLength(TRUNCATION_NOTE, 'utf8');
  // Buffer#toString drops an incomplete trailing sequence as U+FFFD; cut back to the last whole character.
  let cut = Buffer.from(message, 'utf8').subarray(0, budget).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}${TRUNCATION_NOTE}`;
}

/** Publishes notifications to the SNS topic of each audience. */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArns: Readonly<Partial<Record<NotifierTopic, string>>>,
  ) {}

  /** Takes the ARNs of whichever topics are set in the environment (see NOTIFIER_TOPIC_ENV). */
  static fromEnv(client: SNSClient, env: NodeJS.ProcessEnv = process.env): SnsNotifier {
    const arns: Partial<Record<NotifierTopic, string>> = {};
    for (const [topic, name] of Object.entries(NOTIFIER_TOPIC_ENV) as Array<[NotifierTopic, string]>) {
      const value = env[name];
      if (value !== undefined && value !== '') arns[topic] = value;
    }
    return new SnsNotifier(client, arns);
  }

  async publish(topic: NotifierTopic, subject: string, message: string, recipient?: string): Promise<void> {
    const arn = this.topicArns[topic];
    if (arn === undefined) {
      throw new Error(`${NOTIFIER_TOPIC_ENV[topic]} is not set: this function was not given the "${topic}" topic by its construct`);
    }
    // The attribute is what each e-mail subscription's filter policy matches (lib/constructs/approvals.ts).
    const attributes = recipient === undefined ? {} : { MessageAttributes: { [RECIPIENT_ATTRIBUTE]: { DataType: 'String', StringValue: recipient } } };
    await this.client.send(new PublishCommand({ TopicArn: arn, Subject: snsSubject(subject), Message: snsMessage(message), ...attributes }));
  }
}
