import { describe, expect, it } from 'vitest';
import { type InboundMessage, settlerOf } from './inbound-message.js';

function published() {
  const sent: [string, string][] = [];
  return {
    sent,
    publisher: {
      publish: (subject: string, payload: Uint8Array) => {
        sent.push([subject, new TextDecoder().decode(payload)]);
      },
    },
  };
}

const message = (reply?: string): InboundMessage => ({
  data: new Uint8Array(),
  subject: 's',
  seq: 1,
  reply,
  info: { deliveryCount: 1, stream: 'S', pending: 0 },
  ack: () => {
    throw new Error('the settler must not use the message');
  },
  nak: () => undefined,
  working: () => undefined,
  term: () => undefined,
});

describe('settlerOf', () => {
  it('settles through the reply subject with the replies JetStream expects, never through the message', () => {
    const { sent, publisher } = published();
    settlerOf(message('$JS.ACK.a'), publisher).ack();
    settlerOf(message('$JS.ACK.b'), publisher).nak();
    settlerOf(message('$JS.ACK.c'), publisher).nak(1500);
    settlerOf(message('$JS.ACK.d'), publisher).term('poison');
    settlerOf(message('$JS.ACK.e'), publisher).term();
    expect(sent).toEqual([
      ['$JS.ACK.a', '+ACK'],
      ['$JS.ACK.b', '-NAK'],
      ['$JS.ACK.c', '-NAK {"delay":1500000000}'],
      ['$JS.ACK.d', '+TERM poison'],
      ['$JS.ACK.e', '+TERM'],
    ]);
  });

  it('sends at most one final reply, and progress (working) only before it', () => {
    const { sent, publisher } = published();
    const settler = settlerOf(message('$JS.ACK.x'), publisher);
    settler.working();
    settler.ack();
    settler.ack();
    settler.nak();
    settler.term();
    settler.working();
    expect(sent).toEqual([
      ['$JS.ACK.x', '+WPI'],
      ['$JS.ACK.x', '+ACK'],
    ]);
  });

  it('leaves a message without a reply subject (a fake) to settle itself', () => {
    const { sent, publisher } = published();
    const fake = message(undefined);
    expect(settlerOf(fake, publisher)).toBe(fake);
    const blank = message('');
    expect(settlerOf(blank, publisher)).toBe(blank);
    expect(sent).toEqual([]);
  });
});
