package simulate

import (
	"strconv"
	"time"
)

// Hand-rolled JSON appenders. encoding/json would need reflection and an
// allocation per record; ten million records at ~100k/s leave no room for
// either, and CloudTrail's key order matters to readers of the files.

// sep appends a comma unless b is at the start of an object or array.
func sep(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	return b
}

// key appends `"k":` after a separator if needed.
func key(b []byte, k string) []byte {
	b = sep(b)
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// jstr appends a JSON string, escaping what JSON requires.
func jstr(b []byte, s string) []byte {
	b = append(b, '"')
	b = escape(b, s)
	return append(b, '"')
}

// escape appends s with JSON string escaping, without quotes.
func escape(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// kstr appends `"k":"v"`.
func kstr(b []byte, k, v string) []byte { return jstr(key(b, k), v) }

// kraw appends `"k":v` with v already JSON.
func kraw(b []byte, k, v string) []byte { return append(key(b, k), v...) }

// kint appends `"k":n`.
func kint(b []byte, k string, n int64) []byte { return strconv.AppendInt(key(b, k), n, 10) }

// kbool appends `"k":true|false`.
func kbool(b []byte, k string, v bool) []byte { return strconv.AppendBool(key(b, k), v) }

// kobj opens `"k":{`; close it with append(b, '}').
func kobj(b []byte, k string) []byte { return append(key(b, k), '{') }

// karr opens `"k":[`; close it with append(b, ']').
func karr(b []byte, k string) []byte { return append(key(b, k), '[') }

// ktime appends `"k":"2026-03-14T09:12:33Z"`.
func ktime(b []byte, k string, unix int64) []byte {
	b = append(key(b, k), '"')
	b = appendTime(b, unix)
	return append(b, '"')
}

// appendTime formats a Unix time as CloudTrail does (second precision, UTC,
// "Z"). It is hand-written because it runs several times per record.
func appendTime(b []byte, unix int64) []byte {
	days := unix / 86400
	secs := unix - days*86400
	if secs < 0 {
		secs += 86400
		days--
	}
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(secs/3600))
	b = append(b, ':')
	b = append2(b, int(secs/60%60))
	b = append(b, ':')
	b = append2(b, int(secs%60))
	return append(b, 'Z')
}

// civil converts days since 1970-01-01 into a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

// appendDatePath appends "YYYY/MM/DD", the date folder of CloudTrail's S3
// layout.
func appendDatePath(b []byte, unix int64) []byte {
	days := unix / 86400
	if unix < 0 && unix%86400 != 0 {
		days--
	}
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '/')
	b = append2(b, m)
	b = append(b, '/')
	return append2(b, d)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// awsDate formats a time the way IAM and STS put dates in responseElements
// ("Mar 14, 2026, 2:58:12 AM").
func awsDate(unix int64) string {
	return time.Unix(unix, 0).UTC().Format("Jan 2, 2006, 3:04:05 PM")
}
