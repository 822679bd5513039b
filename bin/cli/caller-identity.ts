/**
 * Who is running the CLI in AWS: the ARN of the caller's IAM principal from STS GetCallerIdentity
 * (needs no permission). It becomes the approver of a CLI decision, so it comes from AWS, never from
 * a flag.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** Resolves to the caller's principal ARN, e.g. `arn:aws:sts::123456789012:assumed-role/Approver/jane`. */
export async function stsCallerArn(region: string | undefined, client: STSClient = new STSClient(region !== undefined ? { region } : {})): Promise<string> {
  const out = await client.send(new GetCallerIdentityCommand({}));
  if (out.Arn === undefined || out.Arn === '') throw new Error('STS GetCallerIdentity returned no ARN: the approver cannot be identified');
  return out.Arn;
}
