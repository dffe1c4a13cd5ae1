import type { TributaryError } from '../../errors.js';
import type { RecordOrigin } from '../record.js';
import type { OutgoingMessage } from '../transport/types.js';

/** Header names on every dead letter; the original headers are kept beside them. */
export const DEAD_LETTER_HEADERS = {
  code: 'tributary.error.code',
  message: 'tributary.error.message',
  stream: 'tributary.stream',
  topic: 'tributary.source.topic',
  partition: 'tributary.source.partition',
  offset: 'tributary.source.offset',
  timestamp: 'tributary.source.timestamp',
} as const;

/** The original key and value bytes, untouched, so the record can be inspected and replayed. */
export function deadLetter(topic: string, stream: string, origin: RecordOrigin, error: TributaryError): OutgoingMessage {
  return {
    topic,
    key: origin.rawKey,
    value: origin.rawValue,
    headers: {
      ...origin.headers,
      [DEAD_LETTER_HEADERS.code]: error.code,
      [DEAD_LETTER_HEADERS.message]: error.message.slice(0, 1000),
      [DEAD_LETTER_HEADERS.stream]: stream,
      [DEAD_LETTER_HEADERS.topic]: origin.topic,
      [DEAD_LETTER_HEADERS.partition]: String(origin.partition),
      [DEAD_LETTER_HEADERS.offset]: origin.offset,
      [DEAD_LETTER_HEADERS.timestamp]: String(origin.timestamp),
    },
  };
}
