// Package sigma reads Sigma rules, correlation rules and filters (Sigma
// specification v2, sigmahq.io) into a small AST that keeps the file and line
// each part came from. Detections are normalised into boolean expressions
// over leaf predicates (Match); what a predicate means on an event, and how
// it becomes SQL, is internal/detect's business.
//
// Anything the specification defines that this package cannot represent is
// an error naming the file and line, never silently dropped: a rule that
// loads is a rule that runs as written.
package sigma
