import { PutRecordCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import type { FeedbackSink } from '../ports';

/** Writes one JSON row to a Firehose Direct PUT stream (the feedback stream -> `feedback` Iceberg table). */
export class FirehoseRowSink implements FeedbackSink {
  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async put(row: object): Promise<void> {
    await this.client.send(
      new PutRecordCommand({ DeliveryStreamName: this.streamName, Record: { Data: Buffer.from(JSON.stringify(row)) } }),
    );
  }
}
