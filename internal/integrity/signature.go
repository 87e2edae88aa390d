package integrity

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Algorithm names CloudTrail writes. Anything else makes a digest invalid:
// a checker that does not know an algorithm cannot vouch for what it
// protects.
const (
	SignatureAlgorithm = "SHA256withRSA" // digestSignatureAlgorithm and the signature-algorithm metadata
	HashAlgorithm      = "SHA-256"       // previousDigestHashAlgorithm and logFiles[].hashAlgorithm
)

// knownSignatureAlgorithm accepts SHA256withRSA, and the bare "SHA256"
// the AWS CLI's own tests put in the signature-algorithm metadata, in any
// letter case: both name RSA PKCS#1 v1.5 over SHA-256, the only signature
// CloudTrail makes.
func knownSignatureAlgorithm(name string) bool {
	return strings.EqualFold(name, SignatureAlgorithm) || strings.EqualFold(name, "SHA256")
}

func knownHashAlgorithm(name string) bool { return strings.EqualFold(name, HashAlgorithm) }

// isSHA256Hex reports whether s is 64 hex digits.
func isSHA256Hex(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// usable reports whether a log file entry can vouch for a log file.
func (lf *LogFile) usable() bool {
	return knownHashAlgorithm(lf.HashAlgorithm) && isSHA256Hex(lf.HashValue)
}

// check verifies one digest on its own, before the chain is walked: where
// it sits against where CloudTrail wrote it, the algorithm names, and its
// signature with the public key it names.
func check(it *digestItem, kr keyring) {
	d := it.d
	if d == nil {
		return // its read error is its problem
	}
	if !matchKey(d.Object, it.key) {
		it.problem(ProblemMoved, "found at %s, but CloudTrail wrote it to %s", it.key, d.Object)
	}
	if it.bucket != "" && it.bucket != d.Bucket {
		it.problem(ProblemMoved, "acquired from bucket %s, but CloudTrail wrote it to bucket %s", it.bucket, d.Bucket)
	}

	var unknown []string
	if d.SignatureAlgorithm != "" && !knownSignatureAlgorithm(d.SignatureAlgorithm) {
		unknown = append(unknown, fmt.Sprintf("digestSignatureAlgorithm %q", d.SignatureAlgorithm))
	}
	if alg, ok := it.meta[MetaSignatureAlgorithm]; ok && !knownSignatureAlgorithm(alg) {
		unknown = append(unknown, fmt.Sprintf("signature-algorithm metadata %q", alg))
	}
	if d.PreviousSignature != nil && !knownHashAlgorithm(d.PreviousHashAlgo) {
		unknown = append(unknown, fmt.Sprintf("previousDigestHashAlgorithm %q", d.PreviousHashAlgo))
	}
	badAlg, badHash := map[string]int{}, 0
	for _, lf := range d.LogFiles {
		switch {
		case !knownHashAlgorithm(lf.HashAlgorithm):
			badAlg[lf.HashAlgorithm]++
		case !isSHA256Hex(lf.HashValue):
			badHash++
		}
	}
	for _, alg := range sortedKeys(badAlg) {
		unknown = append(unknown, fmt.Sprintf("logFiles hashAlgorithm %q (%d log files)", alg, badAlg[alg]))
	}
	if len(unknown) > 0 {
		it.problem(ProblemUnknownAlgorithm, "unknown %s", strings.Join(unknown, ", "))
	}
	if badHash > 0 {
		it.problem(ProblemFormat, "%d logFiles entries have a hashValue that is not a hex SHA-256", badHash)
	}

	sig := strings.TrimSpace(it.meta[MetaSignature])
	if sig == "" {
		why := "no signature metadata (none recorded at acquisition, no " + SidecarSuffix + " sidecar beside it)"
		if it.sidecarErr != "" {
			why = "no signature metadata (its sidecar could not be read: " + it.sidecarErr + ")"
		}
		it.problem(ProblemNoSignature, "%s", why)
		return
	}
	raw, err := hex.DecodeString(sig)
	if err != nil {
		it.problem(ProblemBadSignature, "the signature metadata is not hex")
		return
	}
	keys := kr.lookup(d.PublicKeyFingerprint)
	if len(keys) == 0 {
		// CloudTrail signs each region's digests with that region's key,
		// as the AWS CLI's validate-logs also assumes
		region := ""
		if it.name.Region != "" {
			region = " (" + it.name.Region + ")"
		}
		it.problem(ProblemUnknownKey, "no public key with fingerprint %s was given (add the `aws cloudtrail list-public-keys` output of the digest's region%s, or use verify --fetch-keys)",
			d.PublicKeyFingerprint, region)
		return
	}
	sum := sha256.Sum256([]byte(d.StringToSign()))
	for _, k := range keys {
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], raw) == nil {
			it.sigOK = true
			return
		}
	}
	it.problem(ProblemBadSignature, "signature verification failed with public key %s", d.PublicKeyFingerprint)
}
