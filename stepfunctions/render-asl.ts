/**
 * Renders a state machine's Amazon States Language definition from a synthesized CloudFormation
 * template, with every CloudFormation token (Ref, Fn::GetAtt, Fn::ImportValue, Fn::Join, ...) replaced
 * by a deterministic placeholder string. Pure (no CDK import): the construct tests, the local engine
 * and the CLI all run the ASL that `cdk synth` produced, not a hand-written copy.
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The rendered definition (top-level fields of the ASL document). */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly Comment?: string;
  readonly QueryLanguage?: string;
  readonly TimeoutSeconds?: number;
  readonly [key: string]: Json | undefined | Readonly<Record<string, AslState>>;
}

/** One state of a definition (the fields vary by type). */
export interface AslState {
  readonly Type: string;
  readonly [key: string]: Json | undefined;
}

/** How placeholders are chosen. */
export interface RenderAslOptions {
  /** `AWS::Partition` and ARNs. @default 'aws' */
  readonly partition?: string;
  /** `AWS::Region` and ARNs. @default 'local' */
  readonly region?: string;
  /** `AWS::AccountId` and ARNs. @default '000000000000' */
  readonly accountId?: string;
  /**
   * Value of an `Fn::ImportValue` (a reference to another stack's output).
   *
   * @default the export name, lower-cased, with every character outside [a-z0-9-] replaced by `-`
   */
  readonly importValue?: (exportName: string) => string;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

interface Template {
  readonly Resources: Record<string, TemplateResource>;
}

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';

/** Logical ids of the state machines in a template. */
export function stateMachineLogicalIds(template: unknown): string[] {
  return Object.entries(asTemplate(template).Resources)
    .filter(([, r]) => r.Type === STATE_MACHINE_TYPE)
    .map(([id]) => id);
}

/** The ASL of state machine `logicalId` in `template`, with placeholders for CloudFormation tokens. */
export function renderAsl(template: unknown, logicalId: string, options: RenderAslOptions = {}): AslDefinition {
  const { Resources } = asTemplate(template);
  const resource = Resources[logicalId];
  if (resource === undefined || resource.Type !== STATE_MACHINE_TYPE) {
    const found = stateMachineLogicalIds(template);
    throw new Error(`renderAsl: no ${STATE_MACHINE_TYPE} "${logicalId}" in the template; found ${found.length > 0 ? found.join(', ') : 'none'}`);
  }
  const props = resource.Properties ?? {};
  if (props.DefinitionS3Location !== undefined) throw new Error(`renderAsl: ${logicalId} keeps its definition in S3 (DefinitionS3Location); expected DefinitionString`);
  const context = new Resolver(Resources, options, substitutions(props.DefinitionSubstitutions));
  let text: string;
  if (props.DefinitionString !== undefined) {
    const rendered = context.resolve(props.DefinitionString, 'DefinitionString');
    if (typeof rendered !== 'string') throw new Error(`renderAsl: DefinitionString of ${logicalId} resolved to ${typeof rendered}; expected a string`);
    text = context.substitute(rendered);
  } else if (props.Definition !== undefined) {
    text = context.substitute(JSON.stringify(context.resolve(props.Definition, 'Definition')));
  } else {
    throw new Error(`renderAsl: ${logicalId} has neither DefinitionString nor Definition`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`renderAsl: the definition of ${logicalId} is not JSON after rendering: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || typeof (parsed as { StartAt?: unknown }).StartAt !== 'string' || typeof (parsed as { States?: unknown }).States !== 'object') {
    throw new Error(`renderAsl: the definition of ${logicalId} has no StartAt/States`);
  }
  return parsed as AslDefinition;
}

/** Every state name in a definition, nested Parallel branches and Map iterators included. */
export function allStateNames(definition: Pick<AslDefinition, 'States'>): string[] {
  const names: string[] = [];
  const visit = (states: Readonly<Record<string, AslState>>): void => {
    for (const [name, state] of Object.entries(states)) {
      names.push(name);
      const branches = (state.Branches as Array<{ States: Record<string, AslState> }> | undefined) ?? [];
      for (const branch of branches) visit(branch.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, AslState> } | undefined;
      if (processor?.States !== undefined) visit(processor.States);
    }
  };
  visit(definition.States);
  return names;
}

function asTemplate(template: unknown): Template {
  if (template === null || typeof template !== 'object' || typeof (template as { Resources?: unknown }).Resources !== 'object') {
    throw new Error('renderAsl: expected a CloudFormation template object with Resources');
  }
  return template as Template;
}

function substitutions(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new Error('renderAsl: DefinitionSubstitutions is not an object');
  return value as Record<string, unknown>;
}

/** Placeholder ARNs by resource type, so ARN-shaped fields keep an ARN shape. */
const ARN_FORMATS: Readonly<Record<string, (r: { partition: string; region: string; account: string; id: string }) => string>> = {
  'AWS::Lambda::Function': (r) => `arn:${r.partition}:lambda:${r.region}:${r.account}:function:${r.id}`,
  'AWS::SNS::Topic': (r) => `arn:${r.partition}:sns:${r.region}:${r.account}:${r.id}`,
  'AWS::Batch::JobQueue': (r) => `arn:${r.partition}:batch:${r.region}:${r.account}:job-queue/${r.id}`,
  'AWS::Batch::JobDefinition': (r) => `arn:${r.partition}:batch:${r.region}:${r.account}:job-definition/${r.id}:1`,
  'AWS::StepFunctions::StateMachine': (r) => `arn:${r.partition}:states:${r.region}:${r.account}:stateMachine:${r.id}`,
  'AWS::DynamoDB::Table': (r) => `arn:${r.partition}:dynamodb:${r.region}:${r.account}:table/${r.id}`,
  'AWS::S3::Bucket': (r) => `arn:${r.partition}:s3:::${r.id.toLowerCase()}`,
  'AWS::SQS::Queue': (r) => `arn:${r.partition}:sqs:${r.region}:${r.account}:${r.id}`,
};
/** Resource types whose Ref is their ARN (the rest return a name or an id). */
const REF_IS_ARN = new Set(['AWS::SNS::Topic', 'AWS::Batch::JobQueue', 'AWS::Batch::JobDefinition', 'AWS::StepFunctions::StateMachine']);

class Resolver {
  private readonly partition: string;
  private readonly region: string;
  private readonly account: string;

  constructor(
    private readonly resources: Record<string, TemplateResource>,
    private readonly options: RenderAslOptions,
    private readonly definitionSubstitutions: Record<string, unknown>,
  ) {
    this.partition = options.partition ?? 'aws';
    this.region = options.region ?? 'local';
    this.account = options.accountId ?? '000000000000';
  }

  resolve(value: unknown, where: string): Json {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, `${where}[${i}]`));
    if (typeof value !== 'object') throw new Error(`renderAsl: unexpected ${typeof value} at ${where}`);
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' || key.startsWith('Fn::')) return this.intrinsic(key, arg, where);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, `${where}.${k}`)]));
  }

  /** Replaces `${Name}` DefinitionSubstitutions in the rendered text. */
  substitute(text: string): string {
    return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
      if (!Object.prototype.hasOwnProperty.call(this.definitionSubstitutions, name)) return whole;
      return String(this.resolve(this.definitionSubstitutions[name], `DefinitionSubstitutions.${name}`));
    });
  }

  private intrinsic(name: string, arg: unknown, where: string): Json {
    switch (name) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? (arg as unknown[]).map(String) : String(arg).split('.', 2);
        return this.getAtt(id ?? '', attribute ?? '');
      }
      case 'Fn::ImportValue': {
        const exportName = String(this.resolve(arg, `${where}.Fn::ImportValue`));
        return this.options.importValue?.(exportName) ?? exportName.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        const resolved = this.resolve(parts, `${where}.Fn::Join`);
        if (!Array.isArray(resolved)) throw new Error(`renderAsl: Fn::Join at ${where} has no list of parts`);
        return resolved.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const resolved = this.resolve(list, `${where}.Fn::Select`);
        const i = Number(this.resolve(index, `${where}.Fn::Select`));
        if (!Array.isArray(resolved) || resolved[i] === undefined) throw new Error(`renderAsl: Fn::Select at ${where} has no item ${i}`);
        return resolved[i]!;
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(this.resolve(source, `${where}.Fn::Split`)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
        return text.replace(/\$\{([^}]+)\}/g, (_whole, token: string) => {
          if (Object.prototype.hasOwnProperty.call(variables, token)) return String(this.resolve(variables[token], `${where}.Fn::Sub.${token}`));
          const [id, attribute] = token.split('.', 2);
          return String(attribute === undefined ? this.ref(id!) : this.getAtt(id!, attribute));
        });
      }
      default:
        throw new Error(`renderAsl: intrinsic function ${name} at ${where} is not supported`);
    }
  }

  private ref(id: string): string {
    switch (id) {
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.account;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'local-stack';
      case 'AWS::NoValue':
        throw new Error('renderAsl: AWS::NoValue inside a state machine definition is not supported');
    }
    const resource = this.resources[id];
    if (resource !== undefined && REF_IS_ARN.has(resource.Type)) return this.arn(id, resource.Type);
    return id;
  }

  private getAtt(id: string, attribute: string): string {
    const resource = this.resources[id];
    if (resource === undefined) throw new Error(`renderAsl: Fn::GetAtt names "${id}", which the template does not declare`);
    if (attribute === 'Arn') return this.arn(id, resource.Type);
    return `${id}.${attribute}`;
  }

  private arn(id: string, type: string): string {
    const format = ARN_FORMATS[type];
    const parts = { partition: this.partition, region: this.region, account: this.account, id };
    return format !== undefined ? format(parts) : `arn:${this.partition}:placeholder:${this.region}:${this.account}:${id}`;
  }
}
