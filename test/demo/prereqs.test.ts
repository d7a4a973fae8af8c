/** The demo's "what to do next" when the local node cannot run. */
import { describe, expect, it } from 'vitest';
import { prerequisiteProblem } from '../../scripts/demo/prereqs.js';

describe('prerequisiteProblem', () => {
  it('is silent when Java and Maven (or a downloaded distribution) are there', () => {
    expect(prerequisiteProblem({ java: true, mvn: true, cachedDistribution: false })).toBeNull();
    expect(prerequisiteProblem({ java: true, mvn: false, cachedDistribution: true })).toBeNull();
  });

  it('names what is missing and the packages that provide it', () => {
    const both = prerequisiteProblem({ java: false, mvn: false, cachedDistribution: false })!;
    expect(both.message).toContain('a JDK and Maven');
    expect(both.next).toContain('apt-get install -y openjdk-17-jdk-headless maven');
    const mvn = prerequisiteProblem({ java: true, mvn: false, cachedDistribution: false })!;
    expect(mvn.message).toContain('needs Maven');
    expect(mvn.message).not.toContain('JDK');
    expect(mvn.next).toContain('apt-get install -y maven');
  });

  it('always offers ES_URL as the way around a local node', () => {
    expect(prerequisiteProblem({ java: false, mvn: true, cachedDistribution: false })!.next).toContain('ES_URL=');
  });
});
