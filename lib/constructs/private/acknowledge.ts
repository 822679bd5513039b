/**
 * cdk-nag names a wildcard IAM finding after the flattened resource, e.g.
 * `AwsSolutions-IAM5[Resource::<LakeBucket.Arn>/tables/traces/*]`, using the *final* logical id of the
 * referenced resource. Stacks pin the logical ids of stateful resources after their constructs are
 * built, so the id is only known at synthesis: these acknowledgements are recorded by an aspect, which
 * runs before the validation plugins read them.
 */
import { Aspects, Stack, Validations, type CfnElement, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

class LateAcknowledgement implements IAspect {
  private recorded = false;

  constructor(
    private readonly target: IConstruct,
    private readonly ruleId: () => string,
    private readonly reason: string,
  ) {}

  visit(node: IConstruct): void {
    if (node !== this.target || this.recorded) return;
    this.recorded = true;
    Validations.of(this.target).acknowledge({ id: this.ruleId(), reason: this.reason });
  }
}

/** The final logical id of a CloudFormation element, overrides included. */
export function finalLogicalId(element: CfnElement): string {
  return Stack.of(element).resolve(element.logicalId) as string;
}

/**
 * Acknowledges one `AwsSolutions-IAM5` wildcard finding on `target` (a role or policy): the resource
 * `<referenced.attribute>` followed by `suffix`, e.g. `/tables/traces/*` or `:*`.
 */
export function acknowledgeWildcardResource(
  target: IConstruct,
  referenced: CfnElement,
  attribute: string,
  suffix: string,
  reason: string,
): void {
  Aspects.of(target).add(
    new LateAcknowledgement(target, () => `AwsSolutions-IAM5[Resource::<${finalLogicalId(referenced)}.${attribute}>${suffix}]`, reason),
  );
}
