package respond

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// TestApplyStops: a refused call stops the plan, recorded as failed, with
// the steps after it not done; a state changed since the plan stops it
// before any call; credentials for another account change nothing.
func TestApplyStops(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	// AWS's query-protocol answer when a call is denied, for one op
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op != "PutUserPolicy" {
			return false
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
			`<Message>User is not authorized to perform: iam:PutUserPolicy</Message></Error><RequestId>4a2b</RequestId></ErrorResponse>`))
		return true
	})
	c := clientsFor(front.URL)
	ic := c.IAM.(*iam.Client)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("mallory")})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(k.AccessKey.AccessKeyId)
	plan := func() *Plan {
		p, err := Begin(ctx, c, "case-1", "user mallory", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := PlanUser(ctx, c, p, "mallory"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	log := &memLog{}
	opts := ApplyOptions{Operator: casefile.Operator{User: "responder"}, Now: func() time.Time { return t0 }, Record: log.record, Kind: "contain"}

	t.Run("another account", func(t *testing.T) {
		p := plan()
		p.Account = "999999999999"
		if _, err := Apply(ctx, c, p, opts); !errors.Is(err, ErrWrongAccount) {
			t.Errorf("err = %v", err)
		}
		if keyStatus(t, c, "mallory", key) != "Active" || len(log.recs) != 0 {
			t.Error("something changed")
		}
	})
	t.Run("state changed", func(t *testing.T) {
		p := plan()
		p.Steps[0].Before = State{"status": "Expired"}
		res, err := Apply(ctx, c, p, opts)
		var sc *StateChangedError
		if !errors.As(err, &sc) || !errors.Is(err, ErrStopped) || len(res.Applied()) != 0 || len(log.recs) != 0 {
			t.Errorf("err = %v, outcomes %+v", err, res.Outcomes)
		}
	})
	t.Run("refused mid-plan", func(t *testing.T) {
		p := plan()
		res, err := Apply(ctx, c, p, opts)
		if !errors.Is(err, ErrStopped) || !isCode(err, "AccessDenied") {
			t.Fatalf("err = %v", err)
		}
		var status []string
		for _, o := range res.Outcomes {
			status = append(status, o.Step.API+"="+o.Status)
		}
		if got := strings.Join(status, " "); got != "UpdateAccessKey=applied PutUserPolicy=failed DeleteLoginProfile=skipped" &&
			got != "UpdateAccessKey=applied PutUserPolicy=failed DeleteLoginProfile=not done" {
			t.Errorf("outcomes: %s", got)
		}
		acts := log.actions(t)
		if len(acts) != 2 || acts[0].Status != "applied" || acts[1].Status != "failed" || !strings.Contains(acts[1].Error, "AccessDenied") || acts[1].Undo != nil {
			t.Errorf("audit: %+v", acts)
		}
		if keyStatus(t, c, "mallory", key) != "Inactive" {
			t.Error("the step before the failure was not applied")
		}
	})
}
