// Package integrity verifies CloudTrail log files offline, the way
// `aws cloudtrail validate-logs` does online: digest files are checked
// against their RSA signatures (SHA256withRSA over AWS's string to sign),
// chained to one another through the hash and signature of the previous
// digest, and every log file a digest lists is hashed (SHA-256 of its
// uncompressed bytes) and compared.
//
// It works on evidence already collected (a case folder, a hand-made copy
// of a bucket), so it goes further than the CLI where evidence can be
// wrong in ways S3 cannot: a digest found somewhere other than where it
// says it was written is "moved"; the chain is walked with the previous
// digest actually present, not fetched by name; every chain of every
// account, region and trail is checked in one run; and log files in the
// evidence that no digest covers are reported as unverifiable rather than
// ignored.
//
// Verify never modifies or keeps the evidence: it reads each file once,
// in parallel, streaming log files through the hash. Problems with the
// evidence (a truncated gzip stream, a digest that is not JSON) are
// findings in the Report, named by file; Verify fails only when its
// context is cancelled. The Report is deterministic (sorted, UTC) and its
// JSON form is the output of `harrier verify --format json`.
package integrity
