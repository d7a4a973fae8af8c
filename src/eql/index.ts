/**
 * Public API of the EQL core: parse, compile, match. Pure logic; no Elasticsearch, no I/O.
 */
export type * from './ast.js';
export type * from './compiled.js';
export { EqlError } from './errors.js';
export type { EqlErrorInit, EqlErrorKind } from './errors.js';
export { parseExpression, parseQuery } from './parser.js';
export { compileExpression, compileQuery, keyId } from './compile.js';
export { SequenceMatcher } from './sequence.js';
export type { SequenceMatch, SequenceMatcherOptions, SequenceState, SequenceStats } from './sequence.js';
export { runSample } from './sample.js';
export type { SampleMatch, SampleOptions } from './sample.js';
export { ES_DEFAULT_SIZE, applyLimits, evaluate, sortByOrdinal } from './evaluate.js';
export type { EvalResult, EvaluateOptions } from './evaluate.js';
