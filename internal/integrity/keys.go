package integrity

import (
	"bytes"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// PublicKey is one of CloudTrail's digest signing keys, as `aws cloudtrail
// list-public-keys` lists them (keys are per region; pass the lists of
// every region the trails deliver from).
type PublicKey struct {
	// Fingerprint is the hex fingerprint digests name their key by
	// (digestPublicKeyFingerprint), compared regardless of letter case.
	Fingerprint string
	// ValidityStart and ValidityEnd are when AWS signed with the key (zero
	// when not given). They are reported, not enforced: a digest names its
	// key, and the signature decides.
	ValidityStart, ValidityEnd time.Time
	Key                        *rsa.PublicKey
}

// KeyError is a key of a list that could not be used.
type KeyError struct {
	Index       int // position in PublicKeyList, counting across documents
	Fingerprint string
	Err         error
}

// Error names the key and what is wrong with it.
func (e *KeyError) Error() string {
	return fmt.Sprintf("public key %d (fingerprint %q): %v", e.Index, e.Fingerprint, e.Err)
}

// Unwrap returns what is wrong with the key.
func (e *KeyError) Unwrap() error { return e.Err }

// ParsePublicKeys reads the output of `aws cloudtrail list-public-keys`:
// {"PublicKeyList": [{"Value": "<base64 DER>", "Fingerprint": "<hex>",
// "ValidityStartTime": ..., "ValidityEndTime": ...}]}, or several such
// documents one after another (one per region). Values may be PKCS#1
// RSAPublicKey or PKIX SubjectPublicKeyInfo DER; times ISO 8601 strings or
// epoch seconds. A key without a Fingerprint gets the hex MD5 of its DER.
//
// It returns every key it could read; the error, if any, joins a
// *KeyError for each key it could not (which no digest can then be
// verified with) or is a *ParseError when the document itself is broken.
func ParsePublicKeys(r io.Reader) ([]PublicKey, error) {
	dec := json.NewDecoder(r)
	var keys []PublicKey
	var errs []error
	index := 0
	for {
		var doc struct {
			PublicKeyList *[]struct {
				Value             string
				Fingerprint       string
				ValidityStartTime json.RawMessage
				ValidityEndTime   json.RawMessage
			}
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &se):
				err = &ParseError{Offset: se.Offset, Err: fmt.Errorf("%w: %v", ErrSyntax, se)}
			case errors.As(err, &te):
				err = &ParseError{Offset: te.Offset, Field: te.Field, Err: fmt.Errorf("%w: %s where %s was expected", ErrFormat, te.Value, te.Type)}
			default:
				err = &ParseError{Offset: dec.InputOffset(), Err: err}
			}
			return keys, errors.Join(append(errs, err)...)
		}
		if doc.PublicKeyList == nil {
			return keys, errors.Join(append(errs, &ParseError{Offset: dec.InputOffset(), Field: "PublicKeyList",
				Err: fmt.Errorf("%w: absent (not list-public-keys output?)", ErrFormat)})...)
		}
		for _, k := range *doc.PublicKeyList {
			pk, err := publicKey(k.Value, k.Fingerprint, k.ValidityStartTime, k.ValidityEndTime)
			if err != nil {
				errs = append(errs, &KeyError{Index: index, Fingerprint: k.Fingerprint, Err: err})
			} else if !hasKey(keys, pk) {
				keys = append(keys, pk)
			}
			index++
		}
	}
	return keys, errors.Join(errs...)
}

func publicKey(value, fingerprint string, start, end json.RawMessage) (PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(value), ""))
	if err != nil {
		return PublicKey{}, fmt.Errorf("the key's Value is not base64: %w", err)
	}
	key, err := parseRSAPublicKey(der)
	if err != nil {
		return PublicKey{}, err
	}
	pk := PublicKey{Fingerprint: strings.ToLower(strings.TrimSpace(fingerprint)), Key: key}
	if pk.Fingerprint == "" {
		sum := md5.Sum(der)
		pk.Fingerprint = hex.EncodeToString(sum[:])
	}
	if pk.ValidityStart, err = keyTime(start); err != nil {
		return PublicKey{}, fmt.Errorf("ValidityStartTime: %w", err)
	}
	if pk.ValidityEnd, err = keyTime(end); err != nil {
		return PublicKey{}, fmt.Errorf("ValidityEndTime: %w", err)
	}
	return pk, nil
}

// parseRSAPublicKey reads PKCS#1 (what ListPublicKeys returns) or PKIX DER.
func parseRSAPublicKey(der []byte) (*rsa.PublicKey, error) {
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("the key's Value is neither a PKCS#1 nor a PKIX RSA public key")
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key's Value is a %T, not an RSA public key", k)
	}
	return rk, nil
}

// keyTime reads a time as the AWS CLI prints it (ISO 8601) or as the API
// sends it (epoch seconds).
func keyTime(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
	}
	secs, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || secs < 0 || secs > 1e11 {
		return time.Time{}, fmt.Errorf("%s is neither a time nor epoch seconds", raw)
	}
	whole := int64(secs)
	return time.Unix(whole, int64((secs-float64(whole))*1e9)).UTC().Round(time.Millisecond), nil
}

func hasKey(keys []PublicKey, k PublicKey) bool {
	for _, o := range keys {
		if o.Fingerprint == k.Fingerprint && o.Key.Equal(k.Key) {
			return true
		}
	}
	return false
}

// keyring finds keys by fingerprint.
type keyring map[string][]*rsa.PublicKey

func newKeyring(keys []PublicKey) keyring {
	kr := keyring{}
	for _, k := range keys {
		if k.Key != nil {
			fp := strings.ToLower(strings.TrimSpace(k.Fingerprint))
			kr[fp] = append(kr[fp], k.Key)
		}
	}
	return kr
}

func (kr keyring) lookup(fingerprint string) []*rsa.PublicKey {
	return kr[strings.ToLower(strings.TrimSpace(fingerprint))]
}
