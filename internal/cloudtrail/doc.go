// Package cloudtrail reads CloudTrail evidence in every shape responders are
// handed it: trail log files ({"Records":[...]}), `aws cloudtrail
// lookup-events` output, JSON Lines exports, JSON arrays of events, and digest
// files with their metadata sidecars.
//
// Files are attacker-reachable input, so the package is built as a streaming
// splitter (Decoder) that never holds more than one record in memory, names
// the byte offset and record index of every problem, and lets the caller go
// on after a bad record. Decoding a record into typed fields (ParseEvent) is a
// separate step so callers can run it in parallel.
package cloudtrail
