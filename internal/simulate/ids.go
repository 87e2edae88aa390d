package simulate

import "strconv"

// AWS identifier formats. Every identifier is derived from a hash so that the
// same principal, key or resource gets the same id wherever it shows up.

const (
	base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // AWS unique-id alphabet
	hexLower    = "0123456789abcdef"
	hexUpper    = "0123456789ABCDEF"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64         = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// fromAlphabet draws n characters of alphabet from a generator seeded by h.
func fromAlphabet(h uint64, n int, alphabet string) string {
	r := newRng(h)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.intn(len(alphabet))]
	}
	return string(b)
}

// accessKeyID returns an AKIA (long-term) or ASIA (temporary) key id:
// the prefix plus 16 characters of [A-Z2-7], as AWS issues them.
func accessKeyID(prefix string, h uint64) string {
	return prefix + fromAlphabet(h, 16, base32Upper)
}

// uniqueID returns an IAM unique id (AIDA user, AROA role, ...): the
// prefix plus 17 characters of [A-Z2-7].
func uniqueID(prefix string, h uint64) string {
	return prefix + fromAlphabet(h, 17, base32Upper)
}

// ec2ID returns an EC2 resource id with a 17-hex-digit suffix ("i-0a1b...").
func ec2ID(prefix string, h uint64) string {
	return prefix + "0" + fromAlphabet(h, 16, hexLower)
}

// appendUUID appends a random version-4 UUID.
func appendUUID(b []byte, r *rng) []byte {
	hi, lo := r.u64(), r.u64()
	hi = hi&^(0xf<<12) | 4<<12           // version 4
	lo = lo&^(0x3<<62) | uint64(0x2)<<62 // variant 10
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexLower[c>>4], hexLower[c&0xf])
	}
	return b
}

// uuidString returns a UUID as a string, for ids stored in the ground truth.
func uuidString(r *rng) string { return string(appendUUID(nil, r)) }

// appendS3RequestID appends the 16-upper-hex request id S3 uses.
func appendS3RequestID(b []byte, r *rng) []byte {
	v := r.u64()
	for i := 0; i < 16; i++ {
		b = append(b, hexUpper[(v>>(60-4*i))&0xf])
	}
	return b
}

// appendAmzID2 appends an x-amz-id-2 host id: 76 base64 characters.
func appendAmzID2(b []byte, r *rng) []byte {
	for i := 0; i < 76; i += 10 {
		v := r.u64()
		for j := 0; j < 10 && i+j < 76; j++ {
			b = append(b, b64[(v>>(6*j))&63])
		}
	}
	return b
}

// ipv4 formats four octets.
func ipv4(a, b, c, d int) string {
	return strconv.Itoa(a) + "." + strconv.Itoa(b) + "." + strconv.Itoa(c) + "." + strconv.Itoa(d)
}

// awsPublicIP returns a deterministic address inside ranges AWS announces
// for EC2 and Lambda (3.x, 18.x, 34.x, 52.x, 54.x), used for workloads that
// call AWS from inside AWS.
func awsPublicIP(h uint64, region int) string {
	r := newRng(h)
	var first int
	switch regions[region] {
	case "eu-west-1":
		first = pick(&r, []int{34, 52, 54, 18})
	default:
		first = pick(&r, []int{3, 18, 34, 44, 52, 54})
	}
	return ipv4(first, r.between(16, 250), r.between(0, 255), r.between(1, 254))
}
