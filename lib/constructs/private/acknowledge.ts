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

/**
 * The string cdk-nag names a resolved CloudFormation value by (its `flattenCfnReference`): `Fn::Join`
 * parts joined, `Fn::GetAtt` as `<Id.Attr>`, `Ref` as `<Id>`, `Fn::ImportValue` as the export name.
 */
export function nagFlatten(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value !== null && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (node['Fn::Join'] !== undefined) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(nagFlatten).join(delimiter);
    }
    if (node['Fn::Sub'] !== undefined) return nagFlatten(node['Fn::Sub']);
    if (node['Fn::GetAtt'] !== undefined) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${nagFlatten(resource)}.${nagFlatten(attribute)}>`;
    }
    if (node['Fn::ImportValue'] !== undefined) return nagFlatten(node['Fn::ImportValue']);
    if (node.Ref !== undefined) return `<${nagFlatten(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

/**
 * Acknowledges the `AwsSolutions-IAM5` finding for one wildcard resource on `target` (a role, or a
 * construct holding policies), given as the same token the grant used, e.g.
 * `bucket.arnForObjects('runs/*')`. The finding's text is only known after cross-stack references are
 * resolved (an import of another stack's export reads as the export's name), so it is computed in a
 * validation hook, which runs after reference resolution and before the validation plugins.
 */
export function acknowledgeWildcardResourceToken(target: IConstruct, resource: string, reason: string): void {
  let recorded = false;
  target.node.addValidation({
    validate: () => {
      if (!recorded) {
        recorded = true;
        const flat = nagFlatten(Stack.of(target).resolve(resource));
        Validations.of(target).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
      }
      return [];
    },
  });
}
