// Package attack is the MITRE ATT&CK Enterprise catalogue that Harrier's
// Sigma rules are mapped to: the tactics in matrix order, every technique and
// sub-technique with the tactics it serves, and which of them an AWS
// investigation should expect to detect. It turns a rule's attack.* tags into
// tactic short names and technique ids, refusing a tag that names nothing in
// ATT&CK (a typo in a tag silently drops a rule from every coverage report),
// and builds the tactic-by-technique coverage matrix that shows where the
// rule pack has gaps.
//
// # Data
//
// enterprise.tsv holds ATT&CK Enterprise v18: the names and tactics of its
// 691 techniques and sub-techniques as released in v18.0 (the
// mitre-attack/attack-stix-data bundle, as SigmaHQ's pySigma also tabulates
// it for Sigma validation), and the IaaS platform flag as of v18.1, which has
// the same techniques with the same tactics. Technique ids are stable across
// releases; an id from v15–v17 that v18 still has means the same thing. Ids
// that ATT&CK revoked or deprecated before v18 (T1574.002 DLL Side-Loading,
// for one) are unknown here, as they are to ATT&CK.
//
// "Cloud" techniques, the ones the coverage matrix counts and lists as gaps,
// are those ATT&CK lists for the IaaS platform plus a few it files under
// other platforms that are common in AWS intrusions (the scope column of
// enterprise.tsv says which and why).
//
// # Licence
//
// ATT&CK is © The MITRE Corporation and is reproduced and distributed here
// with its permission: MITRE's terms of use grant a royalty-free licence to
// use, copy and distribute ATT&CK, commercially or not, provided the
// copyright notice and attribution are kept with every copy. ATT&CK® is a
// registered trademark of The MITRE Corporation.
package attack
