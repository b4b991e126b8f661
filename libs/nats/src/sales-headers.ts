import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { Headers, SALES_SCHEMA } from '@tally/contracts';

/** The headers every message on the sales stream carries (the msg id goes in the publish options). */
export function salesMessageHeaders(requestId: string, saleCount: number): MsgHdrs {
  const h = headers();
  h.set(Headers.requestId, requestId);
  h.set(Headers.schema, SALES_SCHEMA);
  h.set(Headers.saleCount, String(saleCount));
  return h;
}
