/**
 * Local stand-in for DynamoDB's UpdateItem, for the native `dynamodb:updateItem` Tasks of a state
 * machine (named so: nothing is sent anywhere). It executes the expressions the synthesized definition
 * carries rather than knowing what they mean, so a wrong expression fails locally as it would in AWS:
 * a missing `:value` or `#name`, an unused one (DynamoDB refuses those too), a SET of the key, a
 * list_append of a missing list, a failed condition (`DynamoDB.ConditionalCheckFailedException`).
 *
 * Only the subset the workflows use: `SET path = operand, ...` with operands `:value`, a top-level
 * path, `if_not_exists(path, operand)` and `list_append(operand, operand)`; conditions of
 * `attribute_exists` / `attribute_not_exists`, `=` and `<>`, `NOT`, `AND`, `OR` and parentheses.
 * Anything else is a ValidationException naming what is missing here.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LocalTaskError } from './asl-runner';

/** An item as DynamoDB's API spells it. */
export type Item = Record<string, AttributeValue>;

/** The UpdateItem parameters a `dynamodb:updateItem` Task passes. */
export interface UpdateItemInput {
  readonly TableName?: unknown;
  readonly Key?: unknown;
  readonly UpdateExpression?: unknown;
  readonly ConditionExpression?: unknown;
  readonly ExpressionAttributeNames?: unknown;
  readonly ExpressionAttributeValues?: unknown;
}

const invalid = (message: string): LocalTaskError => new LocalTaskError('DynamoDB.ValidationException', message);

type Token = { readonly kind: 'name' | 'value' | 'word' | 'punct'; readonly text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|[(),=]))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    pattern.lastIndex = at;
    const m = pattern.exec(expression);
    if (m === null) throw invalid(`cannot read the expression at "${expression.slice(at).trim()}" (the local engine reads a subset: see local/pipeline/local-dynamodb-update.ts)`);
    at = pattern.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'name', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'value', text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'word', text: m[3] });
    else tokens.push({ kind: 'punct', text: m[4]! });
  }
  return tokens;
}

type Operand =
  | { readonly op: 'value'; readonly ref: string }
  | { readonly op: 'path'; readonly attribute: string }
  | { readonly op: 'if_not_exists'; readonly attribute: string; readonly fallback: Operand }
  | { readonly op: 'list_append'; readonly first: Operand; readonly second: Operand };

type Condition =
  | { readonly op: 'exists' | 'not_exists'; readonly attribute: string }
  | { readonly op: '=' | '<>'; readonly left: Operand; readonly right: Operand }
  | { readonly op: 'not'; readonly inner: Condition }
  | { readonly op: 'and' | 'or'; readonly left: Condition; readonly right: Condition };

/** A recursive-descent reader over one expression, resolving `#names` as it goes and noting what it used. */
class Reader {
  private at = 0;
  private readonly tokens: Token[];

  constructor(
    expression: string,
    private readonly names: Readonly<Record<string, string>>,
    readonly usedNames: Set<string>,
    readonly usedValues: Set<string>,
  ) {
    this.tokens = tokenize(expression);
  }

