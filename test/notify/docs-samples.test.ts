import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { docWithSamples, renderSamples, SAMPLE_DOCS } from '../../scripts/render-samples.js';

describe('notification renderings in docs/notifications.md and README.md', () => {
  it.each(SAMPLE_DOCS)('%s matches what the code renders today (refresh: npx tsx scripts/render-samples.ts --write)', (file) => {
    const doc = readFileSync(file, 'utf8');
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
