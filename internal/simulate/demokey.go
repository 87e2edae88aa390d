package simulate

import (
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"
)

// demoKeyPEM is the PUBLIC, throw-away demo key the simulated trails sign
// their digest files with (see demokey/README.md). It is committed rather
// than generated so that digests, and their signatures, are byte-identical
// for a seed (RSA PKCS#1 v1.5 signing is deterministic); it is not a
// secret and protects nothing.
//
//go:embed demokey/public-demo-digest-key.pem
var demoKeyPEM []byte

// signer is the demo key with what digests and the key list say about it.
type signer struct {
	key         *rsa.PrivateKey
	der         []byte // PKCS#1 RSAPublicKey DER, as ListPublicKeys returns it
	fingerprint string // hex MD5 of der: digestPublicKeyFingerprint
}

var demoSigner = sync.OnceValues(func() (*signer, error) {
	blk, _ := pem.Decode(demoKeyPEM)
	if blk == nil {
		return nil, errors.New("demo key: no PEM block")
	}
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("demo key: %w", err)
	}
	der := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	sum := md5.Sum(der)
	return &signer{key: key, der: der, fingerprint: hex.EncodeToString(sum[:])}, nil
})

// PublicKeysFile is the name, under the folder given to Write, of the
// demo key's public half as `aws cloudtrail list-public-keys` prints it:
// what `harrier verify --public-keys` needs to check the simulated
// digests.
const PublicKeysFile = "public-keys.json"

// publicKeys renders the list-public-keys document for s, valid from from
// to until (the simulated period and the last digest's delivery).
func publicKeys(s *signer, from, until time.Time) ([]byte, error) {
	type entry struct {
		Value             string
		ValidityStartTime string
		ValidityEndTime   string
		Fingerprint       string
	}
	const iso = "2006-01-02T15:04:05+00:00" // as the AWS CLI prints times
	doc := struct{ PublicKeyList []entry }{[]entry{{
		Value:             base64.StdEncoding.EncodeToString(s.der),
		ValidityStartTime: from.UTC().Format(iso),
		ValidityEndTime:   until.UTC().Format(iso),
		Fingerprint:       s.fingerprint,
	}}}
	b, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("render public keys: %w", err)
	}
	return append(b, '\n'), nil
}
