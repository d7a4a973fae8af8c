import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, docWithSamples, renderSamples } from '../../scripts/render-samples.js';

describe('docs/notifications.md renderings', () => {
  it('match what the code renders today (refresh: npx tsx scripts/render-samples.ts --write)', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    expect(docWithSamples(doc)).toBe(doc);
  });

  it('the sample shows the hostile command line neutralised in both renderings', () => {
    const { emailText, slackJson } = renderSamples();
    expect(emailText).toContain('Command line: sh -c echo pwned\\r\\nBcc: x@evil.example <!channel> *urgent* `id`');
    expect(emailText.split('\n').some((l) => l.startsWith('Bcc:'))).toBe(false);
    expect(slackJson).toContain('&lt;!channel&gt;');
    expect(slackJson).not.toContain('<!channel>');
  });
});
