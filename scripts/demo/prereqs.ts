/** What the local Elasticsearch node needs, and what to tell a newcomer when it is missing. */
export interface Found {
  java: boolean;
  mvn: boolean;
  /** A distribution zip already downloaded (then Maven is not needed). */
  cachedDistribution: boolean;
}

export interface Problem {
  message: string;
  next: string;
}

const ES_URL_HINT = 'or point the demo at a cluster you have:\n  ES_URL=https://host:9200 ES_USERNAME=elastic ES_PASSWORD=… npm run demo';

export function prerequisiteProblem(found: Found): Problem | null {
  const missing = [...(found.java ? [] : ['a JDK']), ...(found.mvn || found.cachedDistribution ? [] : ['Maven'])];
  if (missing.length === 0) return null;
  const packages = [...(found.java ? [] : ['openjdk-17-jdk-headless']), ...(found.mvn || found.cachedDistribution ? [] : ['maven'])];
  return {
    message: `the local Elasticsearch node needs ${missing.join(' and ')}: ${[
      ...(found.java ? [] : ['Java runs Elasticsearch (JDK 21+ gives 9.x, JDK 17 gives 8.19)']),
      ...(found.mvn || found.cachedDistribution ? [] : ['Maven downloads the distribution from Maven Central, once']),
    ].join('; ')}.`,
    next: `install ${packages.length > 1 ? 'them' : 'it'} (Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')}; macOS: brew install openjdk maven), then run "npm run demo" again; ${ES_URL_HINT}`,
  };
}
