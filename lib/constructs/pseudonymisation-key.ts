/**
 * The stage's pseudonymisation key: the secret behind every keyed pseudonym in the lake. The gate
 * stores producers' session ids only as HMAC-SHA-256 under this key, and the same key serves for
 * data subjects' user ids, so that an erasure request can find a subject's rows by recomputing the
 * pseudonyms of the ids it names.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Properties of {@link PseudonymisationKey}. */
export interface PseudonymisationKeyProps {
  /** Stage name, for the description. */
  readonly stage: string;
  /** Encrypts the secret: the stage's lake key, so the key never leaves the stage's data boundary. */
  readonly encryptionKey: kms.IKey;

  /**
   * What happens to the secret when the stack is deleted. Losing it makes every pseudonym in the lake
   * unjoinable with new ones and unreachable by erasure look-ups, so production retains it.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A generated Secrets Manager secret (64 alphanumeric characters, about 380 bits) encrypted with the
 * stage's KMS key, without a physical name. It is not rotated: see the SMG4 acknowledgement.
 */
export class PseudonymisationKey extends Construct {
  /** The secret; its string value (UTF-8) is the HMAC key. */
  public readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: PseudonymisationKeyProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: `Pseudonymisation key of ${props.stage}: HMAC-SHA-256 key of session ids and data-subject ids in the lake (never rotated: pseudonyms must stay joinable)`,
      encryptionKey: props.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Not rotated on purpose: the key derives the pseudonyms stored in the lake, and a new key would give every session and subject a new pseudonym, breaking joins across the change and erasure look-ups of older rows. It is KMS-encrypted with the stage key, readable only by the roles granted here, and never leaves Secrets Manager except into their memory.',
    });
  }

  /** Lets `grantee` read the key (GetSecretValue, and Decrypt through Secrets Manager). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}
