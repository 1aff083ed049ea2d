import { describe, expect, it } from '@jest/globals';
import { fanOutTargets } from '../tasks/fan-out-rule';
import { INGEST_BATCH_FUNCTION } from './ingest.functions';

describe('the ingest function', () => {
  it('fans a stored message out to the connections the one fan-out rule names', () => {
    // The function's text is deployed by migrations, so it cannot interpolate the rule: it writes it out.
    expect(INGEST_BATCH_FUNCTION).toContain(`FROM inserted n, connections cn WHERE ${fanOutTargets('cn')}\n`);
  });
});
