package snapshot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestSelect(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{"all, in the list's order", []string{"org", "ec2", "s3", "iam"}, []string{"iam", "s3", "ec2", "org"}, ""},
		{"one", []string{" s3 "}, []string{"s3"}, ""},
		{"unknown", []string{"iam", "guardduty"}, nil, `unknown snapshot source "guardduty" (known: iam, s3, ec2, org)`},
		{"twice", []string{"iam", "iam"}, nil, `snapshot source "iam" named twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("Select = %v, want %v", names, tt.want)
			}
		})
	}
}

// TestCollectorsActions checks each collector's IAM actions: sorted,
// unique, of its own service.
func TestCollectorsActions(t *testing.T) {
	prefix := map[string]string{"iam": "iam:", "s3": "s3:", "ec2": "ec2:", "org": "organizations:"}
	for _, c := range Collectors {
		if !slices.IsSorted(c.Actions) || len(slices.Compact(slices.Clone(c.Actions))) != len(c.Actions) || c.Version == "" || c.Run == nil {
			t.Errorf("%s: actions %v not sorted and unique, or no version or run", c.Name, c.Actions)
		}
		for _, a := range c.Actions {
			if !strings.HasPrefix(a, prefix[c.Name]) {
				t.Errorf("%s: action %s of another service", c.Name, a)
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{Stamp: testStamp}, {Account: testAccount}, {Account: "..", Stamp: testStamp}, {Account: testAccount, Stamp: "a/b"}} {
		if _, err := IAM(t.Context(), nil, o, nil); err == nil {
			t.Errorf("IAM accepted options %+v", o)
		}
	}
}

func TestForEach(t *testing.T) {
	var inFlight, most atomic.Int32
	err := forEach(t.Context(), 2, []int{1, 2, 3, 4, 5, 6}, func(ctx context.Context, i int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		return nil
	})
	if err != nil || most.Load() > 2 {
		t.Fatalf("forEach: %v, %d at once (limit 2)", err, most.Load())
	}
	boom := errors.New("boom")
	var ran atomic.Int32
	err = forEach(t.Context(), 1, []int{1, 2, 3}, func(ctx context.Context, i int) error {
		ran.Add(1)
		if i == 1 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || ran.Load() != 1 {
		t.Fatalf("forEach after an error: %v, ran %d, want boom after 1", err, ran.Load())
	}
}
