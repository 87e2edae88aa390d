package scope

import (
	"errors"
	"testing"
)

func TestNewSeed(t *testing.T) {
	tests := []struct {
		kind, value string
		ok          bool
	}{
		{"key", "AKIAIOSFODNN7EXAMPLE", true},
		{"key", "ASIAXYZ0123456789012", true},
		{"key", "akia-lower", false},
		{"principal", "arn:aws:iam::111122223333:user/dev", true},
		{"principal", "arn:aws:sts::111122223333:assumed-role/r/s", true},
		{"principal", "lambda.amazonaws.com", false},
		{"principal", "111122223333", false},
		{"ip", "203.0.113.9", true},
		{"ip", "2001:db8::1", true},
		{"ip", "config.amazonaws.com", false},
		{"ip", "fe80::1%eth0", false},
		{"account", "111122223333", false},
	}
	for _, tt := range tests {
		t.Run(tt.kind+":"+tt.value, func(t *testing.T) {
			s, err := NewSeed(tt.kind, tt.value)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadSeed)) {
				t.Fatalf("NewSeed = %+v, %v", s, err)
			}
			if tt.ok && (s.Kind != tt.kind || s.Value != tt.value) {
				t.Fatalf("NewSeed = %+v", s)
			}
		})
	}
}