  done(): boolean {
    return this.at >= this.tokens.length;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private next(what: string): Token {
    const token = this.tokens[this.at++];
    if (token === undefined) throw invalid(`the expression ends where ${what} was expected`);
    return token;
  }

  expect(text: string): void {
    const token = this.next(`"${text}"`);
    if (token.text.toUpperCase() !== text.toUpperCase()) throw invalid(`expected "${text}", found "${token.text}"`);
  }

  private isWord(text: string): boolean {
    const token = this.peek();
    return token !== undefined && token.kind === 'word' && token.text.toUpperCase() === text.toUpperCase();
  }

  /** A top-level attribute: `#name` (resolved) or a bare name. */
  path(): string {
    const token = this.next('an attribute');
    if (token.kind === 'name') {
      const resolved = this.names[token.text];
      if (resolved === undefined) throw invalid(`${token.text} is not in ExpressionAttributeNames`);
      this.usedNames.add(token.text);
      return resolved;
    }
    if (token.kind === 'word') return token.text;
    throw invalid(`expected an attribute, found "${token.text}"`);
  }

  operand(): Operand {
    const token = this.peek();
    if (token?.kind === 'value') {
      this.at++;
      this.usedValues.add(token.text);
      return { op: 'value', ref: token.text };
    }
    if (this.isWord('if_not_exists')) {
      this.at++;
      this.expect('(');
      const attribute = this.path();
      this.expect(',');
      const fallback = this.operand();
      this.expect(')');
      return { op: 'if_not_exists', attribute, fallback };
    }
    if (this.isWord('list_append')) {
      this.at++;
      this.expect('(');
      const first = this.operand();
      this.expect(',');
      const second = this.operand();
      this.expect(')');
      return { op: 'list_append', first, second };
    }
    return { op: 'path', attribute: this.path() };
  }

  /** `SET a = x, b = y`: the assignments in order. */
  update(): Array<{ readonly attribute: string; readonly value: Operand }> {
    const action = this.next('SET');
    if (action.text.toUpperCase() !== 'SET') throw invalid(`only SET updates are read locally; found "${action.text}"`);
    const assignments: Array<{ attribute: string; value: Operand }> = [];
    for (;;) {
      const attribute = this.path();
      this.expect('=');
      assignments.push({ attribute, value: this.operand() });
      if (this.peek()?.text !== ',') break;
      this.at++;
    }
    if (!this.done()) throw invalid(`unexpected "${this.peek()!.text}" in the update expression`);
    return assignments;
  }

  condition(): Condition {
    let left = this.conjunction();
    while (this.isWord('OR')) {
      this.at++;
      left = { op: 'or', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.term();
    while (this.isWord('AND')) {
      this.at++;
      left = { op: 'and', left, right: this.term() };
    }
    return left;
  }

  private term(): Condition {
    if (this.isWord('NOT')) {
      this.at++;
      return { op: 'not', inner: this.term() };
    }
    if (this.peek()?.text === '(') {
      this.at++;
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    for (const [word, op] of [['attribute_exists', 'exists'], ['attribute_not_exists', 'not_exists']] as const) {
      if (this.isWord(word)) {
        this.at++;
        this.expect('(');
        const attribute = this.path();
        this.expect(')');
        return { op, attribute };
      }
    }
    const left = this.operand();
    const comparator = this.next('= or <>');
    if (comparator.text !== '=' && comparator.text !== '<>') throw invalid(`only = and <> compare locally; found "${comparator.text}"`);
    return { op: comparator.text, left, right: this.operand() };
  }
}

function valueOf(operand: Operand, item: Item, values: Readonly<Record<string, AttributeValue>>, where: 'update' | 'condition'): AttributeValue | undefined {
  switch (operand.op) {
    case 'value': {
      const value = values[operand.ref];
      if (value === undefined) throw invalid(`${operand.ref} is not in ExpressionAttributeValues`);
      return value;
    }
    case 'path': {
      const value = item[operand.attribute];
      if (value === undefined && where === 'update') throw invalid(`the update refers to ${operand.attribute}, which the item does not have`);
      return value;
    }
    case 'if_not_exists':
      return item[operand.attribute] ?? valueOf(operand.fallback, item, values, where);
    case 'list_append': {
      const first = valueOf(operand.first, item, values, where);
      const second = valueOf(operand.second, item, values, where);
      if (first?.L === undefined || second?.L === undefined) throw invalid('list_append takes two lists');
      return { L: [...first.L, ...second.L] };
    }
  }
}

const same = (a: AttributeValue | undefined, b: AttributeValue | undefined): boolean => a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);

function holds(condition: Condition, item: Item, values: Readonly<Record<string, AttributeValue>>): boolean {
  switch (condition.op) {
    case 'exists':
      return item[condition.attribute] !== undefined;
    case 'not_exists':
      return item[condition.attribute] === undefined;
    case '=':
      return same(valueOf(condition.left, item, values, 'condition'), valueOf(condition.right, item, values, 'condition'));
    case '<>': {
      // A comparison with a missing attribute is false either way, as in DynamoDB.
      const left = valueOf(condition.left, item, values, 'condition');
      const right = valueOf(condition.right, item, values, 'condition');
      return left !== undefined && right !== undefined && !same(left, right);
    }
    case 'not':
      return !holds(condition.inner, item, values);
    case 'and':
      return holds(condition.left, item, values) && holds(condition.right, item, values);
    case 'or':
      return holds(condition.left, item, values) || holds(condition.right, item, values);
  }
}

function recordOf(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** The key attributes of an UpdateItem input, checked. */
export function keyOf(input: UpdateItemInput): Item {
  const key = recordOf(input.Key, 'Key') as Item;
  if (Object.keys(key).length === 0) throw invalid('Key is missing');
  for (const [name, value] of Object.entries(key)) {
    if (typeof value?.S !== 'string' || value.S === '') throw invalid(`key attribute ${name} must be a non-empty string`);
  }
  return key;
}

/**
 * The item after the update, from the item before it (undefined: none yet).
 *
 * @throws LocalTaskError `DynamoDB.ConditionalCheckFailedException` when the condition fails,
 *   `DynamoDB.ValidationException` for an input DynamoDB would refuse (or the local reader cannot read).
 */
export function applyUpdateItem(before: Item | undefined, input: UpdateItemInput): Item {
  const key = keyOf(input);
  if (typeof input.UpdateExpression !== 'string') throw invalid('UpdateExpression is missing');
  const names = recordOf(input.ExpressionAttributeNames, 'ExpressionAttributeNames') as Record<string, string>;
  const values = recordOf(input.ExpressionAttributeValues, 'ExpressionAttributeValues') as Record<string, AttributeValue>;
  const usedNames = new Set<string>();
  const usedValues = new Set<string>();
  const assignments = new Reader(input.UpdateExpression, names, usedNames, usedValues).update();
  let condition: Condition | undefined;
  if (input.ConditionExpression !== undefined) {
    if (typeof input.ConditionExpression !== 'string') throw invalid('ConditionExpression must be a string');
    const reader = new Reader(input.ConditionExpression, names, usedNames, usedValues);
    condition = reader.condition();
    if (!reader.done()) throw invalid('unexpected text after the condition');
  }
  const unusedNames = Object.keys(names).filter((n) => !usedNames.has(n));
  const unusedValues = Object.keys(values).filter((v) => !usedValues.has(v));
  if (unusedNames.length > 0) throw invalid(`ExpressionAttributeNames unused in the expressions: ${unusedNames.join(', ')}`);
  if (unusedValues.length > 0) throw invalid(`ExpressionAttributeValues unused in the expressions: ${unusedValues.join(', ')}`);
  const current: Item = before ?? {};
  if (condition !== undefined && !holds(condition, current, values)) throw new LocalTaskError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
  const after: Item = { ...current, ...key };
  for (const { attribute, value } of assignments) {
    if (attribute in key) throw invalid(`the update sets ${attribute}, which is part of the key`);
    // Every operand reads the item as it was before the update, as DynamoDB evaluates them.
    const evaluated = valueOf(value, current, values, 'update');
    if (evaluated === undefined) throw invalid(`${attribute} would be set to nothing`);
    after[attribute] = evaluated;
  }
  return after;
}

/**
 * An item as plain JSON, as the AWS SDK's document client hands it over (numbers as numbers), so local
 * and AWS readers parse the same shape. Only the types an UpdateItem here can write.
 */
export function plainItem(item: Item): Record<string, unknown> {
  const plain = (value: AttributeValue): unknown => {
    if (value.S !== undefined) return value.S;
    if (value.N !== undefined) return Number(value.N);
    if (value.BOOL !== undefined) return value.BOOL;
    if (value.NULL !== undefined) return null;
    if (value.L !== undefined) return value.L.map(plain);
    if (value.M !== undefined) return plainItem(value.M);
    throw new Error(`local item: attribute type ${Object.keys(value).join(', ')} is not read locally`);
  };
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, plain(value)]));
}
