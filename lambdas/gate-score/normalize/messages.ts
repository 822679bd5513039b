/**
 * Chat messages in the shapes producers actually send, normalised to the Trace's `{role, content}`:
 *   - OpenAI / Langfuse style: `{role, content}` where content is a string, null, or a list of parts
 *     (`{type: 'text', text}`, `{type: 'input_text' | 'output_text', text}`);
 *   - OpenTelemetry GenAI style: `{role, parts: [{type: 'text', content}, {type: 'tool_call', ...},
 *     {type: 'tool_call_response', response | result}]}`.
 * Non-text parts (images, audio, tool-call requests) carry no text to train on and are skipped; tool
 * responses become the tool message's text so the conversation stays complete.
 */
import type { Message } from '../trace';
import { NormalizeFailure } from './errors';
import { isObject, own, parseJsonText, stringifyValue } from './values';

/** Most messages accepted in one conversation (the Trace schema's limit), checked before mapping. */
export const MAX_MESSAGES = 500;
/** Most parts read from one message. */
const MAX_PARTS = 1_000;
/** Most documents read from one retrieval (the Trace schema's retrieved_contexts limit). */
export const MAX_DOCUMENTS = 200;

/**
 * Role spellings mapped to the Trace's four roles. `developer` is OpenAI's newer name for the system
 * role; `human`/`ai` are LangChain's; `function` is OpenAI's legacy tool role. None of them is ambiguous.
 */
const ROLE_ALIASES: Readonly<Record<string, Message['role']>> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  ai: 'assistant',
  model: 'assistant',
  tool: 'tool',
  function: 'tool',
};

/** Maps a role spelling, or throws naming the path. */
export function normaliseRole(value: unknown, path: string): Message['role'] {
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (Object.prototype.hasOwnProperty.call(ROLE_ALIASES, lower)) {
      const role = ROLE_ALIASES[lower];
      if (role !== undefined) return role;
    }
  }
  throw new NormalizeFailure('invalid_field', `${path}: expected a role of system, user, assistant or tool`);
}

/** The text of one part, or undefined for a part that carries no text (image, tool-call request, ...). */
function partText(part: unknown, path: string): string | undefined {
  if (typeof part === 'string') return part;
  if (!isObject(part)) throw new NormalizeFailure('invalid_field', `${path}: expected a content part object`);
  const type = own(part, 'type');
  if (type === 'text' || type === 'input_text' || type === 'output_text') {
    // OpenAI parts carry `text`; OTel parts carry `content`.
    const text = own(part, 'text') ?? own(part, 'content');
    if (typeof text !== 'string') throw new NormalizeFailure('invalid_field', `${path}: a text part needs a string text/content`);
    return text;
  }
  if (type === 'tool_call_response') {
    // semconv renamed `result` to `response`; both are in the wild.
    return stringifyValue(own(part, 'response') ?? own(part, 'result'), `${path}.response`) ?? '';
  }
  return undefined;
}

/** Joins the text parts of a content list; undefined when the list holds no text part at all. */
export function partsText(parts: readonly unknown[], path: string): string | undefined {
  if (parts.length > MAX_PARTS) throw new NormalizeFailure('invalid_field', `${path}: expected at most ${MAX_PARTS} parts`);
  const texts: string[] = [];
  parts.forEach((part, i) => {
    const text = partText(part, `${path}[${i}]`);
    if (text !== undefined) texts.push(text);
  });
  return texts.length === 0 ? undefined : texts.join('\n');
}

/** The text of a message-like object's `content` (string, null, or parts) or OTel `parts`. */
export function messageText(message: Readonly<Record<string, unknown>>, path: string): string | undefined {
  const content = own(message, 'content');
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return partsText(content, `${path}.content`);
  if (content !== undefined && content !== null) throw new NormalizeFailure('invalid_field', `${path}.content: expected a string or a list of parts`);
  const parts = own(message, 'parts');
  if (Array.isArray(parts)) return partsText(parts, `${path}.parts`);
  if (parts !== undefined && parts !== null) throw new NormalizeFailure('invalid_field', `${path}.parts: expected a list of parts`);
  return undefined;
}

/** True when the value looks like a chat message (has a role and content or parts). */
export function isMessageLike(value: unknown): value is Readonly<Record<string, unknown>> {
  return isObject(value) && typeof own(value, 'role') === 'string' && (own(value, 'content') !== undefined || own(value, 'parts') !== undefined || own(value, 'tool_calls') !== undefined);
}

/**
 * Normalises a list of chat messages. A message without text (an assistant turn that only requested
 * tools) keeps its place with empty content, so turn order is preserved for training.
 */
export function normaliseMessages(list: readonly unknown[], path: string): Message[] {
  if (list.length > MAX_MESSAGES) throw new NormalizeFailure('invalid_field', `${path}: expected at most ${MAX_MESSAGES} messages`);
  return list.map((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (!isObject(item)) throw new NormalizeFailure('invalid_field', `${itemPath}: expected a message object with role and content`);
    const role = normaliseRole(own(item, 'role'), `${itemPath}.role`);
    return { role, content: messageText(item, itemPath) ?? '' };
  });
}

/**
 * Document texts from a retrieval result: a list of strings, LangChain Documents (`page_content` /
 * `pageContent`), or objects with `content` / `text` (OTel `gen_ai.retrieval.documents` entries carry
 * `content` when content capture is on), possibly wrapped as `{documents: [...]}` or as a JSON string.
 * A document object without any text (ids and scores only, content capture off) has nothing to ground
 * an answer on and is skipped.
 */
export function documentTexts(value: unknown, path: string, unwrapped = false): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') {
    const parsed = unwrapped ? undefined : parseJsonText(value, path);
    return parsed === undefined ? [value] : documentTexts(parsed, path, true);
  }
  if (isObject(value)) {
    const documents = own(value, 'documents');
    if (Array.isArray(documents)) return documentTexts(documents, `${path}.documents`, true);
  }
  if (!Array.isArray(value)) throw new NormalizeFailure('invalid_field', `${path}: expected a list of documents`);
  if (value.length > MAX_DOCUMENTS) throw new NormalizeFailure('invalid_field', `${path}: expected at most ${MAX_DOCUMENTS} documents`);
  const texts: string[] = [];
  value.forEach((doc, i) => {
    if (typeof doc === 'string') {
      texts.push(doc);
      return;
    }
    if (!isObject(doc)) throw new NormalizeFailure('invalid_field', `${path}[${i}]: expected a document string or object`);
    for (const key of ['page_content', 'pageContent', 'content', 'text']) {
      const text = own(doc, key);
      if (typeof text === 'string') {
        texts.push(text);
        return;
      }
    }
  });
  return texts;
}
